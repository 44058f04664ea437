"""Uploads through the core: decoded at the largest size a job may need, refusals counted
and told in words that say what to send instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.uploads import refusal
from bot.core.who import Who
from bot.i18n import render
from nst_engine import InputImageError
from tests.bot.harness import running_bot, small_config
from tests.conftest import gradient_image, png_bytes
from tests.helpers import bad_images as bad

DORA = Who("test", "dora", "1", False)


async def test_uploads_are_decoded_at_the_largest_size_a_job_needs(
    tmp_path: Path, random_weights_path: Path
) -> None:
    config = small_config(tmp_path, str(random_weights_path))  # max_size 256
    async with running_bot(config) as bot:
        picture = await bot.core.uploads.decode(DORA, png_bytes(gradient_image(900, 600)))
        assert (picture.width, picture.height) == (384, 256)  # max_size × the style headroom
        with pytest.raises(InputImageError) as refused:
            await bot.core.uploads.decode(DORA, bad.ico_with_png(300))
        assert "ICO format" in render(refusal(refused.value), "en")
        assert bot.core.metrics.snapshot().refusals == {"format": 1}


@pytest.mark.parametrize("name", [n for n, reason in bad.EXPECTED.items() if reason])
def test_every_refusal_says_what_to_send(name: str) -> None:
    """Every reason a decoder gives has words for the user, in every language."""
    from nst_engine.images import load_image

    with pytest.raises(InputImageError) as refused:
        load_image(bad.CATALOGUE[name](), max_side=512)
    for language in ("en", "ru", "es", "de", "pt_BR"):
        text = render(refusal(refused.value), language)
        assert text and "{" not in text
