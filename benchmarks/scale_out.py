"""The Redis backend against the local pool, and how it scales with painters.

    python -m benchmarks.scale_out [--jobs 20] [--real-jobs 6] [--json]

Runs a throwaway redis-server on 127.0.0.1 and measures, side by side in one run:
(a) per-job overhead, local pool vs Redis with one real painter each (seeded random
    weights, 48 px, 2 steps: the engine's part is tiny and the same on both):
    submit → started, submit → finished, and for Redis painter finished → bot has it;
(b) jobs per minute at 256 px with the real weights (default preset), 1 and 2 painters;
(c) stand-in painters (SAQ workers in this process that sleep for a job's duration
    instead of painting) at 1, 4, 16 and 64 painters and rising arrival rates:
    throughput and queue wait, to see that throughput grows with painters until Redis or
    the bot saturates;
(d) the bot process's memory when idle (RSS, with its painter processes for the local
    backend), running ``nst-bot run`` against the local fake Telegram.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from saq import Worker

from bot.config import PoolConfig, Secret
from bot.core.jobs import Finished, JobHandle, JobSpec, Owner, Started
from bot.core.pictures import Picture
from bot.core.pool import JobPool, make_pool, wire
from bot.core.pool.redis import RedisJobPool
from nst_engine import Settings
from tests.conftest import SHARED, gradient_image, random_vgg19_state, stripes_image
from tests.helpers.redis import Painters, forget_jobs, redis_server


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(values, 0.5) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1)}


def tiny(user: str, weights: str, size: int = 48, steps: int | None = 2, *,
         real: bool = False) -> JobSpec:
    """A job: generated pictures, or (``real``) Tübingen × Starry Night when available."""
    photo, painting = gradient_image(size, size * 3 // 4), stripes_image(48, 48)
    if real and (SHARED / "images").exists():
        photo = Image.open(SHARED / "images" / "content" / "tubingen.jpg").convert("RGB")
        painting = Image.open(SHARED / "images" / "style" / "starry_night.jpg").convert("RGB")
    return JobSpec(Owner("bench", user), "bench:1", Picture.from_image(photo),
                   Picture.from_image(painting),
                   Settings(size=size, steps=steps, weights=weights, threads=1,
                            preview_seconds=1.0))


async def timed(pool: JobPool, spec: JobSpec) -> dict[str, float]:
    sent = time.time()
    handle = await pool.submit(spec)
    marks = {"started": 0.0, "finished": 0.0}
    async for event in handle.events():
        if isinstance(event, Started) and not marks["started"]:
            marks["started"] = time.time() - sent
        if isinstance(event, Finished):
            marks["finished"] = time.time() - sent
    if isinstance(pool, RedisJobPool):
        job = await pool.queue.job(handle.id)
        assert job is not None
        marks["handover"] = sent + marks["finished"] - job.completed / 1000
    return marks


async def overhead(backend: str, url: str, weights: str, jobs: int) -> dict[str, Any]:
    config = PoolConfig(workers=1, max_queue=jobs + 1, weights=weights, threads=1,
                        backend=backend, redis_url=Secret(url))  # type: ignore[arg-type]
    pool = make_pool(config)
    await pool.start()
    await pool.wait_ready()
    try:
        await timed(pool, tiny("warm", weights))
        runs = [await timed(pool, tiny(f"u{i}", weights)) for i in range(jobs)]
    finally:
        await pool.shutdown(0)
    found = {"submit_to_started": summary([r["started"] for r in runs]),
             "submit_to_finished": summary([r["finished"] for r in runs])}
    if backend == "redis":
        found["painter_finished_to_bot"] = summary([r["handover"] for r in runs])
    return found


async def throughput(url: str, painters: Painters, count: int, jobs: int) -> float:
    """Jobs per minute at 256 px, real weights, ``count`` painters."""
    painters.start(count)
    await asyncio.to_thread(painters.wait_registered, count)
    forget_jobs(url)
    pool = make_pool(PoolConfig(backend="redis", redis_url=Secret(url), max_queue=jobs + 1,
                                per_user_waiting=jobs, weights="auto"))
    await pool.start()
    try:
        started = time.monotonic()
        handles = [await pool.submit(tiny(f"t{i}", "auto", size=256, steps=None, real=True))
                   for i in range(jobs)]
        await asyncio.gather(*(drain(h) for h in handles))
        return round(jobs / (time.monotonic() - started) * 60, 1)
    finally:
        await pool.shutdown(0)
        painters.stop_all()


async def drain(handle: JobHandle) -> None:
    async for _ in handle.events():
        pass


def stand_in(duration: float) -> Any:
    """A painter that sleeps instead of painting, reporting like a real one."""
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")

    async def paint(ctx: dict[str, Any], **_arguments: Any) -> dict[str, Any]:
        job = ctx["job"]
        await job.update(meta={"progress": {"step": 0, "total": 1, "scale": 1, "scales": 1,
                                            "elapsed": 0.0, "eta": duration, "preview": 0}})
        await asyncio.sleep(duration)
        await job.queue.redis.set(wire.result_key(job.key), png.getvalue(), ex=600)
        return {"width": 8, "height": 8, "seconds": duration, "steps": 1, "device": "none",
                "precision": "none"}

    return paint


async def scaling(url: str, painters: int, rate: float, seconds: float,
                  duration: float) -> dict[str, Any]:
    """Submit at ``rate`` jobs/s for ``seconds`` to ``painters`` stand-ins."""
    forget_jobs(url)
    pool = make_pool(PoolConfig(backend="redis", redis_url=Secret(url), max_queue=100_000,
                                per_user_waiting=1))
    await pool.start()
    workers = []
    for _ in range(painters):
        queue = RedisJobPool(PoolConfig(backend="redis", redis_url=Secret(url))).queue
        workers.append(Worker(queue, [(wire.FUNCTION, stand_in(duration))], concurrency=1,
                              timers={"sweep": 60, "abort": 1, "worker_info": 5}))
    for worker in workers:
        worker.SIGNALS = []
    running = [asyncio.create_task(w.start()) for w in workers]
    waits: list[float] = []
    done = 0
    try:
        async def one(index: int) -> None:
            nonlocal done
            sent = time.time()
            handle = await pool.submit(tiny(f"s{index}", "auto"))
            async for event in handle.events():
                if isinstance(event, Started):
                    waits.append(time.time() - sent)
                if isinstance(event, Finished):
                    done += 1

        began = time.monotonic()
        tasks = []
        for index in range(int(rate * seconds)):
            tasks.append(asyncio.create_task(one(index)))
            await asyncio.sleep(max(0.0, began + (index + 1) / rate - time.monotonic()))
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds * 10 + 60)
        elapsed = time.monotonic() - began
    finally:
        for worker in workers:
            await worker.stop()
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await pool.shutdown(0)
    return {"painters": painters, "offered_per_s": rate,
            "completed_per_s": round(done / elapsed, 2),
            "queue_wait_p50_s": round(percentile(waits, 0.5), 2),
            "queue_wait_p99_s": round(percentile(waits, 0.99), 2)}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def idle_memory(url: str, weights: str, directory: Path, backend: str) -> dict[str, float]:
    """RSS of an idle ``nst-bot run`` (and of its local painters), once started."""
    import os
    import signal
    import sys

    from fakes.telegram import FakeTelegram

    async with FakeTelegram() as fake:
        config = directory / f"idle-{backend}.toml"
        config.write_text(f'database = "{directory / "idle.sqlite3"}"\nlog_format = "text"\n'
                          f'[telegram]\nbase_url = "{fake.base_url}"\n'
                          f'[pool]\nbackend = "{backend}"\nweights = "{weights}"\n')
        env = {**os.environ, "STYLEBOT_TELEGRAM_TOKEN": fake.token, "STYLEBOT_REDIS_URL": url}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(config), env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        try:
            await fake.wait_for_call("getUpdates", timeout=120)
            await asyncio.sleep(10 if backend == "local" else 2)  # painters warm up
            children = [int(p) for p in Path(f"/proc/{process.pid}/task/{process.pid}/children")
                        .read_text().split()]
            return {"bot_mb": round(rss_mb(process.pid)),
                    "with_painters_mb": round(rss_mb(process.pid)
                                              + sum(rss_mb(c) for c in children))}
        finally:
            process.send_signal(signal.SIGTERM)
            await process.wait()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp())
    weights = str(directory / "random-vgg19-TEST-ONLY.pth")
    torch.save(random_vgg19_state(), weights)
    results: dict[str, Any] = {}
    with redis_server() as url:
        painters = Painters(url, weights, directory)
        painters.start(1)
        await asyncio.to_thread(painters.wait_registered, 1)
        results["overhead_local"] = await overhead("local", url, weights, args.jobs)
        results["overhead_redis"] = await overhead("redis", url, weights, args.jobs)
        painters.stop_all()
        real = Painters(url, "auto", directory)
        results["jobs_per_minute_256px"] = {
            str(n): await throughput(url, real, n, args.real_jobs) for n in (1, 2)}
        curve = []
        for count in (1, 4, 16, 64):
            for load in (0.5, 1.0, 2.0):  # of what the painters can do
                rate = load * count / args.stand_in_seconds
                with contextlib.suppress(TimeoutError):
                    curve.append(await scaling(url, count, rate, args.window,
                                               args.stand_in_seconds))
        results["stand_in_scaling"] = curve
        results["idle_memory"] = {backend: await idle_memory(url, "auto", directory, backend)
                                  for backend in ("local", "redis")}
    return results


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--real-jobs", type=int, default=6)
    parser.add_argument("--stand-in-seconds", type=float, default=1.0)
    parser.add_argument("--window", type=float, default=15.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = asyncio.run(main(args))
    print(json.dumps(results, indent=None if args.json else 2))


if __name__ == "__main__":
    run()
