"""Jobs as users see them: submitting, refusals, cancelling only what must be cancelled."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.jobdesk import JobStart, offered_reruns, parse_rerun_id, rerun_id
from bot.core.jobs import JobHandle
from bot.core.pictures import Picture
from bot.core.settings import Limits, UserSettings
from bot.core.status import StatusView
from bot.core.who import Who
from bot.i18n import render
from tests.bot.harness import running_bot, small_config
from tests.conftest import gradient_image, stripes_image

CAROL = Who("test", "carol", "1", False)
PHOTO = Picture.from_image(gradient_image(64, 48))
PAINTING = Picture.from_image(stripes_image(48, 48))


class NoView(Exception):
    pass


class Quiet:
    def record(self) -> dict[str, object]:
        return {}

    async def show(self, event: object) -> None: ...

    async def finished(self, event: object) -> None: ...

    async def failed(self, event: object) -> None: ...

    async def cancelled(self) -> None: ...


async def test_a_status_that_cannot_be_posted_cancels_only_that_job(
    tmp_path: Path, random_weights_path: Path
) -> None:
    async with running_bot(small_config(tmp_path, str(random_weights_path))) as bot:
        jobs = bot.core.jobs
        started: list[JobHandle] = []

        async def view(start: JobStart) -> StatusView:
            started.append(start.handle)
            if len(started) == 2:
                raise NoView("the platform refused the status message")
            return Quiet()

        settings = UserSettings(size=64, steps=400)
        assert await jobs.submit(CAROL, PHOTO, PAINTING, view, settings=settings) is None
        with pytest.raises(NoView):
            await jobs.submit(CAROL, PHOTO, PAINTING, view, settings=settings)
        first, second = started
        assert second.done  # the second job is gone...
        assert not first.done and bot.pool.jobs_of(CAROL.owner) == [first]  # ...not the first
        assert "Cancelled 1 picture." in render(bot.core.cancel(CAROL), "en")


async def test_refusals_are_answers_not_errors(tmp_path: Path, random_weights_path: Path) -> None:
    async with running_bot(small_config(tmp_path, str(random_weights_path))) as bot:
        starts: list[JobStart] = []

        async def view(start: JobStart) -> StatusView:
            starts.append(start)
            return Quiet()

        settings = UserSettings(size=64, steps=400)
        for _ in range(2):
            assert await bot.core.jobs.submit(CAROL, PHOTO, PAINTING, view,
                                              settings=settings) is None
        busy = await bot.core.jobs.submit(CAROL, PHOTO, PAINTING, view, settings=settings)
        assert busy is not None and "/cancel it first" in render(busy, "en")
        assert starts[0].thumbnail == PHOTO.thumbnail and starts[0].language == "en"
        bot.core.cancel(CAROL)


def test_rerun_ids_round_trip() -> None:
    assert parse_rerun_id(rerun_id("Ab-_9", "stronger")) == ("Ab-_9", "stronger")
    assert parse_rerun_id("w:strength:5") is None
    assert len(rerun_id("x" * 8, "photo_colors").encode()) <= 64  # Telegram's callback_data


def test_only_buttons_that_change_something_are_offered() -> None:
    limits = Limits(max_size=512, max_steps=1000)

    def offered(settings: UserSettings, gallery: bool = True) -> list[str]:
        return [change for change, _label in offered_reruns(settings, limits, gallery)]

    assert offered(UserSettings(size=384)) == ["stronger", "weaker", "photo_colors", "other",
                                               "bigger"]
    assert offered(UserSettings(preset="fast", size=512, colors="keep"), gallery=False) == [
        "stronger", "weaker", "full"]  # at the largest size, in the photo's colours already
