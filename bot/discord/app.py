"""The Discord front end: discord.py 2.x wired to the platform-free core.

discord.py reads its REST base from ``discord.http.Route.BASE`` and, for a non-sharded
client, connects straight to ``DiscordWebSocket.DEFAULT_GATEWAY``; both are set from the
config so the bot can talk to a Discord-compatible server (or a test fake).
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from ..config import DiscordConfig
from ..core.choices import Choices
from ..core.jobs import JobHandle
from ..core.metrics import RateLimitLogCounter
from ..core.pictures import Picture
from ..core.service import Stylebot
from ..core.status import status_text
from ..frontend import StartupError
from .commands import register
from .common import download, owner_of, start_job, upload_limit
from .messages import on_mention
from .rerun import RerunView
from .status import DiscordStatusView, MessageTarget

log = logging.getLogger("stylebot.discord")

REJECTED = "Discord rejected the token: check [discord] token"
UNREACHABLE = "Discord could not be reached at {}: check [discord] api_base_url and the network"
NO_INTENT = ("Discord refused the Message Content intent: enable it for the bot in the "
             "developer portal, or set [discord] message_content = false")


class StylebotClient(discord.Client):
    def __init__(self, config: DiscordConfig, core: Stylebot, **options: object) -> None:
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

    async def setup_hook(self) -> None:
        self.downloads = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        register(self)
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

    async def download(self, attachment: discord.Attachment, user: discord.abc.User,
                       what: str) -> Picture:
        assert self.downloads is not None, "set up at login"
        return await download(attachment, owner_of(user), self.core, self.downloads, what)

    async def on_message(self, message: discord.Message) -> None:
        await on_mention(self, message)

    async def start_for_interaction(self, interaction: discord.Interaction, content: Picture,
                                    style: Picture, choices: Choices) -> JobHandle:
        """Queue a job whose status is ``interaction``'s (already deferred) response."""

        async def make_view(handle: JobHandle, token: str) -> DiscordStatusView:
            view = DiscordStatusView.for_interaction(
                interaction, choices=choices, requester=interaction.user,
                upload_limit=interaction.filesize_limit, buttons=RerunView(self, token))
            await view.show(self.core.initial_status(handle))
            return view

        return await start_job(self.core, user=interaction.user,
                               channel_id=interaction.channel_id,
                               group=interaction.guild_id is not None, content=content,
                               style=style, choices=choices, make_view=make_view)

    async def start_for_message(self, message: discord.Message, content: Picture,
                                style: Picture, choices: Choices) -> JobHandle:
        """Queue a job whose status is a reply to ``message``."""

        async def make_view(handle: JobHandle, token: str) -> DiscordStatusView:
            status = await message.reply(status_text(self.core.initial_status(handle)),
                                         mention_author=False)
            return DiscordStatusView(MessageTarget(status), channel=message.channel,
                                     choices=choices, requester=message.author,
                                     upload_limit=upload_limit(message.guild),
                                     buttons=RerunView(self, token))

        return await start_job(self.core, user=message.author, channel_id=message.channel.id,
                               group=message.guild is not None, content=content, style=style,
                               choices=choices, make_view=make_view)


class DiscordFrontend:
    name = "discord"

    def __init__(self, config: DiscordConfig, core: Stylebot, *,
                 guild_ready_timeout: float = 2.0) -> None:
        assert config.token is not None
        discord.http.Route.BASE = config.api_base_url.rstrip("/")
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config.gateway_url)
        self.config = config
        self.client = StylebotClient(config, core, guild_ready_timeout=guild_ready_timeout)
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
