"""Run the real bot (pool, store, front ends) against the local fake platforms."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from discord.gateway import DiscordWebSocket
from discord.http import Route
from PIL import Image

from bot.config import BotConfig, LimitsConfig, PoolConfig, Secret, TelegramConfig
from bot.core.pool.local import LocalJobPool
from bot.core.service import Stylebot
from bot.core.settings import UserSettings
from bot.core.store import SettingsStore
from bot.discord.app import DiscordFrontend
from bot.runner import Frontend, assembled
from bot.telegram.app import TelegramFrontend
from fakes.discord import FakeDiscord
from fakes.telegram import FakeTelegram
from tests.conftest import gradient_image, png_bytes, stripes_image


def jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=92)
    return buf.getvalue()


PHOTO = jpeg(gradient_image(120, 90))
PAINTING = jpeg(stripes_image(96, 96))
PNG_PHOTO = png_bytes(gradient_image(100, 80, seed=3))


def small_config(tmp_path: Path, weights: str, **overrides: Any) -> BotConfig:
    """Small, fast settings: 64 px results in a few steps."""
    base = BotConfig(
        telegram=TelegramConfig(token=Secret("0"), album_wait=0.3),
        pool=PoolConfig(
            workers=1, max_queue=4, job_timeout=120, shutdown_grace=1.0, weights=weights, threads=1
        ),
        limits=LimitsConfig(max_size=256, submissions_per_minute=30),
        defaults=UserSettings(size=64, steps=6),
        progress_interval=1.0,
        group_progress_interval=3.0,
        database=tmp_path / "settings.sqlite3",
        log_format="text",
    )
    return dataclasses.replace(base, **overrides)


@dataclasses.dataclass
class RunningBot:
    core: Stylebot
    pool: LocalJobPool
    store: SettingsStore
    telegram: TelegramFrontend | None
    discord: DiscordFrontend | None


TelegramBot = RunningBot


@contextlib.asynccontextmanager
async def running_bot(
    config: BotConfig, *, telegram: FakeTelegram | None = None, discord: FakeDiscord | None = None
) -> AsyncIterator[RunningBot]:
    """The bot as ``nst-bot run`` assembles it (one pool, one store), pointed at the fakes."""
    if telegram is not None:
        config = dataclasses.replace(config, telegram=dataclasses.replace(
            config.telegram, token=Secret(telegram.token), base_url=telegram.base_url,
            base_file_url=telegram.base_file_url))
    if discord is not None:
        config = dataclasses.replace(config, discord=dataclasses.replace(
            config.discord, token=Secret(discord.token), api_base_url=discord.api_base_url,
            gateway_url=discord.gateway_url))
    fronts: dict[str, Any] = {}

    def make_frontends(config: BotConfig, core: Stylebot) -> list[Frontend]:
        if telegram is not None:
            fronts["telegram"] = TelegramFrontend(config.telegram, core)
        if discord is not None:  # discord.py waits 2 s for guilds by default
            fronts["discord"] = DiscordFrontend(config.discord, core, guild_ready_timeout=0.05)
        return list(fronts.values())

    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    try:
        async with assembled(config, make_frontends=make_frontends,
                             wait_for_workers=True) as bot:
            yield RunningBot(bot.core, bot.pool, bot.store, fronts.get("telegram"),
                             fronts.get("discord"))
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


def telegram_bot(
    fake: FakeTelegram, config: BotConfig
) -> contextlib.AbstractAsyncContextManager[RunningBot]:
    return running_bot(config, telegram=fake)


async def wait_until(predicate: Any, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
