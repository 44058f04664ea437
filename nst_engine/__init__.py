"""Neural style transfer engine (Gatys et al.) with an AdaIN fast path."""

from .errors import (
    Cancelled,
    CorruptImageError,
    FileTooLargeError,
    ImageTooSmallError,
    InputImageError,
    NotAnImageError,
    NSTError,
    SettingsError,
    TooManyPixelsError,
    WeightsError,
)
from .images import ImageLimits, encode, load_image
from .pipeline import Result, stylize
from .progress import Progress
from .settings import Settings

__all__ = [
    "Cancelled", "CorruptImageError", "FileTooLargeError", "ImageLimits", "ImageTooSmallError",
    "InputImageError", "NSTError", "NotAnImageError", "Progress", "Result", "Settings",
    "SettingsError", "TooManyPixelsError", "WeightsError", "encode", "load_image", "stylize",
]
