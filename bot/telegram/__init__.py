"""Telegram front end (python-telegram-bot v22)."""

import os

# Opt in to PTB's future timedelta durations (RetryAfter.retry_after and friends) instead
# of the deprecated int form; our code reads both.
os.environ.setdefault("PTB_TIMEDELTA", "true")
