"""Feeding a job's events to a platform's status message, within the platform's limits.

Two budgets per chat, both asyncio-throttle sliding windows shared by every job there:
- *sending*: every message and edit the bot makes in the chat (short bursts, then about
  one a second; at most 18 a minute in groups; 25 a second over all chats — Telegram's
  flood limits, which python-telegram-bot leaves to the bot; discord.py paces Discord
  itself);
- *progress*: one status edit per ``progress_interval``. Queue positions and progress
  are state, so they coalesce: only the newest is sent when the budget allows.
Terminal events (the result, a failure) skip the progress budget, never the sending one,
and are retried through 429s: a result is never lost to a rate limit. So does the first
preview (the starting, AdaIN, image): the first picture a user sees must not wait for a
progress slot a "Starting…" line took.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from asyncio_throttle import Throttler

from ..i18n import Text, _
from .jobs import (
    Cancelled,
    Failed,
    Finished,
    JobEvent,
    JobHandle,
    Progressed,
    Queued,
    Retrying,
    Shown,
    Started,
)
from .keyed import ExpiringMap

log = logging.getLogger("stylebot.status")

BAR_WIDTH = 12


class StatusView(Protocol):
    """What a platform does with a job's status; each method may raise freely."""

    def record(self) -> dict[str, Any]:
        """JSON a later bot process can rebuild this view from (jobs may outlive us)."""

    async def show(self, event: Shown) -> None: ...

    async def finished(self, event: Finished) -> None: ...

    async def failed(self, event: Failed) -> None: ...

    async def cancelled(self) -> None: ...


class RateLimited(Exception):
    """Raised by a view when the platform said "slow down" for ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class Undeliverable(Exception):
    """Raised by ``finished`` when the platform refused every form of the result it tried
    (e.g. photo, smaller JPEG, file): retrying the same forms is pointless."""


class Unreachable(Exception):
    """The chat cannot be written to at all (the user blocked the bot, the chat is gone)."""


#: at most SEND_BURST messages in any window of this many seconds
SEND_BURST = 3
SEND_WINDOW = 3.0  # private chats: bursts of 3, about 1 a second after that
# groups: 3 per 10.5 s is at most 3 × (⌊60 / 10.5⌋ + 1) = 18 in any minute (Telegram: 20)
SEND_WINDOW_GROUP = 10.5
SEND_PER_SECOND_OVERALL = 25  # every chat together (Telegram allows about 30)
#: seconds after which a silent chat's budgets are forgotten (far longer than any window)
CHAT_IDLE = 300.0


class SendingBudget:
    """A chat's sending window and the bot-wide one, both taken for every message.

    The chat's window is taken first, so a message waiting for its own chat holds no
    bot-wide slot that another chat could use.
    """

    def __init__(self, chat: Throttler, overall: Throttler) -> None:
        self.chat = chat
        self.overall = overall

    async def __aenter__(self) -> None:
        await self.chat.acquire()
        await self.overall.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class ChatLimits:
    """Per-chat sending and progress budgets (sending also bot-wide), plus "blocked until"
    after a 429."""

    def __init__(self, progress_interval: float, group_progress_interval: float, *,
                 on_throttled: Callable[[str], None] = lambda platform: None) -> None:
        self.intervals = (progress_interval, group_progress_interval)
        self.on_throttled = on_throttled  # counts 429s per platform
        # A chat's throttlers hold only the last window's timestamps: after CHAT_IDLE
        # seconds of silence they are empty and can go.
        self._progress: ExpiringMap[str, Throttler] = ExpiringMap(Throttler, max_idle=CHAT_IDLE)
        self._sending: ExpiringMap[str, SendingBudget] = ExpiringMap(SendingBudget,
                                                                     max_idle=CHAT_IDLE)
        self._overall = Throttler(rate_limit=SEND_PER_SECOND_OVERALL, period=1.0)
        self._blocked_until: dict[str, float] = {}

    def progress(self, chat: str, group: bool) -> Throttler:
        return self._progress.get(chat, lambda: Throttler(rate_limit=1,
                                                          period=self.intervals[group]))

    def sending(self, chat: str, group: bool) -> SendingBudget:
        window = SEND_WINDOW_GROUP if group else SEND_WINDOW
        return self._sending.get(chat, lambda: SendingBudget(
            Throttler(rate_limit=SEND_BURST, period=window), self._overall))

    def block(self, chat: str, seconds: float) -> None:
        """The platform answered 429 for ``chat``: hold its messages for ``seconds``."""
        self.on_throttled(chat.partition(":")[0])
        now = time.monotonic()
        for passed in [c for c, until in self._blocked_until.items() if until <= now]:
            del self._blocked_until[passed]
        self._blocked_until[chat] = max(self._blocked_until.get(chat, 0.0), now + seconds)

    async def wait_unblocked(self, chat: str) -> None:
        delay = self._blocked_until.get(chat, 0.0) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


async def follow(handle: JobHandle, view: StatusView, limits: ChatLimits, *, group: bool,
                 final_attempts: int = 6) -> JobEvent:
    """Drive ``view`` from ``handle``'s events until the job ends; returns the final event."""
    chat = handle.chat
    latest: list[Shown] = []
    unsent_preview: list[bytes] = []  # a preview must survive later text-only updates
    changed = asyncio.Event()
    showing = asyncio.Lock()  # the first preview and the throttled updates take turns

    async def show_newest() -> None:
        async with showing:
            if not changed.is_set():
                return  # shown meanwhile by the other path
            changed.clear()
            event = latest[-1]
            if isinstance(event, Progressed) and unsent_preview:
                event = dataclasses.replace(event, preview_jpeg=unsent_preview.pop())
            try:
                await view.show(event)
            except RateLimited as exc:
                limits.block(chat, exc.retry_after)
            except Exception:
                log.warning("progress update failed", exc_info=True, extra={"job": handle.id})

    async def render() -> None:
        while True:
            await changed.wait()
            await limits.wait_unblocked(chat)
            async with limits.progress(chat, group):
                await show_newest()

    async def show_start() -> None:
        await limits.wait_unblocked(chat)
        await show_newest()

    renderers = [asyncio.create_task(render(), name=f"status-{handle.id}")]
    final: JobEvent | None = None
    try:
        async for event in handle.events():
            if isinstance(event, (Finished, Failed, Cancelled)):
                final = event
                break
            latest[:] = [event]
            changed.set()
            if isinstance(event, Progressed) and event.preview_jpeg is not None:
                unsent_preview[:] = [event.preview_jpeg]
                if len(renderers) == 1 and event.step < event.total:  # the starting image
                    renderers.append(asyncio.create_task(show_start(),
                                                         name=f"start-{handle.id}"))
    finally:
        for task in renderers:
            task.cancel()
        await asyncio.gather(*renderers, return_exceptions=True)
    assert final is not None
    await deliver_final(final, view, limits, handle=handle, attempts=final_attempts)
    return final


async def deliver_final(event: JobEvent, view: StatusView, limits: ChatLimits, *,
                        handle: JobHandle, attempts: int) -> None:
    """Deliver a job's last word, once: a finished picture that cannot be delivered in any
    form still gets the user a clear note, never silence."""
    chat, job_id = handle.chat, handle.id
    if not await handle.claim():  # another bot process (or this one before a restart) has
        log.info("outcome delivered elsewhere", extra={"job": job_id})
        return
    for attempt in range(attempts):
        try:
            await limits.wait_unblocked(chat)
            if isinstance(event, Finished):
                await view.finished(event)
            elif isinstance(event, Failed):
                await view.failed(event)
            else:
                await view.cancelled()
            await handle.delivered()
            return
        except RateLimited as exc:
            limits.block(chat, exc.retry_after)
            log.info("final delivery rate limited", extra={"job": job_id,
                                                           "retry_after": exc.retry_after})
        except Unreachable:
            log.warning("result not delivered: the chat no longer accepts messages",
                        extra={"job": job_id, "chat": chat})
            return
        except Undeliverable:
            log.error("the platform refused the result in every form", extra={"job": job_id})
            break
        except Exception:
            log.warning("final delivery failed", exc_info=True,
                        extra={"job": job_id, "attempt": attempt + 1})
            await asyncio.sleep(min(30.0, 2.0 ** attempt))
    if isinstance(event, Finished):
        await apologise(view, limits, chat=chat, job_id=job_id)
    else:
        log.error("gave up delivering a job's outcome", extra={"job": job_id})


async def apologise(view: StatusView, limits: ChatLimits, *, chat: str, job_id: str,
                    attempts: int = 4) -> None:
    """The last resort for a finished picture: tell the user in words."""
    for attempt in range(attempts):
        try:
            await limits.wait_unblocked(chat)
            await view.failed(Failed("delivery"))
            return
        except RateLimited as exc:
            limits.block(chat, exc.retry_after)
        except Unreachable:
            return
        except Exception:
            log.warning("could not even apologise", exc_info=True, extra={"job": job_id})
            await asyncio.sleep(min(30.0, 2.0 ** attempt))
    log.error("gave up delivering a result", extra={"job": job_id})


CANCELLED = _("✖️ Cancelled.")
FULL_RESOLUTION = _("Full resolution")


def progress_bar(fraction: float, width: int = BAR_WIDTH) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "▓" * filled + "░" * (width - filled)


def eta_text(seconds: float | None) -> Text:
    if seconds is None:
        return _("estimating…")
    seconds = round(seconds)
    if seconds < 60:
        return _("~{seconds} s left", seconds=seconds)
    return _("~{minutes} min {seconds:02d} s left", minutes=seconds // 60,
             seconds=seconds % 60)


def status_text(event: Shown) -> Text:
    """The status line every platform shows."""
    if isinstance(event, Queued):
        if event.position == 1:
            return _("⏳ In the queue: you're next.")
        return _("⏳ In the queue: position {position} of {waiting}.",
                 position=event.position, waiting=event.waiting)
    if isinstance(event, Started):
        return _("🎨 Starting…")
    if isinstance(event, Retrying):
        return _("🔁 A painter stopped while working on your picture; another one takes it "
                 "over (attempt {attempt}).", attempt=event.attempt)
    return _("🎨 {bar} {percent} · {eta}", bar=progress_bar(event.fraction),
             percent=f"{event.fraction:.0%}", eta=eta_text(event.eta))
