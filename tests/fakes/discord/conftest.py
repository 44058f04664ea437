"""Fixtures and helpers of the fake Discord's self-tests: a started fake with discord.py
pointed at it, a running client, and small test images."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator

import discord
import pytest
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route
from PIL import Image

from fakes.discord import FakeDiscord

# Guilds are "ready" once no GUILD_CREATE arrived for this long (discord.py waits 2 s by default).
READY_TIMEOUT = 0.05


def png(color: str, size: tuple[int, int] = (8, 6)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """A started fake with discord.py pointed at it (restored afterwards)."""
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscord() as fake:
        Route.BASE = fake.api_base_url
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
        try:
            yield fake
        finally:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


@contextlib.asynccontextmanager
async def running(client: discord.Client, fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    """Log in, connect, wait for on_ready; always close the client (before the fake)."""
    await client.login(fake.token)
    task = asyncio.create_task(client.connect())
    try:
        await asyncio.wait_for(client.wait_until_ready(), 5)
        yield client
    finally:
        await client.close()
        await asyncio.wait_for(task, 5)


def new_client(**intents: bool) -> tuple[discord.Client, app_commands.CommandTree]:
    client = discord.Client(
        intents=discord.Intents.default() if not intents else discord.Intents(**intents),
        guild_ready_timeout=READY_TIMEOUT,
    )
    return client, app_commands.CommandTree(client)
