"""The Redis backend only: painters that die or stop, a bot that restarts, payloads that
are too big, and a front end that never loads torch (real redis-server, real painters)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis as sync_redis
from saq.job import TERMINAL_STATUSES

from bot.config import PoolConfig, Secret
from bot.core.jobs import Cancelled, Failed, Finished, Progressed, Retrying
from bot.core.pool import wire
from bot.core.pool.redis import RedisJobPool, count_painters
from tests.bot.core.pool.test_contract import outcome, progressing, spec
from tests.helpers.redis import REPO, Painters


def redis_pool(url: str, weights: Path, **overrides: object) -> RedisJobPool:
    # the shortest heartbeat config allows: a killed painter is noticed in ~5 s, not ~20 s
    options: dict[str, object] = {"job_timeout": 60, "heartbeat": 5, **overrides}
    return RedisJobPool(PoolConfig(backend="redis", redis_url=Secret(url), weights=str(weights),
                                   **options))  # type: ignore[arg-type]


@pytest.fixture
async def pool(painters: Painters, clean_redis: str,
               random_weights_path: Path) -> AsyncIterator[RedisJobPool]:
    p = redis_pool(clean_redis, random_weights_path)
    await p.start()
    await p.wait_ready()
    yield p
    await p.shutdown(0)


async def replace_painters(painters: Painters) -> None:
    """Back to two live painters after a test stopped one."""
    painters.processes = [p for p in painters.processes if p.poll() is None]
    painters.start(2 - len(painters.processes))
    await asyncio.to_thread(painters.wait_registered, 2)


async def holder(pool: RedisJobPool, painters: Painters, key: str) -> subprocess.Popen[bytes]:
    """The painter process working on job ``key`` (painters register their pid)."""
    job = await pool.queue.job(key)
    assert job is not None and job.worker_id
    pid = (await pool.queue.info())["workers"][job.worker_id]["metadata"]["pid"]
    return next(p for p in painters.processes if p.pid == pid)


async def test_a_killed_painter_is_noticed_and_its_job_retried(
    pool: RedisJobPool, painters: Painters, random_weights_path: Path
) -> None:
    """kill -9 mid-job: the heartbeat runs out, a sweep hands the job to the other
    painter, and the user is told a painter stopped rather than left in silence."""
    handle = await pool.submit(spec(random_weights_path, "victim", steps=60))
    await progressing(handle, 2)
    victim = await holder(pool, painters, handle.id)
    painters.kill(victim)
    painters.processes.remove(victim)
    events = await outcome(handle, timeout=120)
    assert any(isinstance(e, Retrying) and e.attempt == 2 for e in events)
    assert isinstance(events[-1], Finished)
    await replace_painters(painters)


async def test_sigterm_hands_the_job_back_and_the_painter_exits_0(
    pool: RedisJobPool, painters: Painters, random_weights_path: Path
) -> None:
    handle = await pool.submit(spec(random_weights_path, "calm", steps=3000))
    await progressing(handle, 2)
    stopping = await holder(pool, painters, handle.id)
    stopping.terminate()
    assert await asyncio.to_thread(stopping.wait, 60) == 0
    painters.processes.remove(stopping)
    events = []
    async for event in handle.events():  # the other painter takes it over
        events.append(event)
        if isinstance(event, Progressed) and any(isinstance(e, Retrying) for e in events):
            break
    assert any(isinstance(e, Retrying) for e in events)  # handed back, not lost
    pool.cancel(handle)
    await replace_painters(painters)


async def test_a_restarted_bot_delivers_what_the_last_one_started_once(
    painters: Painters, clean_redis: str, random_weights_path: Path
) -> None:
    first = redis_pool(clean_redis, random_weights_path)
    await first.start()
    handle = await first.submit(spec(random_weights_path, "patient", steps=30))
    await first.remember(handle, {"where": "chat 1"})
    await progressing(handle, 1)
    await first.shutdown(0)  # the bot restarts mid-job; the painter goes on

    second = redis_pool(clean_redis, random_weights_path)
    third = redis_pool(clean_redis, random_weights_path)  # another replica
    await second.start()
    await third.start()
    try:
        (taken, record), = await second.undelivered()
        assert taken.id == handle.id and record == {"where": "chat 1"}
        (twin, _), = await third.undelivered()
        events = await outcome(taken, timeout=120)
        assert isinstance(events[-1], Finished)
        assert await taken.claim() and not await twin.claim()  # posted once
        await taken.delivered()
        assert await second.undelivered() == []
    finally:
        await second.shutdown(0)
        await third.shutdown(0)


async def test_cancel_reaches_a_running_remote_painter(
    pool: RedisJobPool, random_weights_path: Path
) -> None:
    handle = await pool.submit(spec(random_weights_path, "quick", steps=3000))
    await progressing(handle, 2)
    assert pool.cancel(handle) and isinstance(handle.outcome, Cancelled)
    for _ in range(50):  # the painter stops within about a second, then reports it
        job = await pool.queue.job(handle.id)
        if job is not None and job.status in TERMINAL_STATUSES:
            break
        await asyncio.sleep(0.1)
    assert job is not None and job.status in TERMINAL_STATUSES
    assert job.status.value == "aborted" or job.result == {"cancelled": True}


async def test_payloads_over_the_cap_are_refused_not_read(
    pool: RedisJobPool, random_weights_path: Path
) -> None:
    """A compromised painter host writes a huge 'result': the bot refuses it."""
    small = redis_pool(pool.config.redis_url.reveal(), random_weights_path,  # type: ignore[union-attr]
                       max_payload_mb=0.001)
    await small.start()
    try:
        handle = await small.submit(spec(random_weights_path, "capped", steps=4))
        events = await outcome(handle, timeout=60)
        assert isinstance(events[-1], Failed)  # the 48 px PNG is over 1 kB: refused
        assert not any(isinstance(e, Progressed) and e.preview_jpeg for e in events)
        with pytest.raises(wire.PayloadTooLarge):
            await wire.get_capped(small._redis, wire.result_key(handle.id), 1000)
    finally:
        await small.shutdown(0)


async def test_jobs_carry_references_and_nothing_secret(
    pool: RedisJobPool, random_weights_path: Path
) -> None:
    handle = await pool.submit(spec(random_weights_path, "plain", steps=2))
    await outcome(handle)
    raw = sync_redis.Redis.from_url(pool.config.redis_url.reveal()).get(  # type: ignore[union-attr]
        pool.queue.job_id(handle.id))
    arguments = json.loads(raw)["kwargs"]
    assert arguments["content"][0].startswith("stylebot:blob:")  # by reference, not inline
    assert len(raw) < 4096
    assert arguments["owner"] == ["test", "plain"]
    ttl = sync_redis.Redis.from_url(pool.config.redis_url.reveal()).ttl(  # type: ignore[union-attr]
        arguments["content"][0])
    assert 0 < ttl <= pool.config.payload_ttl  # everything expires


async def test_health_counts_live_painters(painters: Painters, redis_url: str) -> None:
    config = PoolConfig(backend="redis", redis_url=Secret(redis_url))
    assert await count_painters(config) == 2


def test_the_front_end_never_imports_torch_with_the_redis_backend() -> None:
    script = ("import sys; import bot.runner, bot.telegram.app, bot.discord.app, "
              "bot.core.pool.redis; from bot.core.pool import make_pool; "
              "assert 'torch' not in sys.modules, 'torch was imported'; print('light')")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0 and "light" in done.stdout, done.stderr
