"""The Discord front end: discord.py 2.x wired to the platform-free core.

discord.py reads its REST base from ``discord.http.Route.BASE`` and, for a non-sharded
client, connects straight to ``DiscordWebSocket.DEFAULT_GATEWAY``; both are set from the
config so the bot can talk to a Discord-compatible server (or a test fake).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket

from ..config import DiscordConfig
from ..core.jobdesk import JobStart
from ..core.metrics import RateLimitLogCounter
from ..core.service import Stylebot
from ..core.status import StatusView
from ..frontend import StartupError
from . import handlers
from .client import StylebotClient
from .status import DiscordStatusView

log = logging.getLogger("stylebot.discord")

REJECTED = "Discord rejected the token: check [discord] token"
UNREACHABLE = "Discord could not be reached at {}: check [discord] api_base_url and the network"
NO_INTENT = ("Discord refused the Message Content intent: enable it for the bot in the "
             "developer portal, or set [discord] message_content = false")


class DiscordFrontend:
    name = "discord"

    def __init__(self, config: DiscordConfig, core: Stylebot, *,
                 guild_ready_timeout: float = 2.0) -> None:
        assert config.token is not None
        discord.http.Route.BASE = config.api_base_url.rstrip("/")
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config.gateway_url)
        self.config = config
        self.client = StylebotClient(config, core, setup=handlers.setup,
                                     guild_ready_timeout=guild_ready_timeout)
        self._429s = RateLimitLogCounter(core.metrics)
        logging.getLogger("discord.http").addFilter(self._429s)
        self._task: asyncio.Task[None] | None = None
        #: why the gateway stopped for good, for the log and the health check
        self.problem: str | None = None

    async def start(self) -> None:
        assert self.config.token is not None
        try:
            await self.client.login(self.config.token.reveal())
        except discord.LoginFailure:
            await self.client.close()
            raise StartupError(REJECTED) from None
        except (aiohttp.ClientError, OSError):
            await self.client.close()
            raise StartupError(UNREACHABLE.format(self.config.api_base_url)) from None
        self._task = asyncio.create_task(self.client.connect(reconnect=True),
                                         name="discord-gateway")
        self._task.add_done_callback(self._gateway_ended)
        ready = asyncio.ensure_future(self.client.wait_until_ready())
        done, _ = await asyncio.wait({ready, self._task}, timeout=60,
                                     return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
        if self._task in done:
            await self.client.close()
            raise StartupError(self.problem or "Discord's gateway closed during start-up")
        if ready not in done:
            log.warning("discord not ready after 60 s; it keeps trying in the background")
        else:
            log.info("discord connected", extra={"bot": str(self.client.user)})

    def _gateway_ended(self, task: asyncio.Task[None]) -> None:
        """The gateway connection gave up for good: say why, and turn health red."""
        error = None if task.cancelled() else task.exception()
        if error is None:  # closed on purpose (shutdown)
            self.problem = self.problem or "Discord's gateway connection was closed"
            return
        if isinstance(error, discord.PrivilegedIntentsRequired):
            self.problem = NO_INTENT
        elif isinstance(error, discord.LoginFailure):
            self.problem = REJECTED
        else:
            self.problem = f"Discord's gateway connection failed ({type(error).__name__})"
        log.error("discord stopped: %s", self.problem)

    async def restore_view(self, start: JobStart, saved: dict[str, Any]) -> StatusView:
        return await DiscordStatusView.restore(self.client, start, saved)

    def healthy(self) -> bool:
        return (self._task is not None and not self._task.done()
                and not self.client.is_closed())

    async def stop_receiving(self) -> None:
        self.client.accepting = False

    async def stop(self) -> None:
        logging.getLogger("discord.http").removeFilter(self._429s)
        await self.client.close()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
