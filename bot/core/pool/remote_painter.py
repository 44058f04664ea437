"""``nst-bot worker``: one painter that takes jobs from the Redis queue, on any host.

It loads the weights once and warms up, then paints one job at a time: the pictures are
read from Redis (capped), progress and previews are written back in order through one
writer (a late update must never overwrite the finished state), and a heartbeat keeps the
job from being swept while a long phase reports nothing. SIGTERM finishes the current job
within ``shutdown_grace`` or hands it back to the queue, then exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from redis.asyncio import Redis
from saq import Worker
from saq.job import Job
from saq.queue.redis import RedisQueue

from ...config import PoolConfig
from ..gallery import GalleryWarmUp
from ..jobs import Cancelled, Failed, Finished, Progressed
from . import wire
from .messages import PainterOptions

log = logging.getLogger("stylebot.painter")

#: seconds between checks for the bot's abort marker: a cancel stops a remote job within
#: this plus the engine's current step
ABORT_POLL = 0.5


class Painter:
    """What one ``nst-bot worker`` process runs."""

    def __init__(self, config: PoolConfig, options: PainterOptions) -> None:
        assert config.redis_url is not None
        self.config = config
        self.options = options
        self.redis: Redis = Redis.from_url(config.redis_url.reveal())
        self.queue = RedisQueue(self.redis, name=wire.QUEUE)
        self.limit = int(config.max_payload_mb * 1024 * 1024)
        self.engine = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine")
        self.idle = asyncio.Event()  # no job: time to warm one more gallery painting
        self.warming: asyncio.Task[None] | None = None
        self.worker = Worker(
            self.queue, [(wire.FUNCTION, self.paint)], concurrency=1,
            startup=self.warm_up, shutdown_grace_period_s=int(config.shutdown_grace),
            metadata={"host": socket.gethostname(), "pid": os.getpid(),
                      "device": options.device},
            # dead painters are found by sweeps; a job's own heartbeat decides "dead"
            timers={"sweep": 5, "abort": 1, "worker_info": 5})

    async def run(self) -> None:
        try:
            await self.worker.start()  # until SIGINT/SIGTERM
        finally:
            if self.warming is not None:
                self.warming.cancel()
            self.engine.shutdown(wait=True)
            await self.queue.disconnect()

    async def warm_up(self, _ctx: Any) -> None:
        from ..painting import warm_up  # torch: only painters load it

        info = await asyncio.get_running_loop().run_in_executor(
            self.engine, warm_up, self.options)
        log.info("painter ready", extra=info)
        self.idle.set()
        self.warming = asyncio.create_task(self._warm_gallery())

    async def _warm_gallery(self) -> None:
        """The gallery's targets, one painting at a time while no job runs (a job that
        comes meanwhile waits for that one painting at most)."""
        from ..painting import gallery_warming

        loop = asyncio.get_running_loop()
        steps = gallery_warming(self.options)
        since, warmed = time.monotonic(), 0
        try:
            while (ready := await loop.run_in_executor(self.engine, next, steps, None)) \
                    is not None:
                warmed = ready
                await self.idle.wait()
        except Exception as exc:  # a job would meet it again, and say so to its user
            log.warning("gallery warm-up stopped", extra={
                "paintings": warmed, "error": f"{type(exc).__name__}: {exc}"})
            return
        log.info("gallery warmed", extra={"paintings": warmed,
                                          "seconds": round(time.monotonic() - since, 1)})

    async def paint(self, ctx: dict[str, Any], **arguments: Any) -> dict[str, Any]:
        """One job: its outcome as JSON (the picture itself goes to a result key)."""
        job: Job = ctx["job"]
        self.idle.clear()
        try:
            return await self._paint(job, arguments)
        finally:
            self.idle.set()

    async def _paint(self, job: Job, arguments: dict[str, Any]) -> dict[str, Any]:
        from ..painting import paint

        spec = await wire.spec_from(self.redis, arguments, self.limit)
        stop = threading.Event()
        updates: asyncio.Queue[Progressed | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        writer = asyncio.create_task(self._write_progress(job, updates, stop))
        beating = asyncio.create_task(self._heartbeat(job, stop))
        watching = asyncio.create_task(self._watch_abort(job, stop))

        def on_progress(event: Progressed) -> None:  # on the engine's thread
            loop.call_soon_threadsafe(updates.put_nowait, event)

        painting = loop.run_in_executor(self.engine, functools.partial(
            paint, spec, on_progress=on_progress, should_stop=stop.is_set))
        deadline = loop.call_later(self.config.job_timeout, stop.set)
        try:
            outcome = await asyncio.shield(painting)
        except asyncio.CancelledError:  # aborted by the user, or this painter is stopping
            stop.set()
            with contextlib.suppress(Exception):
                await painting  # the engine stops within a step
            raise
        finally:
            deadline.cancel()
            beating.cancel()
            watching.cancel()
            updates.put_nowait(None)
            await writer  # every update is written before the job's final state
        if isinstance(outcome, Finished):
            await self.redis.set(wire.result_key(job.key), outcome.png,
                                 ex=self.config.payload_ttl)
            return {"width": outcome.width, "height": outcome.height,
                    "seconds": outcome.seconds, "steps": outcome.steps,
                    "device": outcome.device, "precision": outcome.precision}
        if isinstance(outcome, Failed):
            return {"failed": outcome.reason}
        assert isinstance(outcome, Cancelled)
        if await self.redis.exists(job.abort_id):
            return {"cancelled": True}
        return {"failed": "timeout"}  # the deadline stopped it

    async def _write_progress(self, job: Job, updates: asyncio.Queue[Progressed | None],
                              stop: threading.Event) -> None:
        """The one writer of a job's progress: previews as numbered keys, then the job."""
        previews = 0
        while (event := await updates.get()) is not None:
            if stop.is_set():
                continue  # an update now could write "active" over the bot's "aborting"
            if not updates.empty() and event.preview_jpeg is None:
                continue  # a newer report is waiting: this one is stale already
            if event.preview_jpeg is not None:
                previews += 1
                await self.redis.set(wire.preview_key(job.key, previews), event.preview_jpeg,
                                     ex=self.config.payload_ttl)
            await job.update(meta={"progress": {
                "step": event.step, "total": event.total, "scale": event.scale,
                "scales": event.scales, "elapsed": event.elapsed, "eta": event.eta,
                "preview": previews}})

    async def _heartbeat(self, job: Job, stop: threading.Event) -> None:
        """Touch the job while it runs, even through phases without progress reports."""
        while not stop.is_set():
            await asyncio.sleep(max(1.0, self.config.heartbeat / 4))
            if not stop.is_set():
                await job.update()

    async def _watch_abort(self, job: Job, stop: threading.Event) -> None:
        """Stop the engine when the bot aborts the job. SAQ's own abort check reads the
        job's status, which a progress update can overwrite in a race (read status, bot
        writes "aborting", update writes "active" back); the abort marker cannot be."""
        while not stop.is_set():
            if await self.redis.exists(job.abort_id):
                stop.set()
            await asyncio.sleep(ABORT_POLL)


def run_painter(config: PoolConfig, device: str | None = None,
                gallery: GalleryWarmUp | None = None) -> None:
    """Serve until SIGTERM/SIGINT (``nst-bot worker``); ``gallery``: what to prepare."""
    options = PainterOptions(config.weights, device or config.device, config.threads or None,
                             gallery)
    asyncio.run(Painter(config, options).run())
