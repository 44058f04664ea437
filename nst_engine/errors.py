"""Typed errors whose messages are written for end users.

Front ends (the bot, the CLI) show ``str(error)`` as it is, so every message says
what went wrong and what to do about it, and never leaks internals. Input errors also
carry a short ``reason`` for metrics and the ``details`` their message is built from, so
a front end can count them and, later, word them in the user's language.
"""

from __future__ import annotations

from typing import Any, ClassVar


class NSTError(Exception):
    """Base class for every error the engine raises on purpose."""


class InputImageError(NSTError):
    """An input image cannot be used; the message tells the user what to send instead.

    ``details`` holds the values the English message uses (``what`` names the image),
    so the message can be rebuilt in another language from ``reason`` and ``details``.
    They live in the instance ``__dict__``, so they survive pickling.
    """

    reason: ClassVar[str] = "input"

    def __init__(self, message: str, /, **details: Any) -> None:
        super().__init__(message)
        self.details: dict[str, Any] = details


class NotAnImageError(InputImageError):
    reason = "not_image"


class UnsupportedFormatError(NotAnImageError):
    """A real picture in a format we refuse to decode (ICO, PSD, HEIC, …)."""

    reason = "format"


class CorruptImageError(InputImageError):
    reason = "corrupt"


class FileTooLargeError(InputImageError):
    reason = "too_large"


class TooManyPixelsError(InputImageError):
    """Guards against decompression bombs: tiny files that expand to huge bitmaps.

    ``details`` has ``width`` and ``height`` unless the header was so far beyond any
    limit that the decoder refused to report them.
    """

    reason = "too_many_pixels"


class ImageTooSmallError(InputImageError):
    reason = "too_small"


class ImageTooThinError(InputImageError):
    """Strips and banners: chat apps refuse to show results past about 20:1."""

    reason = "thin"


class TooManyScansError(InputImageError):
    """A JPEG with so many progressive scans that each costs a decoding pass."""

    reason = "scans"


class DecodeTimeoutError(InputImageError):
    reason = "timeout"


class TooBigToProcessError(InputImageError):
    """Decoding needed more memory than the decoder may use."""

    reason = "memory"


class SettingsError(NSTError, ValueError):
    """A setting is out of range or unknown; the message gives the allowed values."""


class WeightsError(NSTError):
    """Model weights are missing, unreadable or fail their checksum."""


class Cancelled(NSTError):
    """Raised out of ``stylize`` when ``should_stop`` asked it to stop."""

    def __init__(self, message: str = "Stopped on request.") -> None:
        super().__init__(message)
