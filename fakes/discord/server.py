"""``FakeDiscord``: the fake's concerns (one mixin each) assembled into one server, with its
REST route table and lifecycle."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from aiohttp import web

from fakes.discord.gateway import GatewayMixin
from fakes.discord.interactions import InteractionsMixin
from fakes.discord.model import API_PREFIX
from fakes.discord.rest import RestMixin, Route, route

_MAX_REQUEST_BYTES = 256 * 1024 * 1024  # above every upload limit, so the fake can answer 413


class FakeDiscord(RestMixin, GatewayMixin, InteractionsMixin):
    """Fake Discord for one bot: REST API, gateway and CDN on 127.0.0.1."""

    def __init__(
        self,
        *,
        application_id: int = 1100000000000000001,
        bot_user_id: int = 1100000000000000001,
        bot_name: str = "Stylebot",
        token: str = "fake-discord-token-for-tests",
        response_deadline: float = 3.0,
        message_content_enabled: bool = True,
    ) -> None:
        super().__init__(
            application_id=application_id,
            bot_user_id=bot_user_id,
            bot_name=bot_name,
            token=token,
            response_deadline=response_deadline,
            message_content_enabled=message_content_enabled,
        )
        self._routes = self._build_routes()

    async def start(self) -> None:
        app = web.Application(client_max_size=_MAX_REQUEST_BYTES)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._handle_api)
        app.router.add_get("/gateway", self._handle_gateway)
        for prefix in ("/attachments", "/media/attachments"):
            app.router.add_get(
                prefix + "/{channel_id}/{attachment_id}/{filename}", self._handle_cdn
            )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def close(self) -> None:
        """Stop serving. Close the bot first, or discord.py will try to reconnect."""
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"fake discord shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _build_routes(self) -> list[Route]:
        webhook_message = "/webhooks/{app_id}/{token}/messages/{message_id}"
        channel_message = "/channels/{channel_id}/messages/{message_id}"
        return [
            route("GET", "/users/@me", self._get_me),
            route("POST", "/users/@me/channels", self._create_dm),
            route("GET", "/applications/@me", lambda _: self._application()),
            route("GET", "/oauth2/applications/@me", lambda _: self._application()),
            route("GET", "/gateway", lambda _: {"url": self.gateway_url}, auth=False),
            route("GET", "/gateway/bot", self._get_gateway_bot),
            route("GET", "/applications/{app_id}/commands", self._get_commands),
            route("PUT", "/applications/{app_id}/commands", self._put_commands),
            route("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self._get_commands),
            route("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self._put_commands),
            route(
                "POST",
                "/interactions/{interaction_id}/{token}/callback",
                self._callback,
                auth=False,
            ),
            route("POST", "/webhooks/{app_id}/{token}", self._followup, auth=False),
            route("GET", webhook_message, self._get_webhook_message, auth=False),
            route("PATCH", webhook_message, self._edit_webhook_message, auth=False),
            route("DELETE", webhook_message, self._delete_webhook_message, auth=False),
            route(
                "GET", "/channels/{channel_id}", lambda r: self._channel(r.params["channel_id"])
            ),
            route("POST", "/channels/{channel_id}/messages", self._create_message),
            route("GET", channel_message, self._get_message),
            route("PATCH", channel_message, self._edit_message),
            route("DELETE", channel_message, self._delete_message),
            route("POST", "/channels/{channel_id}/typing", self._typing),
            route("GET", "/guilds/{guild_id}", self._get_guild),
            route("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member),
        ]
