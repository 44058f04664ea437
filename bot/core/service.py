"""The platform-free bot: what Telegram and Discord handlers call after parsing a message.

It owns the pool, the settings store, pending pairs, rate limits and the status
followers, so a front end only translates platform events into these calls and
implements a ``StatusView`` for its own message format.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nst_engine import InputImageError
from nst_engine.settings import STYLE_HEADROOM

from ..config import BotConfig
from .choices import Choices
from .decoding import Decoder
from .jobs import Failed, Finished, JobEvent, JobHandle, JobSpec, Owner, PoolError, Queued, Started
from .keyed import KeyedLocks
from .metrics import Metrics
from .pending import PendingPairs
from .pictures import Picture
from .pool import JobPool
from .ratelimit import SlidingWindow
from .recent import RecentJob, RecentJobs
from .status import ChatLimits, StatusView, follow
from .store import SettingsStore
from .uploads import image_limits

log = logging.getLogger("stylebot.service")

#: builds the platform's status message for a job: (handle, rerun token) -> view
ViewFactory = Callable[[JobHandle, str], Awaitable[StatusView]]


SLOW_DOWN = ("You're sending pictures faster than I can paint them. Please wait a minute, "
             "then send them again.")


class SlowDown(PoolError):
    """Too many submissions from one user in a minute."""


@dataclass(frozen=True)
class Submission:
    owner: Owner
    chat: str  # platform-qualified, e.g. "telegram:-100123"
    group: bool
    content: Picture
    style: Picture
    choices: Choices


class Stylebot:
    def __init__(self, config: BotConfig, pool: JobPool, store: SettingsStore) -> None:
        self.config = config
        self.pool = pool
        self.store = store
        self.defaults = Choices.from_defaults(config.defaults)
        self.pending = PendingPairs(config.limits.pending_ttl)
        self.recent = RecentJobs()
        self.submissions = SlidingWindow(config.limits.submissions_per_minute, 60.0)
        #: pictures per user per minute, checked before a download: a pair per allowed
        #: submission, plus room for a mistake or two
        self.uploads = SlidingWindow(2 * config.limits.submissions_per_minute + 2, 60.0)
        self.decoder = Decoder()
        self._decoding: KeyedLocks[Owner] = KeyedLocks()
        #: explanations of refused input, per user: a flood of stickers gets a few answers
        self.notices = SlidingWindow(3, 30.0)
        self.metrics = Metrics()
        self.metrics.track_pool(pool.stats)
        self.started = time.time()
        self.limits = ChatLimits(config.progress_interval, config.group_progress_interval,
                                 on_throttled=self.metrics.throttled)
        self._followers: set[asyncio.Task[JobEvent]] = set()

    def may_upload(self, owner: Owner) -> bool:
        """Whether ``owner`` may send another picture now: checked before anything is
        downloaded or decoded, so a flood costs the bot nothing."""
        return self.uploads.allow(f"{owner.platform}:{owner.user_id}")

    async def decode(self, owner: Owner, data: bytes, what: str) -> Picture:
        """An upload as a ``Picture``, decoded in the sandbox at the largest size a job may
        need; raises ``InputImageError`` (counted in the metrics) for unusable files.

        One decode at a time per user: however many slow files one user sends, the other
        decoder processes stay free for everyone else.
        """
        limits = self.config.limits
        try:
            async with self._decoding(owner):
                return await self.decoder.decode(
                    data, image_limits(limits), what=what,
                    max_side=round(limits.max_size * STYLE_HEADROOM))
        except InputImageError as exc:
            self.metrics.refused(exc.reason)
            raise

    def refused(self, error: InputImageError) -> None:
        """Count an upload refused before decoding (size, type from the metadata)."""
        self.metrics.refused(error.reason)

    async def close(self) -> None:
        await self.decoder.close()

    async def choices(self, owner: Owner, chat_id: str | int | None) -> Choices:
        chosen = await self.store.effective(owner.platform, owner.user_id, chat_id,
                                            self.defaults)
        return chosen.within(self.config.limits)

    async def start(self, submission: Submission, make_view: ViewFactory) -> JobHandle:
        """Queue a job and follow it with the platform's view; PoolError says why not."""
        if not self.submissions.allow(f"{submission.owner.platform}:{submission.owner.user_id}"):
            raise SlowDown(SLOW_DOWN)
        choices = submission.choices.within(self.config.limits)
        spec = JobSpec(submission.owner, submission.chat, submission.content, submission.style,
                       choices.engine_settings(
                           self.config.pool,
                           preview_seconds=self.limits.intervals[submission.group]))
        handle = await self.pool.submit(spec)
        token = self.recent.remember(RecentJob(submission.owner, submission.chat,
                                               submission.group, submission.content,
                                               submission.style, choices))
        try:
            view = await make_view(handle, token)
        except Exception:
            self.pool.cancel(handle)  # only this job: the user's others go on
            raise
        task = asyncio.create_task(follow(handle, view, self.limits, group=submission.group),
                                   name=f"follow-{handle.id}")
        self._followers.add(task)
        task.add_done_callback(self._followers.discard)
        task.add_done_callback(lambda t: self._count(t, choices))
        return handle

    def _count(self, task: asyncio.Task[JobEvent], choices: Choices) -> None:
        if task.cancelled() or task.exception() is not None:
            return
        final = task.result()
        outcome = ("finished" if isinstance(final, Finished) else
                   final.reason if isinstance(final, Failed) else "cancelled")
        self.metrics.job_ended(outcome, preset=choices.preset, size=choices.size,
                               seconds=final.seconds if isinstance(final, Finished) else None)

    def initial_status(self, handle: JobHandle) -> Queued | Started:
        """What a status message says when it is first posted."""
        position = self.pool.position(handle)
        return Queued(position, self.pool.stats().waiting) if position else Started()

    async def drain(self, timeout: float) -> None:
        """Wait for status followers to deliver their last words (shutdown)."""
        if self._followers:
            await asyncio.wait(list(self._followers), timeout=timeout)

