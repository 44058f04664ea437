"""The knobs a chat user can turn (``/weights``), shared by every platform.

Users, chats and the config each hold only the knobs they changed; the effective
choice is config defaults ← chat defaults ← user, so a new config default reaches
everyone who never touched that knob.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nst_engine import Settings

from ..config import BotConfig, DefaultsConfig, LimitsConfig, PoolConfig

PRESETS = ("default", "seed", "fast")
COLOR_WORDS = {"keep": True, "photo": True, "style": False, "painting": False}
#: how far the "stronger"/"weaker" buttons move strength
STRENGTH_STEP = 1.5


class ChoiceError(ValueError):
    """A /weights value that does not fit; the message says what would."""


@dataclass(frozen=True)
class Choices:
    preset: str = "default"
    strength: float = 5.0
    size: int = 512
    steps: int = 0  # 0: the preset's own number
    keep_colors: bool = False

    @classmethod
    def from_defaults(cls, defaults: DefaultsConfig) -> Choices:
        return cls(**dataclasses.asdict(defaults))

    def merged(self, *layers: Mapping[str, Any]) -> Choices:
        known = {f.name for f in dataclasses.fields(self)}
        updates: dict[str, Any] = {}
        for layer in layers:
            updates.update({k: v for k, v in layer.items() if k in known})
        return dataclasses.replace(self, **updates)

    def within(self, limits: LimitsConfig) -> Choices:
        """These choices inside the current limits: stored settings may predate a lower
        ``max_size`` or ``max_steps``, and a job must never fail on them."""
        return Choices(
            preset=self.preset if self.preset in PRESETS else "default",
            strength=min(10.0, max(0.0, float(self.strength))),
            size=min(limits.max_size, max(64, int(self.size))),
            steps=min(limits.max_steps, max(10, int(self.steps))) if self.steps else 0,
            keep_colors=bool(self.keep_colors))

    def engine_settings(self, pool: PoolConfig, *, preview_seconds: float) -> Settings:
        """What a painter runs, with previews as often as the chat's status can show."""
        return Settings(preset=self.preset, size=self.size, steps=self.steps or None,  # type: ignore[arg-type]
                        strength=self.strength, preserve_colors=self.keep_colors,
                        weights=pool.weights, device=pool.device,
                        threads=pool.threads or None, format="png",
                        preview_seconds=preview_seconds)

    def summary(self) -> str:
        """One line for captions."""
        steps = f", {self.steps} steps" if self.steps else ""
        colours = ", photo colours" if self.keep_colors else ""
        return f"{self.preset} · strength {self.strength:g} · {self.size}px{steps}{colours}"

    def describe(self) -> str:
        return "\n".join([
            f"preset: {self.preset}  (default, seed, fast)",
            f"strength: {self.strength:g}  (0 = photo … 10 = painting)",
            f"size: {self.size}px  (long side of the result)",
            f"steps: {self.steps or 'auto'}",
            f"colors: {'keep (photo colours)' if self.keep_colors else 'style (painting colours)'}",
        ])


#: user-facing knob name -> Choices field
KNOB_FIELDS = {"preset": "preset", "strength": "strength", "size": "size", "steps": "steps",
               "colors": "keep_colors", "colours": "keep_colors"}


def parse_change(knob: str, value: str, limits: LimitsConfig) -> dict[str, Any]:
    """``('strength', '7')`` -> ``{'strength': 7.0}``; ChoiceError tells the allowed range."""
    knob = knob.lower()
    value = value.strip().lower()
    if knob == "strength":
        number = parse_number(value, "strength", "0 to 10, e.g. /weights strength 7")
        if not 0 <= number <= 10:
            raise ChoiceError("strength must be from 0 (photo) to 10 (painting), "
                              "e.g. /weights strength 7.")
        return {"strength": round(number, 2)}
    if knob == "size":
        number = parse_number(value, "size", f"64 to {limits.max_size}")
        if not 64 <= number <= limits.max_size or number != int(number):
            raise ChoiceError(f"size must be a whole number of pixels from 64 to "
                              f"{limits.max_size}, e.g. /weights size 768.")
        return {"size": int(number)}
    if knob == "steps":
        if value in ("auto", "0", "default"):
            return {"steps": 0}
        number = parse_number(value, "steps", f"10 to {limits.max_steps} or auto")
        if not 10 <= number <= limits.max_steps or number != int(number):
            raise ChoiceError(f"steps must be from 10 to {limits.max_steps}, or auto, "
                              "e.g. /weights steps 400.")
        return {"steps": int(number)}
    if knob in ("colors", "colours"):
        if value not in COLOR_WORDS:
            raise ChoiceError("colors must be keep (the photo's colours) or style "
                              "(the painting's), e.g. /weights colors keep.")
        return {"keep_colors": COLOR_WORDS[value]}
    if knob == "preset":
        if value not in PRESETS:
            raise ChoiceError("preset must be default (best), seed (the classic recipe, slow) "
                              "or fast (about a second), e.g. /weights preset fast.")
        return {"preset": value}
    raise ChoiceError(f"I don't know the setting {knob!r}. Settings: strength, size, steps, "
                      "colors, preset — e.g. /weights strength 7, or /weights reset.")


def parse_number(text: str, name: str, allowed: str) -> float:
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        raise ChoiceError(f"{name} needs a number ({allowed}), not {text!r}.") from None
    if not math.isfinite(number):
        raise ChoiceError(f"{name} needs a number ({allowed}).")
    return number


def nudged(choices: Choices, change: str) -> dict[str, Any]:
    """The one-setting changes behind the buttons under a result."""
    if change == "stronger":
        return {"strength": min(10.0, choices.strength + STRENGTH_STEP)}
    if change == "weaker":
        return {"strength": max(0.0, choices.strength - STRENGTH_STEP)}
    if change == "keep_colors":
        return {"keep_colors": True}
    raise ChoiceError(f"unknown change {change!r}")


def defaults_for(config: BotConfig) -> Choices:
    return Choices.from_defaults(config.defaults)
