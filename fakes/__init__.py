"""Local fakes of the services the bot talks to (Telegram Bot API, Discord), for tests and
benchmarks: the real client libraries talk to them over 127.0.0.1, never the network.

Test infrastructure, not part of the ``stylebot`` distribution; import it from the repository
root (pytest and ``python -m benchmarks...`` run from there).
"""
