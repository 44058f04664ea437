"""Typed errors whose messages are written for end users.

Front ends (the bot, the CLI) show ``str(error)`` as it is, so every message says
what went wrong and what to do about it, and never leaks internals.
"""

from __future__ import annotations


class NSTError(Exception):
    """Base class for every error the engine raises on purpose."""


class InputImageError(NSTError):
    """An input image cannot be used; the message tells the user what to send instead."""


class NotAnImageError(InputImageError):
    pass


class CorruptImageError(InputImageError):
    pass


class FileTooLargeError(InputImageError):
    pass


class TooManyPixelsError(InputImageError):
    """Guards against decompression bombs: tiny files that expand to huge bitmaps."""


class ImageTooSmallError(InputImageError):
    pass


class SettingsError(NSTError, ValueError):
    """A setting is out of range or unknown; the message gives the allowed values."""


class WeightsError(NSTError):
    """Model weights are missing, unreadable or fail their checksum."""


class Cancelled(NSTError):
    """Raised out of ``stylize`` when ``should_stop`` asked it to stop."""

    def __init__(self, message: str = "Stopped on request.") -> None:
        super().__init__(message)
