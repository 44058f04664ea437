"""Self-tests of the fake Telegram Bot API, driven by the real python-telegram-bot.

Why: bot tests trust the fake to behave like Telegram; these tests pin the behaviours they rely
on (long polling, uploads and downloads, edits, privacy mode, 429s, callback queries) by running
PTB's own Application and Bot against it.
"""
