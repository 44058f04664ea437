"""``nst-bot run``: every configured platform on one asyncio loop, one pool, one store."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from .config import BotConfig
from .core.gallery import GalleryWarmUp
from .core.pool import JobPool, make_pool
from .core.service import Stylebot
from .core.store import SettingsStore
from .frontend import Frontend

log = logging.getLogger("stylebot")

HEALTH_ENV = "STYLEBOT_HEALTH_FILE"
HEARTBEAT_EVERY = 15.0


def frontends(config: BotConfig, core: Stylebot) -> list[Frontend]:
    found: list[Frontend] = []
    if config.telegram.token:
        from .telegram.app import TelegramFrontend

        found.append(TelegramFrontend(config.telegram, core))
    if config.discord.token:
        from .discord.app import DiscordFrontend

        found.append(DiscordFrontend(config.discord, core))
    return found


async def heartbeat(path: Path, pool: JobPool, fronts: list[Frontend]) -> None:
    """For the container health check: fresh while the loop runs, painters live (local or
    registered with Redis), Redis reachable, and every configured front end connected."""
    while True:
        stats = pool.stats()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"time": time.time(), "workers": stats.workers,
                                   "running": stats.running, "waiting": stats.waiting,
                                   "fatal": pool.fatal is not None,
                                   "frontends": {f.name: f.healthy() for f in fronts}}))
        tmp.replace(path)
        await asyncio.sleep(HEARTBEAT_EVERY)


@dataclass
class Assembly:
    core: Stylebot
    pool: JobPool
    store: SettingsStore
    frontends: list[Frontend]


FrontendFactory = Callable[[BotConfig, Stylebot], list[Frontend]]


@contextlib.asynccontextmanager
async def assembled(config: BotConfig, *, make_frontends: FrontendFactory = frontends,
                    wait_for_workers: bool = False) -> AsyncIterator[Assembly]:
    """Store, pool, core and front ends, started; on exit shut down in order: stop taking
    updates, let running jobs finish (grace), tell everyone waiting, close."""
    store = SettingsStore(config.database)
    await store.open()
    pool = make_pool(config.pool, GalleryWarmUp.of(config))
    await pool.start()
    core = Stylebot(config, pool, store)
    fronts = make_frontends(config, core)
    started: list[Frontend] = []  # a front end that fails to start cleans up after itself
    lag = asyncio.create_task(core.metrics.sample_loop_lag(), name="loop-lag")
    try:
        if config.metrics.port:
            core.metrics.serve(config.metrics.listen, config.metrics.port)
        if wait_for_workers:
            await pool.wait_ready()
        for front in fronts:
            await front.start()
            started.append(front)
        await core.jobs.resume({front.name: front.restore_view for front in started})
        yield Assembly(core, pool, store, fronts)
    finally:
        for front in started:
            await front.stop_receiving()
        await pool.shutdown(config.pool.shutdown_grace)
        await core.drain(timeout=30)
        for front in started:
            await front.stop()
        lag.cancel()
        core.metrics.close()
        await core.close()
        await store.close()


async def run(config: BotConfig, *, stop: asyncio.Event | None = None) -> None:
    """Serve until SIGINT/SIGTERM (or ``stop``)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    health = os.environ.get(HEALTH_ENV)
    try:
        async with assembled(config) as bot:
            beat = (asyncio.create_task(heartbeat(Path(health), bot.pool, bot.frontends))
                    if health else None)
            log.info("stylebot running", extra={
                "platforms": [f.name for f in bot.frontends], "workers": config.pool.workers})
            await stop.wait()
            log.info("shutting down")
            if beat is not None:
                beat.cancel()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    log.info("stopped")
