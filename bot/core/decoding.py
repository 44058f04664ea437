"""Uploads are decoded in sandboxed processes, so a hostile file costs at most one process.

Each decoder process handles one request at a time: its address space is capped
(``RLIMIT_AS``), a request that runs past the timeout has its process killed and
replaced, and a process that crashes (a decoder bug) fails only its own request. The
processes import Pillow and ``nst_engine.images`` only, never torch, and answer in
plain bytes (a JSON header, then JPEG payloads), never pickles: even a decoder exploited
by a crafted file cannot make the bot run code. The event loop never blocks: pipe I/O
and process start/stop run on a small thread pool.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
import logging
import multiprocessing as mp
import os
import resource
import signal
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from nst_engine.errors import (
    CorruptImageError,
    DecodeTimeoutError,
    FileTooLargeError,
    ImageTooSmallError,
    ImageTooThinError,
    InputImageError,
    NotAnImageError,
    TooBigToProcessError,
    TooManyPixelsError,
    TooManyScansError,
    UnsupportedFormatError,
)
from nst_engine.images import ImageLimits, load_image

from .pictures import Picture

log = logging.getLogger(__name__)

_MB = 1024 * 1024
#: Legitimate 40 MP uploads, decoded to 1536 px on this project's 2-core CPU (shared, so
#: slower than idle): 16-bit RGBA PNG 1.8 s, transparent GIF 1.4 s, palette PNG 1.3 s,
#: single-strip TIFF 1.25 s, CMYK progressive JPEG 1.1 s, WebP 1.0 s, AVIF 0.8 s, a JPEG
#: with the most scans allowed (32) 0.8–1.4 s. 5 s is ~3× the slowest.
DEFAULT_TIMEOUT = 5.0
#: Address space per process. At start a process maps 46 MB (Pillow, no numpy or torch);
#: decoding 40 MP to 1536 px peaks at 661 MB for WebP (libwebp's animation decoder keeps
#: two canvases, plus Pillow's copy), 395 MB AVIF, 365 MB CMYK progressive JPEG, 356 MB
#: single-strip TIFF, 227 MB for the 6000×6600 16-bit RGBA PNG. 1 GB: 1.5× the worst.
DEFAULT_MEMORY_MB = 1024
#: Spawning a Python and importing Pillow takes 0.1–0.3 s; far more under heavy load.
START_TIMEOUT = 60.0
_MAX_HEADER = 64 * 1024
_MAX_PAYLOAD = 32 * _MB  # ~15× a 1536 px JPEG at quality 95; guards the parent
#: what a decoder process may report; anything else is treated as a crash
_ERRORS: dict[str, type[InputImageError]] = {cls.__name__: cls for cls in (
    NotAnImageError, UnsupportedFormatError, CorruptImageError, FileTooLargeError,
    TooManyPixelsError, ImageTooSmallError, ImageTooThinError, TooManyScansError,
    TooBigToProcessError)}


@dataclass(frozen=True)
class DecodeReport:
    """One request's outcome with the process's figures, for metrics and tests."""

    picture: Picture | None
    error: InputImageError | None
    #: the process's peak resident and virtual memory so far, bytes (None: it died)
    peak_rss: int | None
    peak_vm: int | None
    seconds: float
    pid: int


class Decoder:
    """A pool of decoder processes, started on first use; requests are served FIFO.

    ``timeout`` bounds one decode once a process has it (not the wait for one);
    ``memory_mb`` caps each process's address space, its baseline included.
    """

    def __init__(self, *, processes: int = 2, timeout: float = DEFAULT_TIMEOUT,
                 memory_mb: int = DEFAULT_MEMORY_MB) -> None:
        self.timeout = timeout
        self.memory_bytes = memory_mb * _MB
        self._children: list[_Child | None] = [None] * processes
        self._idle = list(range(processes))
        self._waiters: collections.deque[asyncio.Future[int]] = collections.deque()
        # a pipe thread stuck on a hung process must not hold up the start of its successor
        self._threads = ThreadPoolExecutor(max_workers=2 * processes,
                                           thread_name_prefix="decoder-pipe")
        self._closed = False

    async def decode(self, data: bytes, limits: ImageLimits, *, what: str,
                     max_side: int) -> Picture:
        """Upright RGB, long side at most ``max_side``; raises ``InputImageError``s."""
        report = await self.decode_report(data, limits, what=what, max_side=max_side)
        if report.error is not None:
            raise report.error
        assert report.picture is not None
        return report.picture

    async def decode_report(self, data: bytes, limits: ImageLimits, *, what: str,
                            max_side: int) -> DecodeReport:
        """Like ``decode`` but returns the error, with the process's figures."""
        index = await self._acquire()
        try:
            child = await self._child(index)
            request = {"limits": dataclasses.asdict(limits), "what": what,
                       "max_side": max_side}
            loop = asyncio.get_running_loop()
            started = time.monotonic()
            exchange = loop.run_in_executor(self._threads, child.exchange, request, data)
            try:
                header, payloads = await asyncio.wait_for(exchange, self.timeout)
            except TimeoutError:
                await self._replace(index, child)
                error = DecodeTimeoutError(
                    f"The {what} took too long to open (over {self.timeout:g} s). Send a "
                    "smaller picture, or save it again as JPEG or PNG.",
                    what=what, seconds=self.timeout)
                return DecodeReport(None, error, None, None, time.monotonic() - started,
                                    child.pid)
            except (EOFError, OSError, ValueError):  # died, or sent something malformed
                code = await loop.run_in_executor(self._threads, child.exit_code, 1.0)
                await self._replace(index, child)
                return DecodeReport(None, crashed(code, child.pid, what), None, None,
                                    time.monotonic() - started, child.pid)
            except asyncio.CancelledError:
                # its answer would reach the next request: drop the process (a successor
                # starts on next use; starting one now would need an await we can't have)
                child.process.kill()
                self._children[index] = None
                raise
            seconds = time.monotonic() - started
            if header.get("recycle"):  # out of memory: start afresh rather than fragmented
                await self._replace(index, child)
            return read_answer(header, payloads, what, seconds, child.pid)
        finally:
            self._release(index)

    async def close(self) -> None:
        """Stop every process (they exit when their pipe closes) and the pipe threads."""
        self._closed = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError("the decoder is closed"))
        children = [c for c in self._children if c is not None]
        self._children = [None] * len(self._children)
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._threads, c.stop) for c in children))
        self._threads.shutdown(wait=False)

    async def _child(self, index: int) -> _Child:
        if self._closed:
            raise RuntimeError("the decoder is closed")
        loop = asyncio.get_running_loop()
        child = self._children[index]
        if child is None:
            child = await loop.run_in_executor(self._threads, _Child, index, self.memory_bytes)
            self._children[index] = child
        if not child.ready:
            try:
                await loop.run_in_executor(self._threads, child.wait_ready, START_TIMEOUT)
            except BaseException:
                self._children[index] = None
                await loop.run_in_executor(self._threads, child.stop)
                raise
        return child

    async def _replace(self, index: int, child: _Child) -> None:
        """Kill ``child`` and start its successor (it gets ready while nobody waits)."""
        child.process.kill()  # a signal: instant, and it ends the pipe thread's wait
        self._children[index] = None
        if self._closed:
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._threads, child.reap)
        if not self._closed:
            self._children[index] = await loop.run_in_executor(
                self._threads, _Child, index, self.memory_bytes)

    async def _acquire(self) -> int:
        if self._closed:
            raise RuntimeError("the decoder is closed")
        if self._idle and not self._waiters:
            return self._idle.pop()
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed a process as we left
                self._release(waiter.result())
            raise

    def _release(self, index: int) -> None:
        """Hand the process to the longest waiter (of a loop still running), else idle it.

        Loop-agnostic on purpose: a module-level decoder outlives event loops in tests.
        """
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done() and not waiter.get_loop().is_closed():
                waiter.set_result(index)
                return
        self._idle.append(index)


def read_answer(header: dict[str, Any], payloads: list[bytes], what: str, seconds: float,
                pid: int) -> DecodeReport:
    peak_rss, peak_vm = header.get("peak_rss"), header.get("peak_vm")
    if header.get("ok"):
        picture = Picture(data=payloads[0], width=header["width"], height=header["height"],
                          thumbnail=payloads[1])
        return DecodeReport(picture, None, peak_rss, peak_vm, seconds, pid)
    if header.get("internal"):
        log.error("decoder process %d failed on the %s: %s", pid, what, header["internal"])
    cls = _ERRORS.get(header.get("error", ""), CorruptImageError)
    error = cls(str(header.get("message") or unreadable_message(what)),
                **dict(header.get("details") or {}))
    return DecodeReport(None, error, peak_rss, peak_vm, seconds, pid)


def unreadable_message(what: str) -> str:
    return (f"The {what} looks damaged and cannot be decoded. "
            "Send it again, or as another file.")


def crashed(code: int | None, pid: int, what: str) -> InputImageError:
    """The error for a request whose process died under it (or broke the protocol)."""
    log.warning("decoder process %d failed decoding the %s (exit code %s)", pid, what, code)
    if code == -signal.SIGKILL:  # not ours (timeouts are handled apart): the OOM killer
        return TooBigToProcessError(f"The {what} needs more memory to open than I can give "
                                    "it. Send a smaller picture.", what=what)
    return CorruptImageError(unreadable_message(what), what=what)


class _Child:
    """One decoder process and the parent's end of its pipe. Methods block: run them on
    the decoder's threads."""

    def __init__(self, index: int, memory_bytes: int) -> None:
        ctx = mp.get_context("spawn")  # a fork would copy the bot, threads and all
        self.conn, child_conn = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=serve, args=(child_conn, memory_bytes),
                                   name=f"stylebot-decoder-{index}", daemon=True)
        self.process.start()
        child_conn.close()  # so the parent sees EOF when the process dies
        self.pid = self.process.pid or 0
        self.ready = False
        self.hello: dict[str, Any] = {}

    def wait_ready(self, timeout: float) -> None:
        try:
            if self.conn.poll(timeout):
                self.hello = json.loads(self.conn.recv_bytes(_MAX_HEADER))
                self.ready = True
                return
        except (EOFError, OSError, ValueError):
            self.process.join(1.0)
        code = self.process.exitcode
        raise RuntimeError(f"decoder process {self.pid} " + (
            f"did not start in {timeout:g} s" if code is None else f"exited ({code}) on start"))

    def exchange(self, request: dict[str, Any],
                 data: bytes) -> tuple[dict[str, Any], list[bytes]]:
        """Send one request, read its answer: a JSON header, then (if ok) two JPEGs."""
        self.conn.send_bytes(json.dumps(request).encode())
        self.conn.send_bytes(data)
        header = json.loads(self.conn.recv_bytes(_MAX_HEADER))
        if not isinstance(header, dict):
            raise ValueError("malformed answer")
        count = 2 if header.get("ok") else 0
        return header, [self.conn.recv_bytes(_MAX_PAYLOAD) for _ in range(count)]

    def exit_code(self, timeout: float) -> int | None:
        """The exit code once the process is gone (a dead one is reaped at once)."""
        self.process.join(timeout)
        return self.process.exitcode

    def reap(self) -> None:
        self.process.join()
        self.conn.close()

    def stop(self) -> None:
        """Close the pipe (the process exits on EOF); kill it if it lingers."""
        self.conn.close()
        self.process.join(2.0)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join()


# --- the decoder process ------------------------------------------------------------------


def serve(conn: Connection, memory_bytes: int) -> None:
    """Decode requests until the parent closes the pipe.

    Nothing here loads numpy or torch (a test checks); the thread variables keep any
    BLAS or OpenMP a plugin might pull in to one thread, so the address-space cap is
    not spent on per-thread buffers, and AVIF decodes on this thread alone.
    """
    os.environ.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    from PIL import AvifImagePlugin

    AvifImagePlugin.DEFAULT_MAX_THREADS = 1
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    heavy = sorted(name for name in ("numpy", "torch") if name in sys.modules)
    try:
        conn.send_bytes(json.dumps({"vm": vm_status("VmSize"), "heavy": heavy}).encode())
        while True:
            request = json.loads(conn.recv_bytes())
            header, payloads = answer(request, conn.recv_bytes())
            conn.send_bytes(json.dumps(header).encode())
            for payload in payloads:
                conn.send_bytes(payload)
    except (EOFError, BrokenPipeError):  # the parent closed the pipe: time to go
        return


def answer(request: dict[str, Any], data: bytes) -> tuple[dict[str, Any], list[bytes]]:
    header: dict[str, Any]
    payloads: list[bytes] = []
    what = request["what"]
    try:
        image = load_image(data, limits=ImageLimits(**request["limits"]), what=what,
                           max_side=request["max_side"])
        picture = Picture.from_image(image)
        header = {"ok": True, "width": picture.width, "height": picture.height}
        payloads = [picture.data, picture.thumbnail]
    except InputImageError as exc:
        header = {"ok": False, "error": type(exc).__name__, "message": str(exc),
                  "details": exc.details, "recycle": isinstance(exc, TooBigToProcessError)}
    except MemoryError:  # past load_image: encoding the result
        header = {"ok": False, "error": "TooBigToProcessError", "recycle": True,
                  "message": f"The {what} needs more memory to open than I can give it. "
                             "Send a smaller picture.", "details": {"what": what}}
    except Exception:  # a bug, not the user's fault: say so in the log, not to the user
        header = {"ok": False, "error": "CorruptImageError", "details": {"what": what},
                  "internal": traceback.format_exc(limit=5)}
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a process spawned by a
    # 1.5 GB bot would report at least that
    header["peak_rss"] = vm_status("VmHWM") or (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    header["peak_vm"] = vm_status("VmPeak")
    return header, payloads


def vm_status(field: str) -> int | None:
    """A ``/proc/self/status`` memory figure in bytes (Linux), else None."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
