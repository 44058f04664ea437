"""The sandboxed decoder: every upload ends as a Picture or a typed error, in bounded time
and memory, without ever blocking the event loop."""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.decoding import DEFAULT_MEMORY_MB, Decoder, DecodeReport
from bot.core.pictures import Picture
from nst_engine.errors import (
    CorruptImageError,
    DecodeTimeoutError,
    InputImageError,
    TooBigToProcessError,
)
from nst_engine.images import ImageLimits
from tests.conftest import gradient_image, png_bytes
from tests.helpers import bad_images as bad

MB = 1024 * 1024
REPO = Path(__file__).resolve().parents[3]
LIMITS = ImageLimits()
MAX_SIDE = 1536

@pytest.fixture
async def decoder() -> AsyncIterator[Decoder]:
    decoder = Decoder(processes=2, timeout=5.0)
    yield decoder
    await decoder.close()


@pytest.fixture(scope="module")
def big_rgba16() -> bytes:
    """The audit's 6000×6600 16-bit RGBA PNG (~350 KB; +723 MB at peak before)."""
    return bad.big_rgba16_png()


def small_png() -> bytes:
    return png_bytes(gradient_image(64, 48))


def decoder_pids() -> set[int]:
    return {p.pid for p in mp.active_children() if p.name.startswith("stylebot-decoder")
            and p.pid is not None}


async def test_every_kind_of_upload_ends_typed_bounded_and_small(decoder: Decoder) -> None:
    assert set(bad.EXPECTED) == set(bad.CATALOGUE)
    for name, make in bad.CATALOGUE.items():
        started = time.monotonic()
        report = await decoder.decode_report(make(), LIMITS, what="photo", max_side=MAX_SIDE)
        elapsed = time.monotonic() - started
        if bad.EXPECTED[name] is None:
            assert report.error is None, (name, report.error)
            assert isinstance(report.picture, Picture)
            assert max(report.picture.width, report.picture.height) <= MAX_SIDE
        else:
            error = report.error
            assert isinstance(error, InputImageError), (name, report)
            assert error.reason == bad.EXPECTED[name], (name, error)
            assert str(error).startswith("The photo ") and "send" in str(error).lower(), name
            assert error.details.get("what") == "photo", name
        assert elapsed < decoder.timeout + 2, name  # bounded, not a benchmark
        assert report.peak_rss is not None and report.peak_vm is not None
        assert report.peak_rss < report.peak_vm <= DEFAULT_MEMORY_MB * MB, name


def test_the_decoding_path_never_loads_torch_or_numpy() -> None:
    code = ("import sys\n"
            "from bot.core.decoding import answer\n"
            "from tests.helpers import bad_images as bad\n"
            "for make in bad.CATALOGUE.values():\n"
            "    answer({'limits': {}, 'what': 'photo', 'max_side': 256}, make())\n"
            "assert 'torch' not in sys.modules and 'numpy' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


async def test_repeated_scan_jpeg_is_refused_by_its_scan_count(decoder: Decoder) -> None:
    data = bad.repeated_scan_jpeg(4000, 4000, 500)  # 107 KB: 6–8 s to decode before
    report = await decoder.decode_report(data, LIMITS, what="photo", max_side=MAX_SIDE)
    assert report.error is not None and report.error.reason == "scans"
    assert report.error.details["scans"] == 510
    assert report.seconds < decoder.timeout


async def test_ico_is_refused_by_its_format(decoder: Decoder) -> None:
    report = await decoder.decode_report(bad.ico_with_png(2000), LIMITS, what="photo",
                                         max_side=MAX_SIDE)
    assert report.error is not None and report.error.reason == "format"
    assert "JPEG" in str(report.error)


async def test_thin_images_are_refused(decoder: Decoder) -> None:
    with pytest.raises(InputImageError, match="too tall") as err:
        await decoder.decode(bad.thin(16, 400), LIMITS, what="photo", max_side=MAX_SIDE)
    assert err.value.reason == "thin"


async def test_big_16_bit_rgba_png_is_decoded_in_a_fraction_of_the_memory(
        decoder: Decoder, big_rgba16: bytes) -> None:
    report = await decoder.decode_report(big_rgba16, LIMITS, what="photo", max_side=MAX_SIDE)
    assert report.picture is not None
    assert (report.picture.width, report.picture.height) == (1396, 1536)
    assert report.peak_rss is not None
    assert report.peak_rss < 400 * MB  # measured ~210 MB; the old path took +723 MB


async def test_a_decode_past_the_timeout_kills_and_replaces_its_process(
        big_rgba16: bytes) -> None:
    decoder = Decoder(processes=1, timeout=0.3)
    try:
        started = time.monotonic()
        report = await decoder.decode_report(big_rgba16, LIMITS, what="photo",
                                             max_side=MAX_SIDE)
        assert isinstance(report.error, DecodeTimeoutError)
        assert report.error.reason == "timeout" and report.error.details["seconds"] == 0.3
        assert time.monotonic() - started < 0.3 + 2
        assert report.pid not in decoder_pids()
        with pytest.raises(ProcessLookupError):
            os.kill(report.pid, 0)  # killed and reaped
        decoder.timeout = 5.0
        after = await decoder.decode_report(small_png(), LIMITS, what="photo",
                                            max_side=MAX_SIDE)
        assert after.picture is not None and after.pid != report.pid
    finally:
        await decoder.close()


@pytest.mark.parametrize("signum,error", [(signal.SIGSEGV, CorruptImageError),
                                          (signal.SIGKILL, TooBigToProcessError)],
                         ids=["segfault", "oom-killer"])
async def test_a_crashing_decoder_fails_only_its_request(
        big_rgba16: bytes, signum: int, error: type[InputImageError]) -> None:
    decoder = Decoder(processes=1)
    try:
        await decoder.decode(small_png(), LIMITS, what="photo", max_side=MAX_SIDE)
        (pid,) = decoder_pids()
        task = asyncio.create_task(decoder.decode_report(big_rgba16, LIMITS, what="photo",
                                                         max_side=MAX_SIDE))
        await asyncio.sleep(0.3)
        os.kill(pid, signum)
        report = await task
        assert type(report.error) is error and report.pid == pid
        after = await decoder.decode_report(small_png(), LIMITS, what="photo",
                                            max_side=MAX_SIDE)
        assert after.picture is not None and after.pid != pid
    finally:
        await decoder.close()


async def test_memory_is_capped_and_the_process_recycled(big_rgba16: bytes) -> None:
    decoder = Decoder(processes=1, memory_mb=200)
    try:
        report = await decoder.decode_report(big_rgba16, LIMITS, what="photo",
                                             max_side=MAX_SIDE)
        assert isinstance(report.error, TooBigToProcessError)
        assert report.error.reason == "memory"
        assert report.peak_vm is not None and report.peak_vm <= 200 * MB
        after = await decoder.decode_report(small_png(), LIMITS, what="photo",
                                            max_side=MAX_SIDE)
        assert after.picture is not None and after.pid != report.pid
    finally:
        await decoder.close()


async def test_the_event_loop_keeps_running_during_a_decode(decoder: Decoder,
                                                            big_rgba16: bytes) -> None:
    ticks: list[float] = []

    async def tick() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    try:
        report = await decoder.decode_report(big_rgba16, LIMITS, what="photo",
                                             max_side=MAX_SIDE)
    finally:
        ticker.cancel()
    assert report.picture is not None
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 20 and max(gaps) < 0.5


async def test_requests_wait_for_a_process_in_order() -> None:
    decoder = Decoder(processes=1)
    finished: list[int] = []

    async def one(index: int) -> DecodeReport:
        report = await decoder.decode_report(png_bytes(gradient_image(64 + index, 48)),
                                             LIMITS, what="photo", max_side=MAX_SIDE)
        finished.append(index)
        return report

    try:
        reports = await asyncio.gather(*(one(i) for i in range(5)))
        assert finished == list(range(5))
        assert len({r.pid for r in reports}) == 1
        assert [r.picture.width for r in reports if r.picture] == [64, 65, 66, 67, 68]
    finally:
        await decoder.close()


async def test_a_cancelled_waiter_does_not_lose_the_process() -> None:
    decoder = Decoder(processes=1)
    try:
        first = asyncio.create_task(decoder.decode(small_png(), LIMITS, what="photo",
                                                   max_side=MAX_SIDE))
        second = asyncio.create_task(decoder.decode(small_png(), LIMITS, what="photo",
                                                    max_side=MAX_SIDE))
        await asyncio.sleep(0)
        second.cancel()
        await first
        third = await decoder.decode(small_png(), LIMITS, what="photo", max_side=MAX_SIDE)
        assert third.width == 64
    finally:
        await decoder.close()


async def test_close_stops_the_processes() -> None:
    decoder = Decoder(processes=2)
    await asyncio.gather(*(decoder.decode(small_png(), LIMITS, what="photo", max_side=64)
                           for _ in range(2)))
    pids = decoder_pids()
    assert len(pids) == 2
    await decoder.close()
    assert not pids & decoder_pids()
    with pytest.raises(RuntimeError, match="closed"):
        await decoder.decode(small_png(), LIMITS, what="photo", max_side=64)


async def test_a_cancelled_decode_does_not_leave_its_answer_for_the_next(
        big_rgba16: bytes) -> None:
    decoder = Decoder(processes=1)
    try:
        await decoder.decode(small_png(), LIMITS, what="photo", max_side=MAX_SIDE)
        busy = asyncio.create_task(decoder.decode(big_rgba16, LIMITS, what="photo",
                                                  max_side=MAX_SIDE))
        await asyncio.sleep(0.2)
        busy.cancel()
        with pytest.raises(asyncio.CancelledError):
            await busy
        picture = await decoder.decode(png_bytes(gradient_image(70, 50)), LIMITS,
                                       what="photo", max_side=MAX_SIDE)
        assert (picture.width, picture.height) == (70, 50)
    finally:
        await decoder.close()
