"""The settings a chat user can change (``/weights``), declared once for every use.

Each ``Setting`` names a knob as users type it and as it is stored, says which engine
``Settings`` field it feeds, and takes its range and choices from that field's metadata
(narrowed by the bot's limits for size and steps). Telegram's ``/weights`` parser,
Discord's typed options, the config's ``[defaults]`` table and the descriptions users
read are all built from ``SETTINGS``.

Users, chats and the config each hold only the settings they changed; the effective
value is config defaults ← chat defaults ← user, so a new config default reaches
everyone who never touched that setting.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from nst_engine.settings import Preset, Settings, literal_choices

from ..i18n import LANGUAGES, NAMES, Lines, Text, _, lines

Colors = Literal["keep", "style"]
#: how far the "stronger"/"weaker" buttons move strength
STRENGTH_STEP = 1.5
#: the smallest result the bot makes (the engine could go to 32 px)
MIN_SIZE = 64
#: the sizes offered on buttons (/weights, "Bigger"), each within the bot's max_size
SIZES = (384, 512, 768, 1024, 1536, 2048)
_ENGINE = {f.name: f for f in dataclasses.fields(Settings)}


class SettingError(ValueError):
    """A /weights value that does not fit; ``text`` says what would, for the user."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.msgid)
        self.text = text


@dataclass(frozen=True)
class Limits:
    """The bot's own bounds on settings (``[limits]``), within the engine's."""

    max_size: int = 1024
    max_steps: int = 1000


@dataclass(frozen=True)
class Setting:
    name: str  # as users type it, as stored, as the config key
    help: Text
    #: the engine ``Settings`` field it feeds, None for the bot's own (language)
    engine: str | None = None
    #: words users may type, with the value each stands for
    words: Mapping[str, object] = field(default_factory=dict)

    def choices(self) -> tuple[str, ...]:
        """The allowed values of a choice setting (empty for numbers)."""
        if self.name == "language":
            return LANGUAGES
        if self.name == "colors":
            return ("keep", "style")
        return literal_choices(_ENGINE[self.engine]) if self.engine else ()

    def bounds(self, limits: Limits) -> tuple[float, float]:
        """(low, high) of a number setting: the engine's range, within the bot's limits."""
        assert self.engine is not None
        meta = _ENGINE[self.engine].metadata
        low, high = meta["low"], meta["high"]
        if self.name == "size":
            low, high = max(low, MIN_SIZE), min(high, limits.max_size)
        elif self.name == "steps":
            high = min(high, limits.max_steps)
        return low, high

    @property
    def kind(self) -> type:
        return type(getattr(UserSettings(), self.name))

    def parse(self, text: str, limits: Limits) -> Any:
        """A typed value from what a user typed; ``SettingError`` says what fits."""
        word = text.strip().lower()
        if word in self.words:
            return self.words[word]
        if self.choices():
            choice = next((c for c in self.choices() if c.lower() == word), None)
            if choice is None:
                raise SettingError(_("{setting} must be one of {choices}, e.g. /weights "
                                     "{setting} {example}.", setting=self.name,
                                     choices=", ".join(self.choices()),
                                     example=self.choices()[-1]))
            return choice
        low, high = self.bounds(limits)
        try:
            number = float(word.replace(",", "."))
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and low <= number <= high) or (
                self.kind is int and number != int(number)):
            raise SettingError(_("{setting} must be a number from {low} to {high}, e.g. "
                                 "/weights {setting} {example}.", setting=self.name,
                                 low=f"{low:g}", high=f"{high:g}",
                                 example=f"{(low + high) / 2:.0f}"))
        return self.kind(round(number, 2))

    def shown(self, value: object) -> Text | str:
        if self.name == "steps" and not value:
            return _("auto (the preset's own)")
        if self.name == "language":
            return NAMES.get(str(value), "") if value else _("your app's language")
        if self.name == "colors":
            return _("keep (the photo's colours)") if value == "keep" else \
                _("style (the painting's colours)")
        if self.name == "size":
            return f"{value}px"
        return f"{value:g}" if isinstance(value, float) else str(value)


SETTINGS: tuple[Setting, ...] = (
    Setting("preset", _("default (best), fast (about a second) or seed (the classic "
                        "recipe, slow)"), engine="preset"),
    Setting("strength", _("0 keeps the photo, 10 is mostly painting"), engine="strength"),
    Setting("size", _("long side of the result in pixels"), engine="size"),
    Setting("steps", _("optimiser steps; auto: the preset's own"), engine="steps",
            words={"auto": 0, "default": 0, "0": 0}),
    Setting("colors", _("keep the photo's colours, or take the painting's"),
            engine="preserve_colors", words={"keep": "keep", "photo": "keep",
                                             "style": "style", "painting": "style"}),
    Setting("language", _("the language I answer you in"),
            words={"auto": "", "default": ""}),
)
BY_NAME = {s.name: s for s in SETTINGS}
_ALIASES = {"colours": "colors"}  # the British spelling works too


def setting(name: str) -> Setting:
    """The setting a user named; ``SettingError`` lists the real ones."""
    name = _ALIASES.get(name.lower(), name.lower())
    found = next((s for s in SETTINGS if s.name == name), None)
    if found is None:
        raise SettingError(_("I don't know the setting {name}. Settings: {names} — e.g. "
                             "/weights strength 7, or /weights reset.", name=name,
                             names=", ".join(s.name for s in SETTINGS)))
    return found


@dataclass(frozen=True)
class UserSettings:
    """Effective settings; also the config's ``[defaults]`` table."""

    preset: Preset = "default"
    strength: float = 5.0
    size: int = 512
    steps: int = 0  # 0: the preset's own number
    colors: Colors = "style"
    language: str = ""  # "": the language the user's app reports

    def merged(self, *layers: Mapping[str, Any]) -> UserSettings:
        """These settings with stored changes on top (unknown keys are ignored)."""
        updates: dict[str, Any] = {}
        for layer in layers:
            updates.update({k: v for k, v in layer.items() if k in BY_NAME})
        return dataclasses.replace(self, **updates)

    def within(self, limits: Limits) -> UserSettings:
        """These settings inside today's limits: stored values may predate a lower
        ``max_size`` or ``max_steps``, and a job must never fail on them."""
        def clamp(name: str, value: float) -> float:
            low, high = BY_NAME[name].bounds(limits)
            return min(high, max(low, value))

        return UserSettings(
            preset=self.preset if self.preset in BY_NAME["preset"].choices() else "default",
            strength=clamp("strength", float(self.strength)),
            size=int(clamp("size", int(self.size))),
            steps=int(clamp("steps", int(self.steps))) if self.steps else 0,
            colors="keep" if self.colors == "keep" else "style",
            language=self.language if self.language in LANGUAGES else "")

    def nudged(self, change: str, limits: Limits) -> UserSettings:
        """The one-setting changes behind the buttons under a result."""
        if change == "stronger":
            return dataclasses.replace(self, strength=min(10.0, self.strength + STRENGTH_STEP))
        if change == "weaker":
            return dataclasses.replace(self, strength=max(0.0, self.strength - STRENGTH_STEP))
        if change == "photo_colors":
            return dataclasses.replace(self, colors="keep")
        if change == "full":
            return dataclasses.replace(self, preset="default")
        if change == "bigger" and self.bigger(limits) is not None:
            return dataclasses.replace(self, size=self.bigger(limits))
        raise ValueError(f"unknown change {change!r}")

    def bigger(self, limits: Limits) -> int | None:
        """The next size up the ladder, at most ``max_size``; None at the top."""
        if self.size >= limits.max_size:
            return None
        return min(next((s for s in SIZES if s > self.size), limits.max_size), limits.max_size)

    def engine_settings(self, *, weights: str, device: str, threads: int | None,
                        preview_seconds: float) -> Settings:
        """What a painter runs, with previews as often as the chat's status can show."""
        return Settings(preset=self.preset, size=self.size, steps=self.steps or None,
                        strength=self.strength, preserve_colors=self.colors == "keep",
                        weights=weights, device=device, threads=threads, format="png",
                        preview_seconds=preview_seconds)

    def summary(self) -> Text:
        """One line for captions."""
        return _("{preset} · strength {strength} · {size}px{steps}{colors}",
                 preset=self.preset, strength=f"{self.strength:g}", size=self.size,
                 steps=_(", {steps} steps", steps=self.steps) if self.steps else "",
                 colors=_(", photo colours") if self.colors == "keep" else "")

    def describe(self) -> Lines:
        """Every setting with its value and what it does."""
        return lines(*(_("{name}: {value}  ({help})", name=s.name,
                         value=s.shown(getattr(self, s.name)), help=s.help)
                       for s in SETTINGS))


def parse_change(name: str, value: str, limits: Limits) -> dict[str, Any]:
    """``('strength', '7')`` -> ``{'strength': 7.0}``; ``SettingError`` says what fits."""
    known = setting(name)
    return {known.name: known.parse(value, limits)}
