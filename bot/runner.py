"""``nst-bot run``: every configured platform on one asyncio loop, one pool, one store."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
from pathlib import Path
from typing import Protocol

from .config import BotConfig
from .core.pool import LocalJobPool
from .core.service import Stylebot
from .core.store import SettingsStore

log = logging.getLogger("stylebot")

HEALTH_ENV = "STYLEBOT_HEALTH_FILE"
HEARTBEAT_EVERY = 15.0


class Frontend(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop_receiving(self) -> None: ...

    async def stop(self) -> None: ...


def frontends(config: BotConfig, core: Stylebot) -> list[Frontend]:
    found: list[Frontend] = []
    if config.telegram.token:
        from .telegram.app import TelegramFrontend

        found.append(TelegramFrontend(config.telegram, core))
    if config.discord.token:
        from .discord.app import DiscordFrontend

        found.append(DiscordFrontend(config.discord, core))
    return found


async def heartbeat(path: Path, pool: LocalJobPool) -> None:
    """For the container health check: fresh while the loop runs and workers live."""
    while True:
        stats = pool.stats()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"time": time.time(), "workers": stats.workers,
                                   "running": stats.running, "waiting": stats.waiting,
                                   "fatal": pool.fatal}))
        tmp.replace(path)
        await asyncio.sleep(HEARTBEAT_EVERY)


async def run(config: BotConfig, *, stop: asyncio.Event | None = None) -> None:
    """Serve until SIGINT/SIGTERM (or ``stop``), then shut down in order:
    stop taking updates, let running jobs finish (grace), tell everyone waiting, close."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    store = SettingsStore(config.database)
    await store.open()
    pool = LocalJobPool(config.pool)
    await pool.start()
    core = Stylebot(config, pool, store)
    fronts = frontends(config, core)
    health = os.environ.get(HEALTH_ENV)
    beat = asyncio.create_task(heartbeat(Path(health), pool)) if health else None
    try:
        for front in fronts:
            await front.start()
        log.info("stylebot running", extra={"platforms": [f.name for f in fronts],
                                            "workers": config.pool.workers})
        await stop.wait()
        log.info("shutting down")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        for front in fronts:
            await front.stop_receiving()
        await pool.shutdown(config.pool.shutdown_grace)
        await core.drain(timeout=30)
        for front in fronts:
            await front.stop()
        if beat is not None:
            beat.cancel()
        await store.close()
        log.info("stopped")
