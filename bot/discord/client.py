"""The discord.py client: the core, the command tree, and what handlers share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import discord
from discord import app_commands

from ..config import DiscordConfig
from ..core.service import Stylebot


class StylebotClient(discord.Client):
    def __init__(self, config: DiscordConfig, core: Stylebot, *,
                 setup: Callable[[StylebotClient], Awaitable[None]],
                 **options: object) -> None:
        intents = discord.Intents.default()
        # Slash commands need no privileged intent. Mentions carry their content anyway;
        # message_content only adds replies to pictures posted without a mention.
        intents.message_content = config.message_content
        super().__init__(intents=intents, **options)  # type: ignore[arg-type]
        self.config = config
        self.core = core
        self.tree = app_commands.CommandTree(self)
        self.accepting = True
        #: for attachment downloads with a byte cap (discord.py's own reads whole files)
        self.downloads: aiohttp.ClientSession | None = None
        self._setup = setup

    async def setup_hook(self) -> None:
        self.downloads = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        await self._setup(self)
        if self.config.sync_guild_id:
            guild = discord.Object(self.config.sync_guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()

    async def close(self) -> None:
        await super().close()
        if self.downloads is not None:
            await self.downloads.close()
