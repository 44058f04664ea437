"""The JobPool contract, run against both backends: local painter processes, and Redis
with real ``nst-bot worker`` painters (seeded RANDOM weights: mechanics only)."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from bot.config import PoolConfig, Secret
from bot.core.jobs import (
    Cancelled,
    Finished,
    JobHandle,
    JobSpec,
    Owner,
    Progressed,
    Queued,
    QueueFull,
    Started,
    UserBusy,
)
from bot.core.pictures import Picture
from bot.core.pool import JobPool, make_pool
from bot.i18n import render
from nst_engine import Settings
from tests.conftest import gradient_image, stripes_image


def spec(weights: Path, user: str = "u1", *, steps: int = 4, size: int = 48) -> JobSpec:
    return JobSpec(Owner("test", user), chat="c1",
                   content=Picture.from_image(gradient_image(size, size * 3 // 4)),
                   style=Picture.from_image(stripes_image(48, 48)),
                   settings=Settings(size=size, steps=steps, weights=str(weights),
                                     precision="fp32", preview_seconds=0.0))


async def outcome(handle: JobHandle, timeout: float = 60) -> list:
    events = []

    async def collect() -> None:
        async for event in handle.events():
            events.append(event)

    await asyncio.wait_for(collect(), timeout)
    return events


async def progressing(handle: JobHandle, step: int = 1) -> None:
    """Until the job has painted ``step`` steps (it is running)."""
    async for event in handle.events():
        if isinstance(event, Progressed) and event.step >= step:
            return


@pytest.fixture(params=["local", "redis"])
async def pool(request: pytest.FixtureRequest, random_weights_path: Path) -> AsyncIterator[JobPool]:
    config = PoolConfig(workers=2, max_queue=3, job_timeout=60, weights=str(random_weights_path))
    if request.param == "redis":
        request.getfixturevalue("painters")  # two painters, like the two local workers
        url = request.getfixturevalue("clean_redis")
        config = PoolConfig(backend="redis", redis_url=Secret(url), max_queue=3, job_timeout=60,
                            weights=str(random_weights_path))
    p = make_pool(config)
    await p.start()
    await p.wait_ready()
    yield p
    for handle in [h for user in "abcdefg" for h in p.jobs_of(Owner("test", user))]:
        p.cancel(handle)
    for handle in p.jobs_of(Owner("test", "u1")) + p.jobs_of(Owner("test", "same")):
        p.cancel(handle)
    await asyncio.sleep(0.5)  # painters see the aborts
    await p.shutdown(grace=0)


async def test_a_job_reports_progress_with_previews_and_a_png(
    pool: JobPool, random_weights_path: Path
) -> None:
    events = await outcome(await pool.submit(spec(random_weights_path, steps=4)))
    assert isinstance(events[0], (Queued, Started))
    progress = [e for e in events if isinstance(e, Progressed)]
    # step 0: the first look (the starting image at preview size), then the engine's own
    # starting image, which a follower reading Redis may see or find overtaken
    steps = [p.step for p in progress]
    assert steps[0] == 0 and steps[-1] == 4 and steps == sorted(steps)
    assert set(steps) == {0, 1, 2, 3, 4}
    assert all(p.preview_jpeg and p.preview_jpeg.startswith(b"\xff\xd8") for p in progress)
    final = events[-1]
    assert isinstance(final, Finished)
    assert Image.open(io.BytesIO(final.png)).size == (final.width, final.height) == (48, 36)


async def test_queue_positions_update_and_the_queue_is_bounded(
    pool: JobPool, random_weights_path: Path
) -> None:
    running = [await pool.submit(spec(random_weights_path, u, steps=3000)) for u in "ab"]
    for handle in running:
        await progressing(handle)
    waiting = [await pool.submit(spec(random_weights_path, u, steps=2)) for u in "cde"]
    await asyncio.sleep(1.5)  # the Redis pool reads positions from the queue every second
    assert [pool.position(h) for h in (*running, *waiting)] == [0, 0, 1, 2, 3]
    with pytest.raises(QueueFull) as full:
        await pool.submit(spec(random_weights_path, "f"))
    assert "3 pictures waiting" in render(full.value.text, "en")
    assert pool.stats().waiting == 3 and pool.stats().running == 2
    for handle in running:
        assert pool.cancel(handle)
    results = [await outcome(h) for h in waiting]
    assert all(isinstance(r[-1], Finished) for r in results)
    assert next(e.position for e in results[2] if isinstance(e, Queued)) == 3


async def test_a_user_has_at_most_one_running_and_one_waiting(
    pool: JobPool, random_weights_path: Path
) -> None:
    first = await pool.submit(spec(random_weights_path, "same", steps=3000))
    second = await pool.submit(spec(random_weights_path, "same", steps=3000))
    with pytest.raises(UserBusy) as busy:
        await pool.submit(spec(random_weights_path, "same"))
    assert "/cancel" in render(busy.value.text, "en")
    assert set(pool.jobs_of(first.owner)) == {first, second}
    assert len(pool.cancel_owner(first.owner)) == 2
    assert not pool.jobs_of(first.owner)


async def test_cancel_stops_a_running_job_and_a_waiting_one_at_once(
    pool: JobPool, random_weights_path: Path
) -> None:
    running = [await pool.submit(spec(random_weights_path, u, steps=3000)) for u in "ab"]
    waiting = await pool.submit(spec(random_weights_path, "c", steps=2))
    for handle in running:
        await progressing(handle, 2)
    assert pool.cancel(waiting) and isinstance(waiting.outcome, Cancelled)
    assert not pool.cancel(waiting)  # already over
    started = time.monotonic()
    assert pool.cancel(running[0]) and isinstance(running[0].outcome, Cancelled)
    nxt = await pool.submit(spec(random_weights_path, "d", steps=2))
    events = await outcome(nxt)  # it needed the painter the cancelled job had
    assert isinstance(events[-1], Finished)
    assert time.monotonic() - started < 20
    pool.cancel(running[1])
