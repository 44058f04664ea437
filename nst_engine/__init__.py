"""Neural style transfer engine (Gatys et al.) with an AdaIN fast path.

``stylize`` and ``Result`` pull in torch, so they are imported on first use (PEP 562):
``import nst_engine.images`` and the error classes stay light enough for a sandboxed
image decoder process.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    Cancelled,
    CorruptImageError,
    DecodeTimeoutError,
    FileTooLargeError,
    ImageTooSmallError,
    ImageTooThinError,
    InputImageError,
    NotAnImageError,
    NSTError,
    SettingsError,
    TooBigToProcessError,
    TooManyPixelsError,
    TooManyScansError,
    UnsupportedFormatError,
    WeightsError,
)
from .images import ImageLimits, encode, load_image
from .progress import Progress
from .settings import Settings

if TYPE_CHECKING:
    from .pipeline import Result, stylize

__all__ = [
    "Cancelled", "CorruptImageError", "DecodeTimeoutError", "FileTooLargeError", "ImageLimits",
    "ImageTooSmallError", "ImageTooThinError", "InputImageError", "NSTError", "NotAnImageError",
    "Progress", "Result", "Settings", "SettingsError", "TooBigToProcessError",
    "TooManyPixelsError", "TooManyScansError", "UnsupportedFormatError", "WeightsError",
    "encode", "load_image", "stylize",
]

_LAZY = {"Result": ".pipeline", "stylize": ".pipeline"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # later look-ups skip this hook
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
