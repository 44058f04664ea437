"""User-facing settings: one typed source of truth for the library, the CLI and the bot.

Each field carries its help text and allowed range in ``metadata`` so the CLI can build
its options from this class and front ends can explain a bad value without repeating
the limits.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from .errors import SettingsError

#: Style images are kept at most this much larger than they will be used, to bound memory.
STYLE_HEADROOM = 1.5

Preset = Literal["default", "seed", "fast"]
Precision = Literal["auto", "fp32", "bf16", "fp16"]
Init = Literal["auto", "content", "adain"]
OutputFormat = Literal["png", "jpeg"]


def option(default: Any, help: str, *, low: float | None = None, high: float | None = None,
           choices: tuple[str, ...] | None = None, cli: bool = True) -> Any:
    """A dataclass field with the metadata the CLI and validation read."""
    return field(default=default, metadata={
        "help": help, "low": low, "high": high, "choices": choices, "cli": cli})


@dataclass(frozen=True, kw_only=True)
class Settings:
    preset: Preset = option("default", "default: best quality per second (AdaIN start, "
                            "multi-scale L-BFGS); seed: the founding recipe (Adam, 1000 steps); "
                            "fast: AdaIN, about a second")
    size: int = option(512, "long side of the result in pixels (never larger than the "
                       "content image)", low=32, high=4096)
    steps: int | None = option(None, "optimiser iterations in total (default: the preset's)",
                               low=1, high=10000)
    strength: float = option(5.0, "style strength: 0 keeps the photo, 10 is mostly painting; "
                             "each point is about 1.6x more style weight", low=0.0, high=10.0)
    preserve_colors: bool = option(False, "keep the photo's colours, take only the "
                                   "painting's brushwork (luminance-only transfer)")
    style_scale: float = option(1.0, "size of the painting's brush strokes relative to the "
                                "result", low=0.1, high=4.0)
    style_weights: tuple[float, ...] | None = option(
        None, "blend weights, one per style image (default: equal)", low=0.0)
    init: Init = option("auto", "starting image: content, adain (the fast preview), or "
                        "auto (the preset's choice)")
    alpha: float = option(1.0, "AdaIN mix for the fast preset and the adain start (scaled "
                          "down further by a strength below 5)", low=0.0, high=1.0)
    precision: Precision = option("auto", "arithmetic: auto picks bf16/fp16 where measured "
                                  "safe, else fp32")
    weights: str = option("auto", "VGG19 weights: auto, normalised, torchvision, or a path "
                          "to a state_dict file")
    device: str = option("auto", "auto, cpu, cuda, cuda:N or mps")
    threads: int | None = option(None, "CPU threads for PyTorch (default: PyTorch's choice)",
                                 low=1, high=256)
    paint_size: int = option(
        1024, "results with a longer side are painted whole at this size or below (halving "
        "the requested size), then refined at each doubling up to full size in overlapping "
        "tiles against the whole image's style targets: memory stays bounded",
        low=128, high=4096)
    tile_size: int = option(512, "tile side for the full-size refinement of large results "
                            "(memory grows with its square)", low=128, high=2048)
    tile_steps: int | None = option(None, "optimiser steps per tile in that refinement "
                                    "(default: the preset's)", low=1, high=1000)
    preview_every: int | None = option(None, "steps between preview images in progress "
                                       "reports (0: none; default: the preset's)",
                                       low=0, high=10000)
    preview_seconds: float | None = option(
        None, "seconds between preview images instead of a step count: what a live view "
        "can show (the start image and the last step always get one)", low=0.0, high=3600.0)
    preview_size: int = option(256, "long side of preview images", low=16, high=1024)
    seed: int = option(0, "random seed, for reproducible results")
    format: OutputFormat = option("png", "output encoding", cli=False)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            check_value(f, getattr(self, f.name))

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def check_value(f: dataclasses.Field[Any], value: Any) -> None:
    """Raise SettingsError with the allowed values if ``value`` does not fit field ``f``."""
    meta = f.metadata
    allowed = literal_choices(f)
    if allowed and value not in allowed:
        raise SettingsError(f"{f.name} must be one of {', '.join(allowed)} (got {value!r}).")
    values = value if isinstance(value, tuple) else (value,)
    for v in values:
        if v is None or isinstance(v, (bool, str)):
            continue
        low, high = meta.get("low"), meta.get("high")
        if (low is not None and v < low) or (high is not None and v > high):
            raise SettingsError(f"{f.name} must be between {describe_range(low, high)} "
                                f"(got {v}).")


def describe_range(low: float | None, high: float | None) -> str:
    if high is None:
        return f"{low:g} and more"
    return f"{low:g} and {high:g}"


def literal_choices(f: dataclasses.Field[Any]) -> tuple[str, ...]:
    """Allowed values of a Literal-typed field (string annotations resolved by name)."""
    hint = {"Preset": Preset, "Precision": Precision, "Init": Init,
            "OutputFormat": OutputFormat}.get(str(f.type))
    return tuple(get_args(hint)) if hint is not None else ()
