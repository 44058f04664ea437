"""The Redis backend: jobs in a SAQ queue that painters on any number of hosts take from
(``nst-bot worker``), so painting scales out and survives restarts of either side.

Why SAQ: asyncio on both sides, per-job heartbeats swept into retries, ``abort`` for
running jobs, ``update`` for progress, and JSON serialisation — never pickle. Its defaults
(a 10 s timeout, no heartbeat, one attempt) are all set explicitly here.

The bot side never imports torch. It keeps, per job it follows, a handle whose events
come from the job's state in Redis (SAQ publishes every change; a short poll covers a
missed one); queue positions come from the queue itself. Jobs outlive the bot: each one
carries a delivery record, and a bot that starts picks up every undelivered job and posts
its outcome — once, whichever bot process gets there first (``claim``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from saq.job import TERMINAL_STATUSES, Job, Status
from saq.queue.redis import RedisQueue

from ...config import PoolConfig
from ...frontend import StartupError
from ...i18n import _, plural
from ..jobs import (
    FAILURES,
    Cancelled,
    Failed,
    Finished,
    JobHandle,
    JobSpec,
    Owner,
    PoolClosed,
    Progressed,
    Queued,
    QueueFull,
    Retrying,
    Started,
    UserBusy,
)
from . import PoolStats, wire

log = logging.getLogger("stylebot.pool")

#: seconds between reads of the queue (positions, painters) and between sweeps for
#: painters that stopped reporting; the sweep is what notices a dead painter
REFRESH_EVERY = 1.0
SWEEP_EVERY = 5.0
#: how long a follower waits for a change before it looks anyway (SAQ publishes every
#: change; this only covers a missed one): often while painting, rarely while queued,
#: so a thousand waiting jobs do not cost a thousand reads a second
POLL_RUNNING = 1.0
POLL_QUEUED = 5.0
#: a claim to post an outcome lapses if the poster dies before finishing the post
CLAIM_LEASE = 120


class RedisJobPool:
    def __init__(self, config: PoolConfig) -> None:
        assert config.redis_url is not None
        self.config = config
        self.fatal: str | None = None
        self.closed = False
        self._redis: Redis = Redis.from_url(config.redis_url.reveal())
        self.queue = RedisQueue(self._redis, name=wire.QUEUE)
        self._followed: dict[str, JobHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._aborts: set[asyncio.Future[None]] = set()
        self._queued: list[str] = []  # job ids, next first
        self._active: set[str] = set()
        self._painters = 0
        self._limit = int(config.max_payload_mb * 1024 * 1024)

    # ----- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        try:
            version = await self.queue.version()
        except (OSError, RedisError) as exc:
            raise StartupError(f"Redis could not be reached ({type(exc).__name__}): check "
                               "[pool] redis_url and that Redis runs") from None
        if version < (6, 2):  # SAQ's queue is only FIFO on 6.2 and later (BLMOVE)
            raise StartupError(f"Redis {'.'.join(map(str, version))} is too old: the queue "
                               "needs 6.2 or later")
        await self._refresh()
        self._spawn(self._keep_refreshing(), "pool-refresh")
        self._spawn(self._keep_sweeping(), "pool-sweep")

    async def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until at least one painter has registered (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while self._painters < 1:
            if time.monotonic() > deadline:
                raise TimeoutError("no painter registered with the queue")
            await self._refresh()
            await asyncio.sleep(0.1)

    async def shutdown(self, grace: float) -> None:
        """Stop following; the jobs go on in Redis and the next bot delivers them. Cancels
        already asked for still reach Redis."""
        self.closed = True
        if self._aborts:
            await asyncio.wait(list(self._aborts), timeout=max(grace, 5.0))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.queue.disconnect()

    def _spawn(self, work: Awaitable[Any], name: str) -> None:
        task = asyncio.ensure_future(work)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ----- the JobPool interface -------------------------------------------------------
    async def submit(self, spec: JobSpec) -> JobHandle:
        if self.closed:
            raise PoolClosed(FAILURES["shutdown"])
        owned = await self._owned(spec.owner)
        if len(owned) >= self.config.per_user_running + self.config.per_user_waiting:
            raise UserBusy(_("You already have a picture in progress and one waiting. Wait "
                             "for it, or /cancel it first."))
        waiting = await self.queue.count("queued")
        if waiting >= self.config.max_queue:
            raise QueueFull(plural("The queue is full ({count} picture waiting). Please try "
                                   "again in a few minutes.",
                                   "The queue is full ({count} pictures waiting). Please try "
                                   "again in a few minutes.", waiting))
        key = uuid.uuid4().hex
        ttl = self.config.payload_ttl
        arguments = wire.spec_arguments(spec, await wire.put_blob(self._redis, spec.content, ttl),
                                        await wire.put_blob(self._redis, spec.style, ttl))
        handle = self._handle(spec.owner, spec.chat, key)
        await self._redis.sadd(wire.owner_key(spec.owner), key)
        await self._redis.expire(wire.owner_key(spec.owner), ttl)
        # The painter stops a job at job_timeout itself (no retry: it would take as long
        # again); SAQ's own timeout is only the backstop for a painter that hangs.
        await self.queue.enqueue(
            wire.FUNCTION, key=key, timeout=int(self.config.job_timeout) + 60,
            heartbeat=self.config.heartbeat, retries=self.config.attempts, ttl=ttl, **arguments)
        log.info("job queued", extra={"job": key, "user": spec.owner.user_id,
                                      "platform": spec.owner.platform, "chat": spec.chat})
        await self._refresh()
        self._follow(handle)
        return handle

    def cancel(self, handle: JobHandle) -> bool:
        """Cancel now for the user; a queued job is dropped at once, a running one is
        stopped by its painter within about a second (SAQ checks aborts every second,
        the engine stops within a step)."""
        if handle.done:
            return False
        handle.emit(Cancelled())
        abort = asyncio.ensure_future(self._abort(handle.id))
        self._aborts.add(abort)
        abort.add_done_callback(self._aborts.discard)
        return True

    def cancel_owner(self, owner: Owner) -> list[JobHandle]:
        return [handle for handle in self.jobs_of(owner) if self.cancel(handle)]

    def jobs_of(self, owner: Owner) -> list[JobHandle]:
        return [h for h in self._followed.values() if h.owner == owner and not h.done]

    def position(self, handle: JobHandle) -> int | None:
        if handle.id in self._active:
            return 0
        with contextlib.suppress(ValueError):
            return self._queued.index(handle.id) + 1
        return None

    def stats(self) -> PoolStats:
        return PoolStats(running=len(self._active), waiting=len(self._queued),
                         workers=self._painters, max_queue=self.config.max_queue)

    # ----- delivery across restarts ----------------------------------------------------
    async def remember(self, handle: JobHandle, record: dict[str, Any]) -> None:
        """Keep how to deliver ``handle``'s outcome, for a bot that starts later."""
        await self._redis.set(wire.delivery_key(handle.id), json.dumps(record),
                              ex=self.config.payload_ttl)
        await self._redis.sadd(wire.UNDELIVERED, handle.id)

    async def undelivered(self) -> list[tuple[JobHandle, dict[str, Any]]]:
        """Every job whose outcome no bot has posted yet, with its delivery record, now
        followed by this bot."""
        found = []
        for raw in await self._redis.smembers(wire.UNDELIVERED):
            key = raw.decode()
            record = await wire.get_capped(self._redis, wire.delivery_key(key), 1 << 20)
            job = await self.queue.job(key)
            if record is None or job is None:
                await self._redis.srem(wire.UNDELIVERED, key)  # expired: nothing to deliver
                continue
            arguments = job.kwargs or {}
            platform, user_id = arguments["owner"]
            handle = self._handle(Owner(platform, user_id), arguments["chat"], key)
            self._follow(handle)
            found.append((handle, json.loads(record)))
        return found

    def _handle(self, owner: Owner, chat: str, key: str) -> JobHandle:
        async def claim() -> bool:
            return bool(await self._redis.set(wire.claim_key(key), "1", nx=True,
                                              ex=CLAIM_LEASE))

        async def delivered() -> None:
            await self._redis.set(wire.claim_key(key), "1", ex=self.config.payload_ttl)
            await self._redis.srem(wire.UNDELIVERED, key)
            await self._redis.delete(wire.delivery_key(key))

        handle = JobHandle(owner, chat, key=key, claim=claim, delivered=delivered)
        self._followed[key] = handle
        return handle

    # ----- following jobs --------------------------------------------------------------
    def _follow(self, handle: JobHandle) -> None:
        self._spawn(self._watch(handle), f"watch-{handle.id}")

    async def _watch(self, handle: JobHandle) -> None:
        """Turn the job's state in Redis into the handle's events until it ends."""
        seen_step, seen_preview, started, retried = -1, 0, 0, 0
        try:
            while not handle.done:
                try:
                    job = await self.queue.job(handle.id)
                except RedisError:  # Redis away: the job may well go on; keep looking
                    await asyncio.sleep(POLL_QUEUED)
                    continue
                if job is None:  # expired before anyone looked
                    handle.emit(Failed("crash"))
                    break
                if job.status in TERMINAL_STATUSES:
                    handle.emit(await self._outcome(job))
                    break
                if job.status == Status.QUEUED and job.attempts > retried:
                    retried = job.attempts  # its painter was swept: it waits for another
                    handle.emit(Retrying(job.attempts + 1))
                if job.status == Status.ACTIVE:
                    if job.attempts > started:
                        if job.attempts > retried + 1:  # taken over before we saw it queued
                            retried = job.attempts - 1
                            handle.emit(Retrying(job.attempts))
                        started, seen_step = job.attempts, -1
                        handle.emit(Started())
                    seen_step, seen_preview = await self._progress(handle, job, seen_step,
                                                                   seen_preview)
                await self._changed(handle.id, POLL_RUNNING if job.status == Status.ACTIVE
                                    else POLL_QUEUED)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("following a job failed", extra={"job": handle.id})
            handle.emit(Failed("error"))
        finally:
            self._followed.pop(handle.id, None)
            with contextlib.suppress(Exception):
                await self._redis.srem(wire.owner_key(handle.owner), handle.id)

    async def _changed(self, key: str, patience: float) -> None:
        """Until SAQ publishes a change of the job, or ``patience`` seconds pass."""
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError, RedisError):
            await self.queue.listen([key], lambda _key, _status: True, timeout=patience)

    async def _progress(self, handle: JobHandle, job: Job, seen_step: int,
                        seen_preview: int) -> tuple[int, int]:
        meta = (job.meta or {}).get("progress")
        if not meta or (meta["step"] <= seen_step and meta.get("preview", 0) <= seen_preview):
            return seen_step, seen_preview  # nothing new (a new preview may repeat a step)
        preview = None
        if meta.get("preview", 0) > seen_preview:
            seen_preview = meta["preview"]
            try:
                preview = await wire.get_capped(
                    self._redis, wire.preview_key(handle.id, seen_preview), self._limit)
            except wire.PayloadTooLarge:
                log.warning("a preview over the size cap was left unread",
                            extra={"job": handle.id})
        handle.emit(Progressed(meta["step"], meta["total"], meta["scale"], meta["scales"],
                               meta["elapsed"], meta["eta"], preview))
        return meta["step"], seen_preview

    async def _outcome(self, job: Job) -> Finished | Failed | Cancelled:
        result = job.result if isinstance(job.result, dict) else {}
        if job.status == Status.COMPLETE and "width" in result:
            try:
                png = await wire.get_capped(self._redis, wire.result_key(job.key), self._limit)
            except wire.PayloadTooLarge:
                log.error("a result over the size cap was refused", extra={"job": job.key})
                return Failed("error")
            if png is None:
                return Failed("crash")
            return Finished(png, int(result["width"]), int(result["height"]),
                            float(result["seconds"]), int(result["steps"]),
                            str(result["device"]), str(result["precision"]))
        if job.status == Status.COMPLETE and "failed" in result:
            return Failed(str(result["failed"]) if result["failed"] in FAILURES else "error")
        if job.status == Status.ABORTED and job.error == self.queue.swept_error_message:
            return Failed("crash")  # its painter died on every attempt
        if job.status == Status.ABORTED or result.get("cancelled"):
            return Cancelled()
        if job.error and "TimeoutError" in job.error:
            return Failed("timeout")
        return Failed("error")

    async def _abort(self, key: str) -> None:
        job = await self.queue.job(key)
        if job is not None and job.status not in TERMINAL_STATUSES:
            # the marker outlives SAQ's 5 s default: the painter polls it (see Painter)
            await self.queue.abort(job, "cancelled", ttl=self.config.payload_ttl)

    async def _owned(self, owner: Owner) -> list[str]:
        """The owner's jobs that are still queued or running (across bot replicas)."""
        keys = [k.decode() for k in await self._redis.smembers(wire.owner_key(owner))]
        jobs = await self.queue.jobs(keys) if keys else []
        unfinished = [k for k, job in zip(keys, jobs, strict=True)
                      if job is not None and job.status not in TERMINAL_STATUSES]
        gone = set(keys) - set(unfinished)
        if gone:
            await self._redis.srem(wire.owner_key(owner), *gone)
        return unfinished

    # ----- the queue's state -----------------------------------------------------------
    async def _refresh(self) -> None:
        """Positions, running jobs and live painters, from Redis; waiting jobs this bot
        follows are told their new place."""
        queued = await self._redis.lrange(self.queue.namespace("queued"), 0, -1)
        active = await self._redis.lrange(self.queue.namespace("active"), 0, -1)
        self._queued = [self.queue.job_key_from_id(raw.decode()) for raw in queued]
        self._active = {self.queue.job_key_from_id(raw.decode()) for raw in active}
        self._painters = len((await self.queue.info())["workers"])
        for position, key in enumerate(self._queued, start=1):
            handle = self._followed.get(key)
            if handle is not None and not handle.done and \
                    handle.last_queued != (position, len(self._queued)):
                handle.last_queued = (position, len(self._queued))
                handle.emit(Queued(position, len(self._queued)))

    async def _keep_refreshing(self) -> None:
        await self._every(REFRESH_EVERY, self._refresh, "refresh")

    async def _keep_sweeping(self) -> None:
        """Painters sweep too, but if every painter is dead someone must notice."""
        await self._every(SWEEP_EVERY, lambda: self.queue.sweep(lock=int(SWEEP_EVERY)),
                          "sweep")

    async def _every(self, seconds: float, work: Callable[[], Awaitable[Any]],
                     what: str) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await work()
                if self.fatal is not None:
                    log.info("redis reachable again")
                self.fatal = None
            except (OSError, RedisError) as exc:
                if self.fatal is None:
                    log.error("redis unreachable", extra={"error": type(exc).__name__,
                                                          "during": what})
                self.fatal = f"Redis unreachable: {type(exc).__name__}"


async def count_painters(config: PoolConfig) -> int:
    """Painters registered with the queue in the last few seconds (``nst-bot health``)."""
    assert config.redis_url is not None
    queue = RedisQueue(Redis.from_url(config.redis_url.reveal()), name=wire.QUEUE)
    try:
        return len((await queue.info())["workers"])
    finally:
        await queue.disconnect()
