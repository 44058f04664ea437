"""Jobs as users see them: submitting a pair, cancelling, where they are in the queue,
and the buttons under a result that paint the same pair again with one change."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..config import BotConfig
from ..i18n import Speech, Text, _, lines
from .jobs import (
    Failed,
    Finished,
    JobEvent,
    JobHandle,
    JobSpec,
    PoolError,
    Queued,
    Started,
)
from .metrics import Metrics
from .pictures import Picture
from .pool import JobPool
from .preferences import Preferences
from .ratelimit import SlidingWindow
from .recent import RecentJob, RecentJobs
from .settings import UserSettings
from .status import ChatLimits, StatusView, follow, status_text
from .who import Who

log = logging.getLogger("stylebot.jobs")

SLOW_DOWN = _("You're sending pictures faster than I can paint them. Please wait a minute, "
              "then send them again.")
#: the buttons under a result: (change, label)
RERUNS: tuple[tuple[str, Text], ...] = (
    ("stronger", _("💪 Stronger")),
    ("weaker", _("🪶 Weaker")),
    ("photo_colors", _("🎨 Keep colours")),
)
#: a re-run button's id: the job's token and the change (also Discord's dynamic template)
RERUN_PATTERN = r"rr:(?P<token>[\w-]+):(?P<change>\w+)"


def rerun_id(token: str, change: str) -> str:
    """A re-run button's id (Telegram callback_data, Discord custom_id: short enough)."""
    return f"rr:{token}:{change}"


def parse_rerun_id(data: str) -> tuple[str, str] | None:
    found = re.fullmatch(RERUN_PATTERN, data)
    return (found["token"], found["change"]) if found else None


@dataclass(frozen=True)
class JobStart:
    """What a platform needs to post a job's status message."""

    handle: JobHandle
    who: Who
    token: str  # for the re-run buttons
    settings: UserSettings
    language: str  # of the requester: the status speaks to them
    first: Text  # what the status says at first: the queue position, or starting
    thumbnail: bytes  # the photo, small: a status that shows a picture from the start
    reply_to: int | None


ViewFactory = Callable[[JobStart], Awaitable[StatusView]]


class JobDesk:
    def __init__(self, config: BotConfig, pool: JobPool, preferences: Preferences,
                 metrics: Metrics) -> None:
        self.config = config
        self.pool = pool
        self.preferences = preferences
        self.metrics = metrics
        self.recent = RecentJobs()
        self.limits = ChatLimits(config.progress_interval, config.group_progress_interval,
                                 on_throttled=metrics.throttled)
        self.submissions = SlidingWindow(config.limits.submissions_per_minute, 60.0)
        self._followers: set[asyncio.Task[JobEvent]] = set()

    async def submit(self, who: Who, content: Picture, style: Picture, view: ViewFactory, *,
                     settings: UserSettings | None = None,
                     reply_to: int | None = None) -> Speech | None:
        """Queue a job and follow it with the platform's view. None: it is on its way;
        else why not (the queue is full, too many at once, …)."""
        if not self.submissions.allow(f"{who.platform}:{who.user_id}"):
            return warning(SLOW_DOWN)
        chosen = (settings or await self.preferences.of(who)).within(self.preferences.limits)
        pool = self.config.pool
        spec = JobSpec(who.owner, who.chat, content, style, chosen.engine_settings(
            weights=pool.weights, device=pool.device, threads=pool.threads or None,
            preview_seconds=self.limits.intervals[who.group]))
        try:
            handle = await self.pool.submit(spec)
        except PoolError as exc:
            return warning(exc.text)
        token = self.recent.remember(RecentJob(who.owner, who.chat, who.group, content,
                                               style, chosen))
        start = JobStart(handle, who, token, chosen, await self.preferences.language(who),
                         status_text(self._first_status(handle)), content.thumbnail, reply_to)
        try:
            status = await view(start)
        except Exception:
            self.pool.cancel(handle)  # only this job: the user's others go on
            raise
        task = asyncio.create_task(follow(handle, status, self.limits, group=who.group),
                                   name=f"follow-{handle.id}")
        self._followers.add(task)
        task.add_done_callback(self._followers.discard)
        task.add_done_callback(lambda t: self._count(t, chosen))
        log.info("job submitted", extra={"job": handle.id, "user": who.user_id,
                                         "chat": who.chat, "preset": chosen.preset,
                                         "size": chosen.size})
        return None

    def _first_status(self, handle: JobHandle) -> Queued | Started:
        position = self.pool.position(handle)
        return Queued(position, self.pool.stats().waiting) if position else Started()

    def _count(self, task: asyncio.Task[JobEvent], chosen: UserSettings) -> None:
        if task.cancelled() or task.exception() is not None:
            return
        final = task.result()
        outcome = ("finished" if isinstance(final, Finished) else
                   final.reason if isinstance(final, Failed) else "cancelled")
        self.metrics.job_ended(outcome, preset=chosen.preset, size=chosen.size,
                               seconds=final.seconds if isinstance(final, Finished) else None)

    def cancel(self, who: Who) -> int:
        """Cancel ``who``'s waiting and running jobs; how many there were."""
        return len(self.pool.cancel_owner(who.owner))

    def report(self, who: Who) -> Speech:
        """The queue, and where ``who``'s jobs are in it."""
        stats = self.pool.stats()
        mine = [_("Yours: being painted now.") if position == 0 else
                _("Yours: number {position} in line.", position=position)
                for position in (self.pool.position(h) for h in self.pool.jobs_of(who.owner))
                if position is not None]
        return lines(_("Queue: {running} painting now, {waiting} waiting (room for {room}).",
                       running=stats.running, waiting=stats.waiting, room=stats.max_queue),
                     *mine)

    def rerun_refusal(self, who: Who, token: str) -> Speech | None:
        """Why ``who`` may not re-run the job behind ``token`` (None: they may)."""
        job = self.recent.get(token)
        if job is None:
            return _("That picture is too old to re-run; send the pair again.")
        if job.owner != who.owner:
            return _("These buttons belong to whoever asked for this picture. Send your own "
                     "photo and painting to try!")
        return None

    async def rerun(self, who: Who, token: str, change: str,
                    view: ViewFactory) -> tuple[Speech, bool]:
        """A button under a result: (what to tell the presser, whether a job started)."""
        refused = self.rerun_refusal(who, token)
        if refused is not None:
            return refused, False
        job = self.recent.get(token)
        assert job is not None
        try:
            again = job.settings.nudged(change)
        except ValueError:
            return _("That button no longer works; send the pair again."), False
        refused = await self.submit(who, job.content, job.style, view, settings=again)
        if refused is not None:
            return refused, False
        return _("Again with {settings}", settings=again.summary()), True

    async def drain(self, timeout: float) -> None:
        """Wait for status followers to deliver their last words (shutdown)."""
        if self._followers:
            await asyncio.wait(list(self._followers), timeout=timeout)



def warning(problem: Speech) -> Speech:
    """A refusal, marked as one."""
    return _("⚠️ {problem}", problem=problem)


def done_text(start: JobStart, finished: Finished) -> Speech:
    """The caption of a result: in groups, whose it is."""
    if start.who.group:
        return _("🖼 Done for {who} in {seconds} s · {settings}", who=start.who.mention,
                 seconds=f"{finished.seconds:.0f}", settings=start.settings.summary())
    return _("🖼 Done in {seconds} s · {settings}", seconds=f"{finished.seconds:.0f}",
             settings=start.settings.summary())
