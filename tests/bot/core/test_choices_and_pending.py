"""The knobs users turn, and pending pairs that keep sending order."""

from __future__ import annotations

import pytest
from PIL import Image

from bot.config import LimitsConfig, PoolConfig
from bot.core.choices import ChoiceError, Choices, nudged, parse_change
from bot.core.pending import PendingPairs, role_from_text
from bot.core.pictures import Picture
from bot.core.ratelimit import SlidingWindow
from tests.conftest import gradient_image

LIMITS = LimitsConfig(max_size=1024, max_steps=1000)


@pytest.mark.parametrize(
    "knob,value,expected",
    [
        ("strength", "7", {"strength": 7.0}),
        ("Strength", "6,5", {"strength": 6.5}),
        ("size", "768", {"size": 768}),
        ("steps", "auto", {"steps": 0}),
        ("steps", "400", {"steps": 400}),
        ("colors", "keep", {"keep_colors": True}),
        ("colours", "style", {"keep_colors": False}),
        ("preset", "FAST", {"preset": "fast"}),
    ],
)
def test_valid_changes(knob: str, value: str, expected: dict) -> None:
    assert parse_change(knob, value, LIMITS) == expected


@pytest.mark.parametrize(
    "knob,value,hint",
    [
        ("strength", "11", "from 0 (photo) to 10"),
        ("strength", "nan", "needs a number"),
        ("size", "2048", "from 64 to 1024"),
        ("size", "big", "needs a number"),
        ("steps", "5", "from 10 to 1000"),
        ("colors", "blue", "keep (the photo's colours)"),
        ("preset", "turbo", "default (best)"),
        ("speed", "9", "Settings: strength, size"),
    ],
)
def test_invalid_changes_name_the_allowed_values(knob: str, value: str, hint: str) -> None:
    with pytest.raises(ChoiceError, match=hint.replace("(", r"\(").replace(")", r"\)")):
        parse_change(knob, value, LIMITS)


def test_layers_merge_and_nudges_clamp() -> None:
    base = Choices().merged({"strength": 9.0}, {"size": 256, "unknown": 1})
    assert (base.strength, base.size) == (9.0, 256)
    assert nudged(base, "stronger") == {"strength": 10.0}
    assert nudged(Choices(strength=1.0), "weaker") == {"strength": 0.0}
    settings = base.engine_settings(PoolConfig(), preview_seconds=3.0)
    assert settings.preview_seconds == 3.0  # the painter renders only what the chat shows


def picture(colour: str = "grey") -> Picture:
    return Picture.from_image(Image.new("RGB", (8, 8), colour))


def test_pairs_follow_sending_order_even_when_decoded_out_of_order() -> None:
    pairs = PendingPairs(ttl=60)
    key = ("t", "chat", "user")
    first, second = picture("red"), picture("blue")
    pairs.add(key, second, None, order=11)  # the later message finished decoding first
    pair = pairs.add(key, first, None, order=10)
    assert pair.content is first and pair.style is second and pair.reply_to == 11


def test_captions_and_swap_set_roles() -> None:
    pairs = PendingPairs(ttl=60)
    key = ("t", "chat", "user")
    painting = picture()
    pair = pairs.add(key, painting, role_from_text("this is the Style!"), order=1)
    assert pair.style is painting and pair.missing == "content"
    assert pairs.swap(key).content is painting


def test_pairs_expire_and_are_bounded() -> None:
    pairs = PendingPairs(ttl=0.0)
    pairs.add(("t", "c", "u"), picture(), None, order=1)
    assert pairs.get(("t", "c", "u")) is None
    bounded = PendingPairs(ttl=60, max_pairs=2)
    for n in range(3):
        bounded.add(("t", "c", str(n)), picture(), None, order=n)
    assert bounded.get(("t", "c", "0")) is None and bounded.get(("t", "c", "2")) is not None


def test_pending_pictures_are_compressed_and_bounded_in_bytes() -> None:
    photo = Picture.from_image(gradient_image(1536, 1152))
    assert len(photo.data) < 1536 * 1152 * 3 / 8  # kept as JPEG, not as a bitmap
    pairs = PendingPairs(ttl=60, max_bytes=5 * len(photo.data))
    for n in range(20):
        pairs.add(("t", "c", str(n)), photo, None, order=n)
    assert pairs.size <= 5 * len(photo.data)
    assert pairs.get(("t", "c", "19")) is not None and pairs.get(("t", "c", "0")) is None


def test_sliding_window() -> None:
    window = SlidingWindow(limit=2, window=60)
    assert window.allow("a") and window.allow("a") and not window.allow("a")
    assert window.allow("b")
