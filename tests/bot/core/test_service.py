"""The platform-free core: starting jobs and what happens when a platform refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.choices import Choices
from bot.core.jobs import JobHandle, Owner
from bot.core.service import Stylebot, Submission
from bot.core.status import StatusView
from tests.bot.harness import running_bot, small_config
from tests.conftest import gradient_image, stripes_image


class NoView(Exception):
    pass


async def test_a_status_that_cannot_be_posted_cancels_only_that_job(
    tmp_path: Path, random_weights_path: Path
) -> None:
    async with running_bot(small_config(tmp_path, str(random_weights_path))) as bot:
        core: Stylebot = bot.core
        owner = Owner("test", "carol")
        submission = Submission(owner, "test:1", False, gradient_image(64, 48),
                                stripes_image(48, 48), Choices(size=64, steps=400))
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
