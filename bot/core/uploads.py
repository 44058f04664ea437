"""Users' uploads: a budget checked before anything is downloaded, sandboxed decoding, and
what a user is told when a file cannot be used."""

from __future__ import annotations

from nst_engine import FileTooLargeError, InputImageError
from nst_engine.images import ImageLimits
from nst_engine.settings import STYLE_HEADROOM

from ..config import LimitsConfig
from ..i18n import Text, _
from .decoding import Decoder
from .keyed import KeyedLocks
from .metrics import Metrics
from .pictures import Picture
from .ratelimit import SlidingWindow
from .who import Who

_MB = 1024 * 1024
FORMATS = "JPEG, PNG, WebP, GIF, BMP, TIFF, AVIF"


class DownloadError(InputImageError):
    """The platform's file server did not hand the upload over."""

    reason = "download"


class Uploads:
    def __init__(self, limits: LimitsConfig, metrics: Metrics) -> None:
        self.limits = limits
        self.metrics = metrics
        self.decoder = Decoder()
        #: pictures per user per minute, checked before a download: a pair per allowed
        #: submission, plus room for a mistake or two
        self._budget = SlidingWindow(2 * limits.submissions_per_minute + 2, 60.0)
        self._decoding: KeyedLocks[tuple[str, str]] = KeyedLocks()

    @property
    def max_bytes(self) -> int:
        """The most bytes of one upload the bot reads."""
        return int(self.limits.max_upload_mb * _MB)

    def allow(self, who: Who) -> bool:
        """Whether ``who`` may send another picture now: checked before anything is
        downloaded or decoded, so a flood costs the bot nothing."""
        return self._budget.allow(f"{who.platform}:{who.user_id}")

    async def decode(self, who: Who, data: bytes) -> Picture:
        """An upload as a ``Picture``, decoded in the sandbox at the largest size a job may
        need; raises ``InputImageError`` (counted in the metrics) for unusable files.

        One decode at a time per user: however many slow files one user sends, the other
        decoder processes stay free for everyone else.
        """
        limits = ImageLimits(max_bytes=self.max_bytes,
                             max_pixels=int(self.limits.max_megapixels * 1_000_000))
        try:
            async with self._decoding((who.platform, who.user_id)):
                return await self.decoder.decode(
                    data, limits, what="picture",
                    max_side=round(self.limits.max_size * STYLE_HEADROOM))
        except InputImageError as exc:
            self.refused(exc)
            raise

    def refused(self, error: InputImageError) -> None:
        """Count an upload refused before decoding (size or type from the metadata)."""
        self.metrics.refused(error.reason)

    async def close(self) -> None:
        await self.decoder.close()


def too_large(size: int, limit: int, *, at_least: bool = False) -> InputImageError:
    """An upload over the byte limit, by the size announced or (``at_least``) read."""
    return FileTooLargeError(f"{size} bytes over the limit of {limit}", megabytes=size / _MB,
                             max_megabytes=limit / _MB, at_least=at_least)


def refusal(error: InputImageError) -> Text:
    """What the user is told about an upload that cannot be used: why, and what to send."""
    d = error.details
    size = f"{d['width']}×{d['height']}" if "width" in d else ""
    match error.reason:
        case "too_large" if d.get("at_least"):
            return _("This picture is over {megabytes} MB; I can take at most {limit} MB. "
                     "Send a smaller or more compressed picture.",
                     megabytes=f"{d['megabytes']:.1f}", limit=f"{d['max_megabytes']:.0f}")
        case "too_large":
            return _("This picture is {megabytes} MB; I can take at most {limit} MB. Send a "
                     "smaller or more compressed picture.",
                     megabytes=f"{d['megabytes']:.1f}", limit=f"{d['max_megabytes']:.0f}")
        case "not_image" if d.get("name"):
            return _("{name} is not a picture. Send {formats}.", name=d["name"],
                     formats=FORMATS)
        case "not_image":
            return _("This is not a picture I can read. Send {formats}.", formats=FORMATS)
        case "format":
            return _("This picture is in {format} format, which I cannot read. Send "
                     "{formats}.", format=d.get("format", "?"), formats=FORMATS)
        case "too_many_pixels" if size:
            return _("This picture is {size} pixels; the limit is {limit} megapixels. Send a "
                     "smaller picture.", size=size, limit=f"{d['max_megapixels']:g}")
        case "too_many_pixels":
            return _("This picture has far too many pixels; the limit is {limit} megapixels. "
                     "Send a smaller picture.", limit=f"{d['max_megapixels']:g}")
        case "too_small":
            return _("This picture is only {size} pixels; it needs at least {side} on each "
                     "side. Send a bigger picture.", size=size, side=d["min_side"])
        case "thin":
            return _("This picture is too thin ({size} pixels): its long side may be at most "
                     "{ratio} times its short side. Crop it closer to a square and send it "
                     "again.", size=size, ratio=f"{d['max_aspect']:g}")
        case "scans":
            return _("This JPEG was saved in an unusual way ({scans} passes; at most {limit} "
                     "are allowed) and would take too long to open. Save it again as a "
                     "normal JPEG or as PNG and send it.", scans=d["scans"],
                     limit=d["max_scans"])
        case "timeout":
            return _("This picture took too long to open. Send a smaller picture, or save it "
                     "again as JPEG or PNG.")
        case "memory":
            return _("This picture needs more memory to open than I can give it. Send a "
                     "smaller picture.")
        case "download":
            return _("I couldn't download this picture just now. Please send it again.")
        case _:
            return _("This picture looks damaged or cut off and cannot be opened. Send it "
                     "again, or as another file.")
