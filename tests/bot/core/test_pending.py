"""Pending pairs keep sending order, expire, and stay within their count and bytes."""

from __future__ import annotations

from PIL import Image

from bot.core.pairs import role_from_text
from bot.core.pending import PendingPairs
from bot.core.pictures import Picture
from bot.core.ratelimit import SlidingWindow
from tests.conftest import gradient_image


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
