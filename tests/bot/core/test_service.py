"""The platform-free core: starting jobs and what happens when a platform refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.choices import Choices
from bot.core.jobs import JobHandle, Owner
from bot.core.pictures import Picture
from bot.core.service import Stylebot, Submission
from bot.core.status import StatusView
from nst_engine import InputImageError
from tests.bot.harness import running_bot, small_config
from tests.conftest import gradient_image, png_bytes, stripes_image
from tests.helpers import bad_images as bad


class NoView(Exception):
    pass


async def test_a_status_that_cannot_be_posted_cancels_only_that_job(
    tmp_path: Path, random_weights_path: Path
) -> None:
    async with running_bot(small_config(tmp_path, str(random_weights_path))) as bot:
        core: Stylebot = bot.core
        owner = Owner("test", "carol")
        submission = Submission(owner, "test:1", False,
                                Picture.from_image(gradient_image(64, 48)),
                                Picture.from_image(stripes_image(48, 48)),
                                Choices(size=64, steps=400))
        views: list[JobHandle] = []

        async def view(handle: JobHandle, token: str) -> StatusView:
            views.append(handle)
            if len(views) == 2:
                raise NoView("the platform refused the status message")
            return Quiet()

        first = await core.start(submission, view)
        with pytest.raises(NoView):
            await core.start(submission, view)
        assert views[1].done  # the second job is gone...
        assert not first.done and bot.pool.jobs_of(owner) == [first]  # ...the first goes on
        bot.pool.cancel(first)


class Quiet:
    async def show(self, event: object) -> None: ...

    async def finished(self, event: object) -> None: ...

    async def failed(self, event: object) -> None: ...

    async def cancelled(self) -> None: ...


async def test_uploads_are_decoded_at_the_largest_size_a_job_needs(
    tmp_path: Path, random_weights_path: Path
) -> None:
    config = small_config(tmp_path, str(random_weights_path))  # max_size 256
    async with running_bot(config) as bot:
        owner = Owner("test", "dora")
        picture = await bot.core.decode(owner, png_bytes(gradient_image(900, 600)), "photo")
        assert (picture.width, picture.height) == (384, 256)  # max_size × the style headroom
        with pytest.raises(InputImageError, match="ICO"):
            await bot.core.decode(owner, bad.ico_with_png(300), "photo")
        assert bot.core.metrics.snapshot().refusals == {"format": 1}
