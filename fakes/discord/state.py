"""The fake Discord's world: ids, users, guilds, channels, messages, attachments and the
connected bot.

Every concern of :class:`~fakes.discord.FakeDiscord` (its mixins) works on this one state;
the lookups and the gateway dispatch here are shared by all of them.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from fakes.discord.connection import GatewaySession
from fakes.discord.model import API_PREFIX, DISCORD_EPOCH_MS, JSON, Call, Interaction, unknown


class DiscordState:
    """State shared by the mixins; the public constructor is ``FakeDiscord``'s."""

    def __init__(
        self,
        *,
        application_id: int,
        bot_user_id: int,
        bot_name: str,
        token: str,
        response_deadline: float,
        message_content_enabled: bool,
    ) -> None:
        self.application_id = str(application_id)
        #: whether the developer portal grants the privileged Message Content intent; a bot
        #: that asks for it without it is disconnected with close code 4014
        self.message_content_enabled = message_content_enabled
        self.token = token
        self.response_deadline = response_deadline  # Discord's 3 s to acknowledge
        self.bot_user: JSON = self._user_object(str(bot_user_id), bot_name, bot=True)
        self.calls: list[Call] = []
        self.commands: dict[str, list[JSON]] = {}
        self.gateway_connected = asyncio.Event()
        self.gateway_query: dict[str, str] = {}  # query of the latest gateway connection
        self._last_id = 0
        self._users: dict[str, JSON] = {self.bot_user["id"]: self.bot_user}
        self.locales: dict[str, str] = {}  # user id -> their client's locale
        self._app_owner = self.add_user("app-owner")
        self._guilds: dict[str, JSON] = {}
        self._channels: dict[str, JSON] = {}
        self._messages: dict[str, JSON] = {}  # every message, bot's and users', by id
        self._files: dict[str, JSON] = {}  # every attachment (with its bytes), by id
        self._interactions: dict[str, Interaction] = {}
        self._interactions_by_token: dict[str, Interaction] = {}
        self._gateway: GatewaySession | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self._call_added = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def _http_base(self) -> str:
        if not self._port:
            raise RuntimeError("FakeDiscord is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base_url(self) -> str:
        return self._http_base + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

    def _snowflake(self) -> str:
        """Increasing ids carrying their creation time, like Discord's (worker 1, process 1)."""
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        self._last_id = max((ms << 22) | (1 << 17) | (1 << 12), self._last_id + 1)
        return str(self._last_id)

    @staticmethod
    def _user_object(user_id: str, name: str, *, bot: bool = False) -> JSON:
        user: JSON = {
            "id": user_id,
            "username": name,
            "global_name": None if bot else name,
            "discriminator": "4821" if bot else "0",
            "avatar": None,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "collectibles": None,
            "primary_guild": None,
            "public_flags": 0,
            "flags": 0,
        }
        if bot:
            user["bot"] = True
        return user

    def add_user(self, name: str, *, locale: str = "en-US") -> JSON:
        """A user; ``locale`` is their Discord client's language, sent with each of their
        interactions (e.g. "de", "pt-BR")."""
        user = self._user_object(self._snowflake(), name)
        self._users[user["id"]] = user
        self.locales[user["id"]] = locale
        return user

    def _guild(self, guild_id: str | None) -> JSON:
        if guild_id is None or guild_id not in self._guilds:
            raise unknown("Guild", 10004)
        return self._guilds[guild_id]

    def _channel(self, channel_id: str) -> JSON:
        if channel_id not in self._channels:
            raise unknown("Channel", 10003)
        return self._channels[channel_id]

    def _member(self, guild: JSON, user_id: str) -> JSON | None:
        return next((m for m in guild["members"] if m["user"]["id"] == user_id), None)

    def _live_gateway(self) -> GatewaySession | None:
        gateway = self._gateway
        return gateway if gateway is not None and not gateway.closed else None

    def _emit(self, event: str, data: JSON, intent: int = 0) -> None:
        """Dispatch to the connected bot, if any, and if it identified with ``intent``."""
        gateway = self._live_gateway()
        if gateway is not None and (not intent or gateway.intents & intent):
            gateway.push(0, data, event)

    async def _flush(self) -> None:
        gateway = self._live_gateway()
        if gateway is not None:
            await gateway.outbox.join()

    def _require_gateway(self) -> GatewaySession:
        gateway = self._live_gateway()
        if gateway is None or not gateway.identified:
            raise RuntimeError("no bot is connected to the fake gateway")
        return gateway
