"""Feeding a job's events to a platform's status message, within the platform's limits.

Queue positions and progress are *state*: only the newest matters, so updates coalesce
and each chat gets at most one edit per interval (asyncio-throttle, shared by every job
in the chat). Terminal events (the result, a failure) are never dropped: they bypass
the progress throttle and the view retries them through rate limits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Protocol

from asyncio_throttle import Throttler

from .jobs import Cancelled, Failed, Finished, JobEvent, JobHandle, Progressed, Queued, Started

log = logging.getLogger("stylebot.status")

BAR_WIDTH = 12


class StatusView(Protocol):
    """What a platform does with a job's status; each method may raise freely."""

    async def show(self, event: Queued | Started | Progressed) -> None: ...

    async def finished(self, event: Finished) -> None: ...

    async def failed(self, event: Failed) -> None: ...

    async def cancelled(self) -> None: ...


class RateLimited(Exception):
    """Raised by a view when the platform said "slow down" for ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class ChatThrottles:
    """One throttler per chat, plus the chat's "blocked until" after a 429."""

    def __init__(self, interval: Callable[[str], float]) -> None:
        self._interval = interval
        self._throttlers: dict[str, Throttler] = {}
        self._blocked_until: dict[str, float] = {}

    def throttler(self, chat: str) -> Throttler:
        if chat not in self._throttlers:
            self._throttlers[chat] = Throttler(rate_limit=1, period=self._interval(chat))
        return self._throttlers[chat]

    def block(self, chat: str, seconds: float) -> None:
        self._blocked_until[chat] = max(self._blocked_until.get(chat, 0.0),
                                        time.monotonic() + seconds)

    async def wait_unblocked(self, chat: str) -> None:
        delay = self._blocked_until.get(chat, 0.0) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


async def follow(handle: JobHandle, view: StatusView, throttles: ChatThrottles,
                 *, final_attempts: int = 6) -> JobEvent:
    """Drive ``view`` from ``handle``'s events until the job ends; returns the final event."""
    chat = handle.spec.chat
    latest: list[Queued | Started | Progressed] = []
    unsent_preview: list[bytes] = []  # a preview must survive later text-only updates
    changed = asyncio.Event()

    async def render() -> None:
        while True:
            await changed.wait()
            await throttles.wait_unblocked(chat)
            async with throttles.throttler(chat):
                changed.clear()
                event = latest[-1]
                if isinstance(event, Progressed) and unsent_preview:
                    event = dataclasses.replace(event, preview_jpeg=unsent_preview.pop())
                try:
                    await view.show(event)
                except RateLimited as exc:
                    throttles.block(chat, exc.retry_after)
                except Exception:
                    log.warning("progress update failed", exc_info=True, extra={"job": handle.id})

    renderer = asyncio.create_task(render(), name=f"status-{handle.id}")
    final: JobEvent | None = None
    try:
        async for event in handle.events():
            if isinstance(event, (Finished, Failed, Cancelled)):
                final = event
                break
            if isinstance(event, Progressed) and event.preview_jpeg is not None:
                unsent_preview[:] = [event.preview_jpeg]
            latest[:] = [event]
            changed.set()
    finally:
        renderer.cancel()
        await asyncio.gather(renderer, return_exceptions=True)
    assert final is not None
    await deliver_final(final, view, throttles, chat=chat, job_id=handle.id,
                        attempts=final_attempts)
    return final


async def deliver_final(event: JobEvent, view: StatusView, throttles: ChatThrottles, *,
                        chat: str, job_id: str, attempts: int) -> None:
    for attempt in range(attempts):
        try:
            await throttles.wait_unblocked(chat)
            if isinstance(event, Finished):
                await view.finished(event)
            elif isinstance(event, Failed):
                await view.failed(event)
            else:
                await view.cancelled()
            return
        except RateLimited as exc:
            throttles.block(chat, exc.retry_after)
            log.info("final delivery rate limited", extra={"job": job_id,
                                                           "retry_after": exc.retry_after})
        except Exception:
            log.warning("final delivery failed", exc_info=True,
                        extra={"job": job_id, "attempt": attempt + 1})
            await asyncio.sleep(min(30.0, 2.0 ** attempt))
    log.error("gave up delivering a result", extra={"job": job_id})


def progress_bar(fraction: float, width: int = BAR_WIDTH) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "▓" * filled + "░" * (width - filled)


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    seconds = round(seconds)
    if seconds < 60:
        return f"~{seconds} s left"
    return f"~{seconds // 60} min {seconds % 60:02d} s left"


def status_text(event: Queued | Started | Progressed) -> str:
    """The status line every platform shows."""
    if isinstance(event, Queued):
        ahead = event.position - 1
        return ("⏳ In the queue: you're next." if ahead == 0 else
                f"⏳ In the queue: position {event.position} of {event.waiting}.")
    if isinstance(event, Started):
        return "🎨 Starting…"
    return (f"🎨 {progress_bar(event.fraction)} {event.fraction:.0%} · "
            f"{format_eta(event.eta)}")
