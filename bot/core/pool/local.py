"""The local backend: a bounded queue in front of painter processes on this host (the
embedded default: no server needed).

Design: the asyncio side owns all scheduling state and is never blocked. Each
worker has a duplex pipe read by a daemon thread that hands messages to the loop with
``call_soon_threadsafe``; job payloads are sent from a thread too. A dead worker fails
only its own job and is replaced; a job that overruns its timeout, or ignores a cancel,
gets its worker killed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import multiprocessing as mp
import threading
import time
from typing import Any

from ...config import PoolConfig
from ...i18n import _, plural
from ..gallery import GalleryWarmUp
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
    Started,
    UserBusy,
)
from . import PoolStats
from .local_painter import painter_main
from .messages import (
    CannotStart,
    FromPainter,
    Paint,
    PainterOptions,
    Ready,
    Report,
    Stop,
    Warmed,
)

log = logging.getLogger("stylebot.pool")

#: seconds a worker gets to honour a cancel before it is killed and replaced, at least;
#: a step can take longer (one fp32 step at 1024 px is ~6 s on 2 cores), so the grace
#: grows to CANCEL_STEPS times the longest step the worker has reported
CANCEL_GRACE = 3.0
CANCEL_STEPS = 2.5
#: a job waits at most this long while no painter is able to take it
STARVED_AFTER = 120.0
#: seconds before replacing a worker that cannot start, or that keeps dying
RESPAWN_BACKOFF = 30.0
class _Worker:
    """One worker process and the bookkeeping the pool keeps about it."""

    def __init__(self, pool: LocalJobPool, index: int) -> None:
        ctx = mp.get_context("spawn")  # fork is unsafe with torch's threads
        self.index = index
        self.conn, child = ctx.Pipe(duplex=True)
        self.cancel_seq = ctx.Value("q", 0, lock=False)
        self.process = ctx.Process(target=painter_main, name=f"stylebot-worker-{index}",
                                   args=(child, self.cancel_seq, pool.options), daemon=True)
        self.process.start()
        child.close()
        self.ready = False
        self.job: JobHandle | None = None
        self.draining = False  # the job was cancelled/timed out; waiting for the worker to stop
        self.kill_timer: asyncio.TimerHandle | None = None
        self.timeout_timer: asyncio.TimerHandle | None = None
        self.started = time.monotonic()
        #: the longest gap between two progress reports of the current job: a cancel is
        #: only honoured between steps, so the kill grace scales with it
        self.longest_step = 0.0
        self.last_report = 0.0
        #: stopped by the pool on purpose (stuck after a cancel): not a crash to back off from
        self.killed_on_purpose = False
        loop = asyncio.get_running_loop()
        self.reader = threading.Thread(target=self._read, args=(loop, pool), daemon=True,
                                       name=f"stylebot-worker-{index}-reader")
        self.reader.start()

    def _read(self, loop: asyncio.AbstractEventLoop, pool: LocalJobPool) -> None:
        """Hand the worker's messages to the loop; whatever goes wrong here, the worker is
        stopped and its exit reported, so its slot can never stay busy forever."""
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                break
            except Exception:  # an unreadable message: the worker is in an unknown state
                log.exception("unreadable message from a worker; replacing it",
                              extra={"worker": self.index})
                self.kill()
                break
            loop.call_soon_threadsafe(pool._on_message, self, message)
        self.process.join()
        if not loop.is_closed():
            loop.call_soon_threadsafe(pool._on_exit, self)

    @property
    def idle(self) -> bool:
        return self.ready and self.job is None and not self.draining

    @property
    def cancel_grace(self) -> float:
        return max(CANCEL_GRACE, CANCEL_STEPS * self.longest_step)

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()


class LocalJobPool:
    def __init__(self, config: PoolConfig, gallery: GalleryWarmUp | None = None) -> None:
        self.config = config
        self.options = PainterOptions(config.weights, config.device, config.threads or None,
                                      gallery)
        self.waiting: collections.deque[JobHandle] = collections.deque()
        self.workers: list[_Worker] = []
        self.closed = False
        #: why the painters cannot start (for logs and health), None once one is ready
        self.fatal: str | None = None
        self._restarts: collections.deque[float] = collections.deque(maxlen=5)
        self._watchdog: asyncio.Task[None] | None = None
        self._last_able = time.monotonic()  # when a painter last was able to take jobs

    async def start(self) -> None:
        self.workers = [_Worker(self, i) for i in range(self.config.workers)]
        self._watchdog = asyncio.create_task(self._watch(), name="pool-watchdog")

    async def wait_ready(self, timeout: float = 120.0) -> None:
        """For tests and benchmarks: block until every worker has loaded its weights."""
        deadline = time.monotonic() + timeout
        while not all(w.ready for w in self.workers) and self.fatal is None:
            if time.monotonic() > deadline:
                raise TimeoutError("workers did not become ready")
            await asyncio.sleep(0.05)

    # ----- the JobPool interface -------------------------------------------------------
    async def submit(self, spec: JobSpec) -> JobHandle:
        if self.closed:
            raise PoolClosed(FAILURES["shutdown"])
        if self.fatal:
            raise PoolClosed(FAILURES["unavailable"])
        allowed = self.config.per_user_running + self.config.per_user_waiting
        if len(self.jobs_of(spec.owner)) >= allowed:
            raise UserBusy(_("You already have a picture in progress and one waiting. Wait "
                             "for it, or /cancel it first."))
        if len(self.waiting) >= self.config.max_queue:
            raise QueueFull(plural("The queue is full ({count} picture waiting). Please try "
                                   "again in a few minutes.",
                                   "The queue is full ({count} pictures waiting). Please try "
                                   "again in a few minutes.", len(self.waiting)))
        handle = JobHandle(spec.owner, spec.chat, spec=spec)
        self.waiting.append(handle)
        log.info("job queued", extra={"job": handle.id, "user": spec.owner.user_id,
                                      "platform": spec.owner.platform, "chat": spec.chat,
                                      "waiting": len(self.waiting)})
        self._dispatch()
        if handle in self.waiting:
            self._announce_positions()
        return handle

    def cancel_owner(self, owner: Owner) -> list[JobHandle]:
        """Cancel the owner's waiting and running jobs; the events say Cancelled at once."""
        return [handle for handle in self.jobs_of(owner) if self.cancel(handle)]

    def cancel(self, handle: JobHandle) -> bool:
        """Cancel one job, waiting or running; False if it had already ended."""
        if handle in self.waiting:
            self.waiting.remove(handle)
            handle.emit(Cancelled())
            self._announce_positions()
        else:
            worker = next((w for w in self.workers if w.job is handle and not w.draining), None)
            if worker is None:
                return False
            self._stop_running(worker, Cancelled())
        log.info("job cancelled", extra={"job": handle.id, "user": handle.owner.user_id,
                                         "platform": handle.owner.platform})
        return True

    async def remember(self, handle: JobHandle, record: dict[str, Any]) -> None:
        """Local jobs end with the bot: there is nothing to deliver after a restart."""

    async def undelivered(self) -> list[tuple[JobHandle, dict[str, Any]]]:
        return []

    def position(self, handle: JobHandle) -> int | None:
        """0 while running, 1.. while waiting, None when finished or unknown."""
        if any(w.job is handle for w in self.workers):
            return 0
        try:
            return self.waiting.index(handle) + 1
        except ValueError:
            return None

    def stats(self) -> PoolStats:
        return PoolStats(running=sum(1 for w in self.workers if w.job is not None),
                         waiting=len(self.waiting),
                         workers=sum(1 for w in self.workers if w.process.is_alive()),
                         max_queue=self.config.max_queue)

    def jobs_of(self, owner: Owner) -> list[JobHandle]:
        running = [w.job for w in self.workers
                   if w.job is not None and w.job.owner == owner and not w.job.done]
        return running + [h for h in self.waiting if h.owner == owner]

    async def shutdown(self, grace: float) -> None:
        """Refuse new jobs, tell waiting users, let running jobs finish within ``grace``."""
        self.closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        while self.waiting:
            self.waiting.popleft().emit(Failed("shutdown"))
        deadline = time.monotonic() + grace
        while any(w.job is not None for w in self.workers) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for worker in self.workers:
            if worker.job is not None and not worker.draining:
                self._stop_running(worker, Failed("cut_off"))
        stop_by = time.monotonic() + CANCEL_GRACE
        for worker in self.workers:
            if worker.process.is_alive() and worker.job is None:
                with contextlib.suppress(OSError):
                    worker.conn.send(Stop())
        while any(w.process.is_alive() for w in self.workers) and time.monotonic() < stop_by:
            await asyncio.sleep(0.05)
        for worker in self.workers:
            worker.kill()
        await asyncio.to_thread(self._join_all)

    def _join_all(self) -> None:
        for worker in self.workers:
            worker.process.join(timeout=5)
            worker.reader.join(timeout=5)
            worker.conn.close()

    # ----- scheduling ------------------------------------------------------------------
    def _dispatch(self) -> None:
        """Start waiting jobs, oldest first, on idle workers, honouring per_user_running."""
        for worker in self.workers:
            if self.closed or not worker.idle:
                continue
            for handle in self.waiting:
                running = sum(1 for w in self.workers
                              if w.job is not None and w.job.owner == handle.owner)
                if running < self.config.per_user_running:
                    self.waiting.remove(handle)
                    self._start(worker, handle)
                    break

    def _start(self, worker: _Worker, handle: JobHandle) -> None:
        worker.job = handle
        worker.longest_step, worker.last_report = 0.0, time.monotonic()
        loop = asyncio.get_running_loop()
        worker.timeout_timer = loop.call_later(self.config.job_timeout, self._timeout, worker,
                                               handle)
        handle.emit(Started())
        log.info("job started", extra={"job": handle.id, "worker": worker.index,
                                       "user": handle.owner.user_id})
        # Payloads can be megabytes: a pipe write that size must not stall the loop.
        assert handle.spec is not None
        send = asyncio.ensure_future(asyncio.to_thread(worker.conn.send,
                                                       Paint(handle.seq, handle.spec)))
        send.add_done_callback(lambda f: f.exception() and log.warning(
            "could not send job to worker", extra={"job": handle.id}))
        self._announce_positions()

    def _announce_positions(self) -> None:
        """Tell every waiting job its position, when it changed since last told."""
        total = len(self.waiting)
        for index, handle in enumerate(self.waiting, start=1):
            if handle.last_queued != (index, total):
                handle.last_queued = (index, total)
                handle.emit(Queued(index, total))

    def _stop_running(self, worker: _Worker, outcome: Cancelled | Failed) -> None:
        """Tell the user now; make the worker stop within a step, or kill it."""
        assert worker.job is not None
        worker.job.emit(outcome)
        worker.draining = True
        worker.cancel_seq.value = worker.job.seq
        loop = asyncio.get_running_loop()
        worker.kill_timer = loop.call_later(worker.cancel_grace, self._kill_stuck, worker,
                                            worker.job)

    def _timeout(self, worker: _Worker, handle: JobHandle) -> None:
        if worker.job is handle and not worker.draining:
            log.warning("job timed out", extra={"job": handle.id})
            self._stop_running(worker, Failed("timeout"))

    def _kill_stuck(self, worker: _Worker, handle: JobHandle) -> None:
        if worker.job is handle:
            log.warning("worker ignored cancel; killing it", extra={
                "job": handle.id, "worker": worker.index, "grace": worker.cancel_grace})
            worker.killed_on_purpose = True
            worker.kill()

    def _finish(self, worker: _Worker) -> None:
        for timer in (worker.timeout_timer, worker.kill_timer):
            if timer is not None:
                timer.cancel()
        worker.job, worker.draining = None, False
        worker.timeout_timer = worker.kill_timer = None
        self._dispatch()

    # ----- messages from workers (called on the loop) ------------------------------------
    def _on_message(self, worker: _Worker, message: FromPainter) -> None:
        match message:
            case Ready(info):
                worker.ready = True
                if self.fatal is not None:
                    log.info("painters available again", extra={"worker": worker.index})
                self.fatal = None
                log.info("worker ready", extra={"worker": worker.index, **info})
                self._dispatch()
            case Warmed(paintings, seconds, error):
                log.log(logging.WARNING if error else logging.INFO, "gallery warmed", extra={
                    "worker": worker.index, "paintings": paintings,
                    "seconds": round(seconds, 1), **({"error": error} if error else {})})
            case CannotStart(error):
                self.fatal = error  # for the log and the health check, never for users
                log.error("worker cannot start", extra={"worker": worker.index,
                                                         "error": error})
                self._fail_waiting()
            case Report(seq, event) if worker.job is not None and seq == worker.job.seq:
                self._on_report(worker, worker.job, event)
            case Report():
                pass  # a late report from a job already given up on

    def _on_report(self, worker: _Worker, handle: JobHandle,
                   event: Progressed | Finished | Failed | Cancelled) -> None:
        if isinstance(event, Progressed):
            now = time.monotonic()
            worker.longest_step = max(worker.longest_step, now - worker.last_report)
            worker.last_report = now
            if not worker.draining:
                handle.emit(event)
            return
        handle.emit(event)
        if isinstance(event, Finished):
            log.info("job finished", extra={"job": handle.id, "seconds": round(event.seconds, 2),
                                            "steps": event.steps})
        elif isinstance(event, Failed):
            log.info("job failed", extra={"job": handle.id, "reason": event.reason})
        self._finish(worker)

    def _on_exit(self, worker: _Worker) -> None:
        if worker not in self.workers:
            return
        code = worker.process.exitcode
        worker.ready = False  # never dispatch to it again
        if worker.job is not None:
            log.error("worker died during a job", extra={"job": worker.job.id,
                                                         "worker": worker.index, "exitcode": code})
            worker.job.emit(Failed("crash"))
            self._finish(worker)
        if self.closed:
            return
        index = self.workers.index(worker)
        now = time.monotonic()
        if not worker.killed_on_purpose:
            self._restarts.append(now)
        # A worker that keeps dying at start (bad weights, no memory) must not spin.
        burst = len(self._restarts) == self._restarts.maxlen and now - self._restarts[0] < 60
        delay = RESPAWN_BACKOFF if burst or self.fatal else 0.0
        log.warning("replacing worker", extra={"worker": worker.index, "exitcode": code,
                                               "delay": delay})
        asyncio.get_running_loop().call_later(delay, self._respawn, index, worker)

    def _respawn(self, index: int, old: _Worker) -> None:
        if self.closed or self.workers[index] is not old:
            return
        self.workers[index] = _Worker(self, old.index)

    def _fail_waiting(self) -> None:
        while self.waiting:
            self.waiting.popleft().emit(Failed("unavailable"))

    async def _watch(self) -> None:
        """Waiting jobs must not wait forever when no painter can take them (painters that
        keep failing to start, or all of them dead): fail them after STARVED_AFTER."""
        while True:
            await asyncio.sleep(min(5.0, STARVED_AFTER / 4))
            now = time.monotonic()
            if any(w.ready and w.process.is_alive() for w in self.workers):
                self._last_able = now
            elif self.waiting and now - self._last_able > STARVED_AFTER:
                log.error("no painter could take jobs for %.0f s; failing waiting jobs",
                          now - self._last_able)
                self._fail_waiting()

