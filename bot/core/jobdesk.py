"""Jobs as users see them: submitting a pair, cancelling, where they are in the queue,
and the buttons under a result that paint the same pair again with one change."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..config import BotConfig
from ..i18n import Speech, Text, _, lines
from .gallery import Gallery, Painting
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
from .settings import Limits, UserSettings
from .status import ChatLimits, StatusView, follow, status_text
from .who import Who

log = logging.getLogger("stylebot.jobs")

SLOW_DOWN = _("You're sending pictures faster than I can paint them. Please wait a minute, "
              "then send them again.")
TOO_OLD = _("That picture is too old to re-run; send the pair again.")
OTHER_PAINTING = "other"
NOT_YOURS = _("These buttons belong to whoever asked for this picture. Send your own photo "
              "and painting to try!")
#: the buttons under a result: (change, label); ``offered_reruns`` picks those that would
#: change something
RERUNS: tuple[tuple[str, Text], ...] = (
    ("stronger", _("💪 Stronger")),
    ("weaker", _("🪶 Weaker")),
    ("photo_colors", _("🎨 Keep colours")),
    (OTHER_PAINTING, _("🖼 Other painting")),  # opens the gallery for the same photo
    ("bigger", _("🔍 Bigger")),
    ("full", _("✨ Full quality")),
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
    #: the gallery painting it is painted after (credited under the result)
    painting: Painting | None = None
    #: the buttons under the result
    reruns: tuple[tuple[str, Text], ...] = RERUNS[:3]


ViewFactory = Callable[[JobStart], Awaitable[StatusView]]
#: how a platform rebuilds a status view from its ``record()``, after a restart
Restorer = Callable[[JobStart, dict[str, Any]], Awaitable[StatusView]]


def offered_reruns(settings: UserSettings, limits: Limits,
                   gallery: bool) -> tuple[tuple[str, Text], ...]:
    """The buttons under a result painted with ``settings``: those that change something."""
    useless = {"photo_colors": settings.colors == "keep", OTHER_PAINTING: not gallery,
               "full": settings.preset != "fast", "bigger": settings.bigger(limits) is None}
    return tuple((change, label) for change, label in RERUNS if not useless.get(change))


class JobDesk:
    def __init__(self, config: BotConfig, pool: JobPool, preferences: Preferences,
                 metrics: Metrics, gallery: Gallery) -> None:
        self.config = config
        self.pool = pool
        self.preferences = preferences
        self.metrics = metrics
        self.gallery = gallery
        # next to the settings database: the buttons' pictures outlive the process too
        self.recent = RecentJobs(config.database.with_suffix(".results"),
                                 ttl=config.limits.rerun_hours * 3600,
                                 max_bytes=int(config.limits.rerun_store_mb * 2**20))
        self.limits = ChatLimits(config.progress_interval, config.group_progress_interval,
                                 on_throttled=metrics.throttled)
        self.submissions = SlidingWindow(config.limits.submissions_per_minute, 60.0)
        self._followers: dict[asyncio.Task[JobEvent], JobHandle] = {}

    async def submit(self, who: Who, content: Picture, style: Picture, view: ViewFactory, *,
                     settings: UserSettings | None = None, reply_to: int | None = None,
                     painting: Painting | None = None) -> Speech | None:
        """Queue a job and follow it with the platform's view. None: it is on its way;
        else why not (the queue is full, too many at once, …). ``painting``: ``style`` is
        that gallery painting."""
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
        token = self.recent.remember(RecentJob(
            who.owner, who.chat, who.group, content, None if painting else style,
            painting.key if painting else "", chosen, reply_to))
        start = JobStart(handle, who, token, chosen, await self.preferences.language(who),
                         status_text(self._first_status(handle)), content.thumbnail, reply_to,
                         painting, offered_reruns(chosen, self.preferences.limits,
                                                  bool(self.gallery)))
        try:
            status = await view(start)
        except Exception:
            self.pool.cancel(handle)  # only this job: the user's others go on
            raise
        await self.pool.remember(handle, {
            "who": dataclasses.asdict(who), "token": token,
            "settings": dataclasses.asdict(chosen), "language": start.language,
            "reply_to": reply_to, "view": status.record()})
        self._follow(start, status)
        log.info("job submitted", extra={"job": handle.id, "user": who.user_id,
                                         "chat": who.chat, "preset": chosen.preset,
                                         "size": chosen.size})
        return None

    def _follow(self, start: JobStart, status: StatusView) -> None:
        task = asyncio.create_task(follow(start.handle, status, self.limits,
                                          group=start.who.group),
                                   name=f"follow-{start.handle.id}")
        self._followers[task] = start.handle
        task.add_done_callback(lambda t: self._followers.pop(t, None))
        task.add_done_callback(lambda t: self._count(t, start.settings))

    async def resume(self, restorers: dict[str, Restorer]) -> int:
        """Take over the jobs an earlier bot process submitted and did not deliver (the
        Redis backend keeps them): rebuild each status view and follow it to the end.
        How many were taken over."""
        resumed = 0
        for handle, record in await self.pool.undelivered():
            who = Who(**record["who"])
            restore = restorers.get(who.platform)
            if restore is None:
                continue  # that platform is not configured in this process
            settings = UserSettings(**record["settings"])
            start = JobStart(handle, who, record["token"], settings, record["language"],
                             status_text(Started()), b"", record["reply_to"])
            try:
                status = await restore(start, record["view"])
            except Exception:
                log.warning("could not take over a job", exc_info=True,
                            extra={"job": handle.id})
                continue
            self._follow(start, status)
            resumed += 1
        if resumed:
            log.info("jobs taken over from an earlier run", extra={"jobs": resumed})
        return resumed

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

    async def kept(self, who: Who, token: str, *,
                   too_old: Text = TOO_OLD) -> RecentJob | Speech:
        """The pair (or photo) kept behind a button, if ``who`` may use it; else why not."""
        job = await self.recent.get(token)
        if job is None or (job.painting and self.gallery.get(job.painting) is None):
            return too_old
        if job.owner != who.owner:
            return NOT_YOURS
        return job

    async def rerun_refusal(self, who: Who, token: str) -> Speech | None:
        """Why ``who`` may not use the buttons of the job behind ``token`` (None: they may)."""
        found = await self.kept(who, token)
        return None if isinstance(found, RecentJob) else found

    async def rerun(self, who: Who, token: str, change: str,
                    view: ViewFactory) -> tuple[Speech, bool]:
        """A button under a result: (what to tell the presser, whether a job started)."""
        job = await self.kept(who, token)
        if not isinstance(job, RecentJob):
            return job, False
        painting = self.gallery.get(job.painting) if job.painting else None
        style = painting.picture if painting is not None else job.style
        try:
            if job.settings is None or style is None:
                raise ValueError("a photo waiting for its painting has no result to re-run")
            again = job.settings.nudged(change, self.preferences.limits)
        except ValueError:
            return _("That button no longer works; send the pair again."), False
        refused = await self.submit(who, job.content, style, view, settings=again,
                                    painting=painting)
        if refused is not None:
            return refused, False
        return _("Again with {settings}", settings=again.summary()), True

    async def drain(self, timeout: float) -> None:
        """At shutdown, after the pool's: followers of ended jobs get ``timeout`` seconds
        to deliver their last words; the others stop following (the local pool ends every
        job at shutdown; with Redis the jobs go on, and the next bot delivers them)."""
        ending = [task for task, handle in self._followers.items() if handle.done]
        if ending:
            await asyncio.wait(ending, timeout=timeout)
        for task in list(self._followers):
            task.cancel()
        await asyncio.gather(*self._followers, return_exceptions=True)



def warning(problem: Speech) -> Speech:
    """A refusal, marked as one."""
    return _("⚠️ {problem}", problem=problem)


def done_text(start: JobStart, finished: Finished) -> Speech:
    """The caption of a result: in groups, whose it is; the gallery painting's credit."""
    if start.who.group:
        done = _("🖼 Done for {who} in {seconds} s · {settings}", who=start.who.mention,
                 seconds=f"{finished.seconds:.0f}", settings=start.settings.summary())
    else:
        done = _("🖼 Done in {seconds} s · {settings}", seconds=f"{finished.seconds:.0f}",
                 settings=start.settings.summary())
    return lines(done, credit_line(start))


def credit_line(start: JobStart) -> str | None:
    """The gallery painting a result follows (names: nothing to translate)."""
    return f"🎨 {start.painting.credit}" if start.painting is not None else None
