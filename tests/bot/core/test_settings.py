"""The one settings schema: parsing what users type, ranges from the engine within the
bot's limits, layers, and what a painter runs."""

from __future__ import annotations

import dataclasses

import pytest

from bot.core.settings import SETTINGS, Limits, SettingError, UserSettings, parse_change
from bot.core.store import upgraded
from bot.i18n import render
from nst_engine.settings import Settings

LIMITS = Limits(max_size=1024, max_steps=1000)


@pytest.mark.parametrize(
    "name,value,expected",
    [
        ("strength", "7", {"strength": 7.0}),
        ("Strength", "6,5", {"strength": 6.5}),
        ("size", "768", {"size": 768}),
        ("steps", "auto", {"steps": 0}),
        ("steps", "400", {"steps": 400}),
        ("colors", "keep", {"colors": "keep"}),
        ("colours", "painting", {"colors": "style"}),
        ("preset", "FAST", {"preset": "fast"}),
        ("language", "pt_br", {"language": "pt_BR"}),
        ("language", "auto", {"language": ""}),
    ],
)
def test_valid_changes(name: str, value: str, expected: dict) -> None:
    assert parse_change(name, value, LIMITS) == expected


@pytest.mark.parametrize(
    "name,value,hint",
    [
        ("strength", "11", "strength must be a number from 0 to 10"),
        ("strength", "nan", "from 0 to 10"),
        ("size", "2048", "size must be a number from 64 to 1024"),
        ("size", "big", "from 64 to 1024"),
        ("steps", "5000", "from 1 to 1000"),
        ("colors", "blue", "colors must be one of keep, style"),
        ("preset", "turbo", "preset must be one of default, seed, fast"),
        ("language", "xx", "language must be one of en, ru, es, de, pt_BR"),
        ("speed", "9", "Settings: preset, strength, size, steps, colors, language"),
    ],
)
def test_invalid_changes_name_the_allowed_values(name: str, value: str, hint: str) -> None:
    with pytest.raises(SettingError) as refused:
        parse_change(name, value, LIMITS)
    assert hint in render(refused.value.text, "en")


def test_ranges_come_from_the_engine_within_the_bots_limits() -> None:
    engine = {f.name: f.metadata for f in dataclasses.fields(Settings)}
    strength = next(s for s in SETTINGS if s.name == "strength")
    assert strength.bounds(LIMITS) == (engine["strength"]["low"], engine["strength"]["high"])
    size = next(s for s in SETTINGS if s.name == "size")
    assert size.bounds(Limits(max_size=99_999, max_steps=1)) == (64, engine["size"]["high"])
    assert {s.engine for s in SETTINGS} - {None} <= set(engine)


def test_layers_merge_clamp_and_nudge() -> None:
    base = UserSettings().merged({"strength": 9.0}, {"size": 256, "unknown": 1})
    assert (base.strength, base.size) == (9.0, 256)
    assert base.nudged("stronger", Limits()).strength == 10.0
    assert UserSettings(strength=1.0).nudged("weaker", Limits()).strength == 0.0
    assert base.nudged("photo_colors", Limits()).colors == "keep"
    stale = UserSettings(size=4000, steps=15000, preset="turbo", language="xx")  # type: ignore[arg-type]
    assert stale.within(LIMITS) == UserSettings(size=1024, steps=1000)
    settings = base.engine_settings(weights="auto", device="cpu", threads=None,
                                    preview_seconds=3.0)
    assert settings.preview_seconds == 3.0  # the painter renders only what the chat shows
    assert UserSettings(colors="keep").engine_settings(
        weights="auto", device="cpu", threads=None, preview_seconds=3).preserve_colors


def test_bigger_climbs_the_size_ladder_up_to_the_limit_and_full_leaves_fast() -> None:
    limits = Limits(max_size=1000, max_steps=1000)
    assert UserSettings(size=512).nudged("bigger", limits).size == 768
    assert UserSettings(size=900).nudged("bigger", limits).size == 1000
    assert UserSettings(size=1000).bigger(limits) is None
    with pytest.raises(ValueError):
        UserSettings(size=1000).nudged("bigger", limits)
    assert UserSettings(preset="fast").nudged("full", limits).preset == "default"


def test_rows_stored_before_the_schema_still_read() -> None:
    assert upgraded({"keep_colors": True, "size": 96}) == {"colors": "keep", "size": 96}
