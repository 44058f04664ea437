"""Following a job within the platform's limits: coalesced progress, shared budgets,
results delivered through rate limits."""

from __future__ import annotations

import asyncio
import time

from PIL import Image

from bot.core.jobs import (
    Finished,
    JobHandle,
    JobSpec,
    Owner,
    Progressed,
    Queued,
    Started,
)
from bot.core.pictures import Picture
from bot.core.status import (
    SEND_BURST,
    SEND_PER_SECOND_OVERALL,
    ChatLimits,
    RateLimited,
    follow,
    status_text,
)
from bot.i18n import render
from nst_engine import Settings


class RecordingView:
    """A status view that records what it was asked to show; it can refuse like a platform."""

    def __init__(self, *, show_delay: float = 0.0, refuse_results: int = 0) -> None:
        self.shown: list[Queued | Started | Progressed] = []
        self.results: list[Finished] = []
        self.show_delay = show_delay
        self.refuse_results = refuse_results

    async def show(self, event: Queued | Started | Progressed) -> None:
        self.shown.append(event)
        await asyncio.sleep(self.show_delay)

    async def finished(self, event: Finished) -> None:
        if self.refuse_results:
            self.refuse_results -= 1
            raise RateLimited(0.2)
        self.results.append(event)

    async def failed(self, event: object) -> None:
        raise AssertionError(f"unexpected failure {event}")

    async def cancelled(self) -> None:
        raise AssertionError("unexpected cancel")


def handle() -> JobHandle:
    tiny = Picture.from_image(Image.new("RGB", (8, 8)))
    spec = JobSpec(Owner("test", "1"), "test:chat", tiny, tiny, Settings())
    return JobHandle(spec.owner, spec.chat, spec=spec)


def progressed(step: int, preview: bytes | None = None) -> Progressed:
    return Progressed(step=step, total=10, scale=1, scales=1, elapsed=step, eta=10 - step,
                      preview_jpeg=preview)


RESULT = Finished(png=b"png", width=8, height=8, seconds=1.0, steps=10, device="cpu",
                  precision="fp32")


async def test_progress_coalesces_to_the_newest_and_keeps_the_last_preview() -> None:
    job, view = handle(), RecordingView(show_delay=0.3)
    limits = ChatLimits(progress_interval=0.3, group_progress_interval=0.3)
    following = asyncio.create_task(follow(job, view, limits, group=False))
    job.emit(Queued(position=1, waiting=1))
    await asyncio.sleep(0.05)  # shown at once: the budget starts full
    job.emit(Started())
    job.emit(progressed(1, preview=b"first preview"))
    for step in range(2, 6):
        job.emit(progressed(step))  # text-only updates while the view is busy
    await asyncio.sleep(0.8)
    job.emit(RESULT)
    assert await following == RESULT
    assert view.shown[0] == Queued(position=1, waiting=1)
    # Everything after the first update arrived while it was being shown: only the newest
    # state is shown, carrying the preview that no text-only update may swallow.
    assert len(view.shown) == 2
    assert view.shown[1].step == 5 and view.shown[1].preview_jpeg == b"first preview"
    assert view.results == [RESULT]


async def test_the_starting_image_skips_the_progress_budget_and_later_ones_do_not() -> None:
    """The first picture a user sees never waits for a progress slot ("Starting…" took
    this one); the previews after it keep the chat's budget."""
    job, view = handle(), RecordingView()
    limits = ChatLimits(progress_interval=3600, group_progress_interval=3600)
    following = asyncio.create_task(follow(job, view, limits, group=False))
    job.emit(Started())  # takes the hour's only progress slot
    job.emit(progressed(0, preview=b"start"))
    async with asyncio.timeout(10):
        while not any(e.preview_jpeg == b"start" for e in view.shown  # type: ignore[union-attr]
                      if isinstance(e, Progressed)):
            await asyncio.sleep(0.01)
    job.emit(progressed(1, preview=b"later"))
    await asyncio.sleep(0.2)
    job.emit(RESULT)
    assert await following == RESULT
    previews = [e.preview_jpeg for e in view.shown if isinstance(e, Progressed)]
    assert previews == [b"start"] and view.results == [RESULT]


async def test_the_result_is_delivered_after_rate_limits() -> None:
    job, view = handle(), RecordingView(refuse_results=2)
    limits = ChatLimits(progress_interval=1.0, group_progress_interval=1.0)
    following = asyncio.create_task(follow(job, view, limits, group=False))
    started = time.monotonic()
    job.emit(RESULT)
    assert await following == RESULT
    assert view.results == [RESULT]
    assert time.monotonic() - started >= 0.35  # waited out both retry_after periods


async def test_sending_budget_is_per_chat_and_overall() -> None:
    limits = ChatLimits(progress_interval=1.0, group_progress_interval=1.0)
    started = time.monotonic()
    for _ in range(SEND_BURST):  # a burst in one chat is immediate
        async with limits.sending("telegram:1", group=False):
            pass
    for chat in range(2, SEND_PER_SECOND_OVERALL - SEND_BURST + 2):  # so are other chats
        async with limits.sending(f"telegram:{chat}", group=False):
            pass
    assert time.monotonic() - started < 0.5
    async with limits.sending("telegram:999", group=False):  # a fresh chat, but the bot
        pass  # has used up its overall second
    assert time.monotonic() - started >= 0.9


def test_status_text_says_where_the_job_is() -> None:
    def say(event: object) -> str:
        return render(status_text(event), "en")  # type: ignore[arg-type]

    assert say(Queued(position=1, waiting=3)) == "⏳ In the queue: you're next."
    assert say(Queued(position=3, waiting=4)) == "⏳ In the queue: position 3 of 4."
    text = say(progressed(5))
    assert "50%" in text and "~5 s left" in text
    assert render(status_text(progressed(5)), "de") != text  # every status is translated
