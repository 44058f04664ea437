"""The local backend only: its painter processes dying, failing to start, ignoring a cancel
(seeded RANDOM VGG19 weights: mechanics only). The contract both backends keep is in
test_contract.py."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
from pathlib import Path

import pytest

from bot.config import GalleryConfig, PoolConfig
from bot.core.gallery import GalleryWarmUp
from bot.core.jobs import (
    FAILURES,
    Failed,
    Finished,
    JobHandle,
    JobSpec,
    Owner,
    PoolClosed,
    Progressed,
    failure_text,
)
from bot.core.pictures import Picture
from bot.core.pool import local as pool_module
from bot.core.pool.local import LocalJobPool
from bot.i18n import render
from nst_engine import Settings
from tests.conftest import gradient_image, stripes_image


def spec(weights: Path, user: str = "u1", *, steps: int = 4, size: int = 48) -> JobSpec:
    return JobSpec(
        Owner("test", user),
        chat="c1",
        content=Picture.from_image(gradient_image(size, size * 3 // 4)),
        style=Picture.from_image(stripes_image(48, 48)),
        settings=Settings(
            size=size, steps=steps, weights=str(weights), precision="fp32", preview_seconds=0.0
        ),
    )


async def outcome(handle: JobHandle, timeout: float = 60) -> list:
    events = []

    async def collect() -> None:
        async for event in handle.events():
            events.append(event)

    await asyncio.wait_for(collect(), timeout)
    return events


@pytest.fixture
async def pool(random_weights_path: Path):
    config = PoolConfig(workers=1, max_queue=3, job_timeout=60, weights=str(random_weights_path))
    p = LocalJobPool(config)
    await p.start()
    await p.wait_ready()
    yield p
    await p.shutdown(grace=0)


async def test_a_killed_worker_fails_only_its_job_and_is_replaced(
    pool: LocalJobPool, random_weights_path: Path
) -> None:
    victim = await pool.submit(spec(random_weights_path, "victim", steps=5000))
    queued = await pool.submit(spec(random_weights_path, "bystander", steps=2))
    async for event in victim.events():
        if isinstance(event, Progressed):
            break
    os.kill(pool.workers[0].process.pid, signal.SIGKILL)
    events = await outcome(victim)
    assert isinstance(events[-1], Failed) and events[-1].reason == "crash"
    assert "stopped unexpectedly" in render(failure_text(events[-1]), "en")
    bystander = await outcome(queued, timeout=120)
    assert isinstance(bystander[-1], Finished)  # a fresh worker picked it up


async def test_timeout_stops_the_job(random_weights_path: Path) -> None:
    p = LocalJobPool(PoolConfig(workers=1, job_timeout=1.0, weights=str(random_weights_path)))
    await p.start()
    try:
        await p.wait_ready()
        events = await outcome(await p.submit(spec(random_weights_path, steps=5000)))
        assert isinstance(events[-1], Failed) and events[-1].reason == "timeout"
    finally:
        await p.shutdown(grace=0)


async def test_shutdown_tells_waiting_users_and_leaves_no_processes(
    random_weights_path: Path,
) -> None:
    p = LocalJobPool(PoolConfig(workers=1, weights=str(random_weights_path)))
    await p.start()
    await p.wait_ready()
    running = await p.submit(spec(random_weights_path, "a", steps=5000))
    waiting = await p.submit(spec(random_weights_path, "b", steps=2))
    processes = [w.process for w in p.workers]
    await p.shutdown(grace=0.2)
    assert isinstance(waiting.outcome, Failed) and waiting.outcome.reason == "shutdown"
    assert isinstance(running.outcome, Failed)
    assert running.outcome.reason == "cut_off"  # the truth: it had started
    assert not any(proc.is_alive() for proc in processes)
    with pytest.raises(PoolClosed):
        await p.submit(spec(random_weights_path))


async def test_missing_weights_fail_the_job_without_leaking_paths(
    pool: LocalJobPool, random_weights_path: Path
) -> None:
    bad = dataclasses.replace(
        spec(random_weights_path), settings=Settings(size=48, steps=2, weights="/no/such/file.pth")
    )
    events = await outcome(await pool.submit(bad))
    assert isinstance(events[-1], Failed) and events[-1].reason == "unavailable"
    assert "/no/such" not in render(failure_text(events[-1]), "en")
    follow_up = await outcome(await pool.submit(spec(random_weights_path, steps=2)))
    assert isinstance(follow_up[-1], Finished)  # the worker survived


class UnreadableOnce:
    """A worker pipe whose next message cannot be read (as if it did not unpickle)."""

    def __init__(self, conn) -> None:
        self.conn, self.failed = conn, False

    def recv(self):
        if not self.failed:
            self.failed = True
            raise RuntimeError("cannot unpickle")
        return self.conn.recv()

    def __getattr__(self, name: str):
        return getattr(self.conn, name)


async def test_an_unreadable_worker_message_replaces_the_worker(
    pool: LocalJobPool, random_weights_path: Path
) -> None:
    victim = await pool.submit(spec(random_weights_path, "victim", steps=5000))
    async for event in victim.events():
        if isinstance(event, Progressed):
            break
    pool.workers[0].conn = UnreadableOnce(pool.workers[0].conn)  # type: ignore[assignment]
    events = await outcome(victim)
    assert isinstance(events[-1], Failed) and events[-1].reason == "crash"
    after = await outcome(await pool.submit(spec(random_weights_path, "next", steps=2)), 120)
    assert isinstance(after[-1], Finished)  # the slot was freed and a new worker took over


async def test_a_failed_warm_up_is_told_without_internals_and_heals(
    tmp_path: Path, random_weights_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from tests.conftest import random_vgg19_state

    broken = random_vgg19_state()
    broken["0.weight"] = torch.zeros(3, 3)  # wrong shape: the message names the file
    weights = tmp_path / "secret-dir" / "vgg.pth"
    weights.parent.mkdir()
    torch.save(broken, weights)
    monkeypatch.setattr(pool_module, "RESPAWN_BACKOFF", 0.5)
    p = LocalJobPool(PoolConfig(workers=1, job_timeout=60, weights=str(weights)))
    await p.start()
    try:
        await p.wait_ready()  # returns once the warm-up failed
        assert p.fatal and "secret-dir" in p.fatal  # the log and health see why
        with pytest.raises(PoolClosed) as refused:
            await p.submit(spec(weights))
        text = render(refused.value.text, "en")
        assert refused.value.text == FAILURES["unavailable"] and "secret-dir" not in text
        torch.save(random_vgg19_state(), weights)  # the operator fixes the file
        for _ in range(400):
            if p.fatal is None and p.workers[0].ready:
                break
            await asyncio.sleep(0.05)
        assert p.fatal is None  # healed without a restart
        events = await outcome(await p.submit(spec(weights, steps=2)))
        assert isinstance(events[-1], Finished)
    finally:
        await p.shutdown(grace=0)


async def test_waiting_jobs_fail_when_no_painter_can_take_them(
    pool: LocalJobPool, random_weights_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool_module, "STARVED_AFTER", 1.0)
    monkeypatch.setattr(pool, "_respawn", lambda *args: None)  # this host can't start any
    running = await pool.submit(spec(random_weights_path, "a", steps=5000))
    waiting = await pool.submit(spec(random_weights_path, "b", steps=2))
    async for event in running.events():
        if isinstance(event, Progressed):
            break
    os.kill(pool.workers[0].process.pid, signal.SIGKILL)
    events = await outcome(waiting, timeout=30)
    assert isinstance(events[-1], Failed) and events[-1].reason == "unavailable"


async def test_the_cancel_grace_grows_with_the_step_time(
    random_weights_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Steps longer than the base grace still end in a cooperative stop, not a kill."""
    monkeypatch.setattr(pool_module, "CANCEL_GRACE", 0.05)
    p = LocalJobPool(PoolConfig(workers=1, job_timeout=60, weights=str(random_weights_path),
                                threads=1))
    await p.start()
    try:
        await p.wait_ready()
        worker = p.workers[0]
        handle = await p.submit(spec(random_weights_path, steps=5000, size=160))
        async for event in handle.events():
            if isinstance(event, Progressed) and event.step >= 3:
                break
        assert worker.cancel_grace > 0.05  # sized to the measured steps
        assert p.cancel(handle)
        after = await outcome(await p.submit(spec(random_weights_path, "next", steps=2)))
        assert isinstance(after[-1], Finished)
        assert p.workers[0] is worker and not worker.killed_on_purpose
    finally:
        await p.shutdown(grace=0)


async def test_a_painter_takes_jobs_while_it_prepares_the_gallery(
    random_weights_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Ready once the weights are loaded; the gallery's targets come between jobs."""
    warm = GalleryWarmUp(GalleryConfig(), sizes=(128,), preset="default")
    p = LocalJobPool(PoolConfig(workers=1, job_timeout=60, weights=str(random_weights_path)),
                     gallery=warm)
    caplog.set_level(logging.INFO, logger="stylebot.pool")

    def warmed() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage() == "gallery warmed"]

    await p.start()
    try:
        await p.wait_ready()
        events = await outcome(await p.submit(spec(random_weights_path, steps=2)))
        assert isinstance(events[-1], Finished)
        assert warmed() == []  # painted while the gallery was still being prepared
        for _ in range(3000):
            if warmed():
                break
            await asyncio.sleep(0.1)
        (record,) = warmed()
        assert record.paintings == 8 and not hasattr(record, "error")  # type: ignore[attr-defined]
    finally:
        await p.shutdown(grace=0)
