"""A local fake of Discord (REST API, gateway websocket, attachment CDN) for bot tests.

The real discord.py client talks to it unmodified once ``discord.http.Route.BASE`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` point at :attr:`FakeDiscord.api_base_url`
and :attr:`FakeDiscord.gateway_url`. Tests build a small world (users, guilds, channels,
attachments), act as users (slash commands, button clicks, messages) and then assert on the
REST calls the bot made (:attr:`FakeDiscord.calls`) and on the resulting message state.

Behaviour follows Discord where a bot could notice the difference: snowflake ids, 3-second
initial-response deadline, "already acknowledged" errors, the first follow-up after a
"thinking" deferral completing the deferred message, upload limits by boost tier (413),
attachment keep/replace semantics on edits, privileged MESSAGE_CONTENT gating and
intent-filtered gateway events. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import mimetypes
import re
import secrets
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

from aiohttp import BodyPartReader, WSMsgType, web
from PIL import Image, UnidentifiedImageError

JSON = dict[str, Any]

API_VERSION = 10
_API_PREFIX = f"/api/v{API_VERSION}"
_DISCORD_EPOCH_MS = 1_420_070_400_000
_HEARTBEAT_INTERVAL_MS = 41_250
_MAX_REQUEST_BYTES = 256 * 1024 * 1024  # above every upload limit, so the fake can answer 413

# Gateway intents (https://discord.com/developers/docs/events/gateway#gateway-intents).
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15

# Message flags.
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15
_CREATE_FLAGS = (
    FLAG_SUPPRESS_EMBEDS | FLAG_EPHEMERAL | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2
)
_EDIT_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_COMPONENTS_V2

# Permissions.
PERM_ADMINISTRATOR = 1 << 3
PERM_MANAGE_GUILD = 1 << 5
_EVERYONE_PERMISSIONS = (
    (1 << 0)  # create instant invite
    | (1 << 6)  # add reactions
    | (1 << 10)  # view channel
    | (1 << 11)  # send messages
    | (1 << 14)  # embed links
    | (1 << 15)  # attach files
    | (1 << 16)  # read message history
    | (1 << 18)  # use external emojis
    | (1 << 20)  # connect
    | (1 << 21)  # speak
    | (1 << 26)  # change nickname
    | (1 << 31)  # use application commands
    | (1 << 35)  # create public threads
    | (1 << 38)  # send messages in threads
)
_ALL_PERMISSIONS = (1 << 51) - 1  # every bit Discord defines in API v10 lies below 1 << 51

MIB = 1024 * 1024
# Per-file upload limit by boost tier; mirrors discord.py's Guild._PREMIUM_GUILD_LIMITS.
FILESIZE_LIMITS = {0: 10 * MIB, 1: 10 * MIB, 2: 50 * MIB, 3: 100 * MIB}
_BOOSTS_FOR_TIER = {0: 0, 1: 2, 2: 7, 3: 14}

# Interaction callback types.
CALLBACK_CHANNEL_MESSAGE = 4
CALLBACK_DEFERRED_CHANNEL_MESSAGE = 5
CALLBACK_DEFERRED_UPDATE_MESSAGE = 6
CALLBACK_UPDATE_MESSAGE = 7
_INTERACTION_APPLICATION_COMMAND = 2
_INTERACTION_COMPONENT = 3

_MENTION_RE = re.compile(r"<@!?(\d+)>")


class ApiError(Exception):
    """A Discord JSON error body ({"message", "code"}) with its HTTP status."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message


def _unknown(what: str, code: int) -> ApiError:
    return ApiError(404, code, f"Unknown {what}")


def _empty_message() -> ApiError:
    return ApiError(400, 50006, "Cannot send an empty message")


def _invalid_form() -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body")


@dataclass
class Call:
    """One REST request the bot made."""

    method: str
    path: str  # after the API base, without the query string
    json: Any  # JSON body, or the decoded ``payload_json`` part of a multipart body
    files: dict[str, tuple[str, bytes]]  # multipart field name -> (filename, bytes)
    time: float  # time.monotonic() when the request arrived
    status: int
    query: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        body = json.dumps(self.json)[:160] if self.json is not None else ""
        files = f" files={list(self.files)}" if self.files else ""
        return f"{self.method} {self.path} -> {self.status} {body}{files}"


class Interaction:
    """An interaction the fake sent to the bot, and everything the bot answered through it."""

    def __init__(self, payload: JSON, *, target_id: str | None = None) -> None:
        self.id: str = payload["id"]
        self.token: str = payload["token"]
        self.payload: JSON = payload
        self.responses: list[JSON] = []  # interaction callback bodies, in order
        self.original: JSON | None = None  # message record behind @original
        self.followups: list[JSON] = []
        self.expired = False
        self.created = time.monotonic()
        self.target_id = target_id  # the clicked message, for component interactions
        self._responded = asyncio.Event()

    def record_response(self, body: JSON, message: JSON | None) -> None:
        """Called by the fake when the bot acknowledges; ``message`` becomes @original."""
        self.responses.append(body)
        self.original = message
        self._responded.set()

    async def wait_response(self, timeout: float = 5.0) -> JSON:
        """The first callback body, waiting for the bot to acknowledge the interaction."""
        try:
            await asyncio.wait_for(self._responded.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"interaction {self.id} got no response in {timeout}s") from None
        return self.responses[0]


@dataclass
class _ApiRequest:
    params: dict[str, str]
    query: Mapping[str, str]
    json: Any
    files: dict[str, tuple[str, bytes]]

    @property
    def body(self) -> JSON:
        return self.json if isinstance(self.json, dict) else {}


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[[_ApiRequest], Any]
    auth: bool  # interaction and webhook routes are authenticated by their token instead


def _route(
    method: str, template: str, handler: Callable[[_ApiRequest], Any], *, auth: bool = True
) -> _Route:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return _Route(method, re.compile(f"^{regex}$"), handler, auth)


class _GatewaySession:
    """One bot connection. A single writer task sends frames so events keep their order."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        # discord.py asks for zlib-stream unless zstd is importable; it accepts TEXT frames
        # for any other value, so plain JSON text is what the fake sends then.
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self.outbox: asyncio.Queue[str] = asyncio.Queue()
        self.session_id = secrets.token_hex(16)
        self.seq = 0
        self.intents = 0
        self.identified = False
        self.closed = False

    def push(self, op: int, d: Any, t: str | None = None) -> None:
        seq = None
        if op == 0:
            self.seq += 1
            seq = self.seq
        # Serialised now, so later changes to live records cannot leak into a queued frame.
        frame = {"op": op, "d": d, "s": seq, "t": t}
        self.outbox.put_nowait(json.dumps(frame, separators=(",", ":")))

    async def pump(self) -> None:
        while True:
            raw = await self.outbox.get()
            try:
                if self._zlib is None:
                    await self.ws.send_str(raw)
                else:
                    data = self._zlib.compress(raw.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
            except ConnectionError:  # the bot went away: release anyone waiting on join()
                self.closed = True
                self.drop_pending()
                return
            finally:
                self.outbox.task_done()

    def drop_pending(self) -> None:
        """Release anyone waiting on outbox.join() once the socket is gone."""
        while not self.outbox.empty():
            self.outbox.get_nowait()
            self.outbox.task_done()


def _json_response(data: Any, status: int = 200) -> web.Response:
    # Exactly "application/json": discord.py's json_or_text() compares the header verbatim.
    body = json.dumps(data).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json"})


def _iso(ms_since_unix: int) -> str:
    return datetime.fromtimestamp(ms_since_unix / 1000, UTC).isoformat()


def _snowflake_time(snowflake: str) -> str:
    return _iso((int(snowflake) >> 22) + _DISCORD_EPOCH_MS)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def public_attachment(attachment: JSON) -> JSON:
    """An attachment as the API shows it (without the stored bytes)."""
    return {k: v for k, v in attachment.items() if k != "data"}


def public_message(record: JSON) -> JSON:
    """A message record as the API returns it: no bytes, no edit bookkeeping, deep-copied."""
    out = {
        k: copy.deepcopy(v)
        for k, v in record.items()
        if k not in ("edits", "history", "deleted", "attachments")
    }
    out["attachments"] = [public_attachment(a) for a in record["attachments"]]
    return out


def _find_components(components: list[JSON]) -> list[JSON]:
    found = []
    for component in components:
        found.append(component)
        found.extend(_find_components(component.get("components", [])))
        if "accessory" in component:
            found.append(component["accessory"])
    return found


def _is_empty(message: JSON) -> bool:
    keys = ("content", "embeds", "attachments", "components", "sticker_items", "poll")
    return not any(message.get(k) for k in keys)


class FakeDiscord:
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
        self._app_owner = self.add_user("app-owner")
        self._guilds: dict[str, JSON] = {}
        self._channels: dict[str, JSON] = {}
        self._messages: dict[str, JSON] = {}  # every message, bot's and users', by id
        self._files: dict[str, JSON] = {}  # every attachment (with its bytes), by id
        self._interactions: dict[str, Interaction] = {}
        self._interactions_by_token: dict[str, Interaction] = {}
        self._gateway: _GatewaySession | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self._call_added = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._routes = self._build_routes()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=_MAX_REQUEST_BYTES)
        app.router.add_route("*", _API_PREFIX + "/{tail:.*}", self._handle_api)
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

    @property
    def _http_base(self) -> str:
        if not self._port:
            raise RuntimeError("FakeDiscord is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base_url(self) -> str:
        return self._http_base + _API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

    # -- world -------------------------------------------------------------------------

    def _snowflake(self) -> str:
        """Increasing ids carrying their creation time, like Discord's (worker 1, process 1)."""
        ms = int(time.time() * 1000) - _DISCORD_EPOCH_MS
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

    def add_user(self, name: str) -> JSON:
        user = self._user_object(self._snowflake(), name)
        self._users[user["id"]] = user
        return user

    @staticmethod
    def _role(role_id: str, name: str, permissions: int, position: int) -> JSON:
        return {
            "id": role_id,
            "name": name,
            "permissions": str(permissions),
            "position": position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
            "description": None,
        }

    def add_guild(self, name: str, *, premium_tier: int = 0, owner: JSON | None = None) -> JSON:
        """A guild with #general (``guild["channels"][0]``), its owner and the bot as members."""
        guild_id = self._snowflake()
        owner = owner or self.add_user(f"{name} owner")
        bot_role = self._role(
            self._snowflake(), self.bot_user["username"], _EVERYONE_PERMISSIONS, 1
        )
        bot_role.update(managed=True, tags={"bot_id": self.bot_user["id"]})
        guild: JSON = {
            "id": guild_id,
            "name": name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": owner["id"],
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [self._role(guild_id, "@everyone", _EVERYONE_PERMISSIONS, 0), bot_role],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "max_presences": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "premium_tier": premium_tier,
            "premium_subscription_count": _BOOSTS_FOR_TIER[premium_tier],
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "incidents_data": None,
            "channels": [],
            "threads": [],
            "members": [],
        }
        self._guilds[guild_id] = guild
        guild["system_channel_id"] = self._new_text_channel(guild, "general")["id"]
        self._new_member(guild, self.bot_user, [bot_role["id"]])
        self._new_member(guild, owner, [])
        self._emit("GUILD_CREATE", self._guild_create_payload(guild, joined=True), INTENT_GUILDS)
        return guild

    def _new_text_channel(self, guild: JSON, name: str) -> JSON:
        channel = {
            "id": self._snowflake(),
            "type": 0,
            "guild_id": guild["id"],
            "name": name,
            "position": len(guild["channels"]),
            "permission_overwrites": [],
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
        }
        guild["channels"].append(channel)
        self._channels[channel["id"]] = channel
        return channel

    def add_text_channel(self, guild: JSON, name: str) -> JSON:
        channel = self._new_text_channel(self._guild(guild["id"]), name)
        self._emit("CHANNEL_CREATE", channel, INTENT_GUILDS)
        return channel

    def add_thread(self, channel: JSON, name: str) -> JSON:
        """A public thread under a text channel, owned by the guild owner."""
        guild = self._guild(channel["guild_id"])
        thread_id = self._snowflake()
        thread = {
            "id": thread_id,
            "type": 11,
            "guild_id": guild["id"],
            "parent_id": channel["id"],
            "owner_id": guild["owner_id"],
            "name": name,
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": _snowflake_time(thread_id),
                "locked": False,
                "create_timestamp": _snowflake_time(thread_id),
            },
        }
        guild["threads"].append(thread)
        self._channels[thread_id] = thread
        self._emit("THREAD_CREATE", {**thread, "newly_created": True}, INTENT_GUILDS)
        return thread

    def dm_channel(self, user: JSON) -> JSON:
        """The bot's DM channel with ``user`` (created on first use, as Discord does)."""
        for channel in self._channels.values():
            if channel["type"] == 1 and channel["recipients"][0]["id"] == user["id"]:
                return channel
        channel = {
            "id": self._snowflake(),
            "type": 1,
            "last_message_id": None,
            "flags": 0,
            "recipients": [self._users[user["id"]]],
        }
        self._channels[channel["id"]] = channel
        return channel

    def _new_member(self, guild: JSON, user: JSON, roles: list[str]) -> JSON:
        member = {
            "user": self._users[user["id"]],
            "nick": None,
            "avatar": None,
            "banner": None,
            "roles": roles,
            "joined_at": _now(),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        guild["members"].append(member)
        return member

    def add_member(self, guild: JSON, user: JSON, *, manage_guild: bool = False) -> None:
        """Join ``user`` to ``guild``; ``manage_guild`` grants a role with MANAGE_GUILD."""
        guild = self._guild(guild["id"])
        roles = []
        if manage_guild:
            role = next((r for r in guild["roles"] if r["name"] == "Managers"), None)
            if role is None:
                role = self._role(self._snowflake(), "Managers", PERM_MANAGE_GUILD, 2)
                guild["roles"].append(role)
                self._emit(
                    "GUILD_ROLE_CREATE", {"guild_id": guild["id"], "role": role}, INTENT_GUILDS
                )
            roles.append(role["id"])
        member = self._new_member(guild, user, roles)
        self._emit("GUILD_MEMBER_ADD", {**member, "guild_id": guild["id"]}, INTENT_GUILD_MEMBERS)

    def add_attachment(
        self, data: bytes, filename: str, content_type: str | None = "image/png"
    ) -> JSON:
        """An uploaded file a user can attach; its url is served by the fake's CDN."""
        return self._store_attachment("0", filename, data, content_type=content_type)

    def _store_attachment(
        self,
        channel_id: str,
        filename: str,
        data: bytes,
        *,
        content_type: str | None = None,
        description: str | None = None,
        ephemeral: bool = False,
    ) -> JSON:
        attachment_id = self._snowflake()
        url = f"{self._http_base}/attachments/{channel_id}/{attachment_id}/{quote(filename)}"
        attachment: JSON = {
            "id": attachment_id,
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url.replace("/attachments/", "/media/attachments/", 1),
        }
        if content_type:
            attachment["content_type"] = content_type
        try:
            with Image.open(io.BytesIO(data)) as image:
                attachment["width"], attachment["height"] = image.size
        except (UnidentifiedImageError, OSError):
            pass
        if description:
            attachment["description"] = description
        if ephemeral:
            attachment["ephemeral"] = True
        attachment["data"] = data
        self._files[attachment_id] = attachment
        return attachment

    def _guild(self, guild_id: str | None) -> JSON:
        if guild_id is None or guild_id not in self._guilds:
            raise _unknown("Guild", 10004)
        return self._guilds[guild_id]

    def _channel(self, channel_id: str) -> JSON:
        if channel_id not in self._channels:
            raise _unknown("Channel", 10003)
        return self._channels[channel_id]

    def _member(self, guild: JSON, user_id: str) -> JSON | None:
        return next((m for m in guild["members"] if m["user"]["id"] == user_id), None)

    def _permissions(self, guild: JSON, user_id: str) -> int:
        if user_id == guild["owner_id"]:
            return _ALL_PERMISSIONS
        member = self._member(guild, user_id)
        roles = set(member["roles"]) if member else set()
        perms = 0
        for role in guild["roles"]:
            if role["id"] == guild["id"] or role["id"] in roles:
                perms |= int(role["permissions"])
        return _ALL_PERMISSIONS if perms & PERM_ADMINISTRATOR else perms

    def _upload_limit(self, channel: JSON) -> int:
        guild = self._guilds.get(channel.get("guild_id") or "")
        return FILESIZE_LIMITS[guild["premium_tier"]] if guild else FILESIZE_LIMITS[0]

    def _guild_create_payload(self, guild: JSON, *, joined: bool = False) -> JSON:
        """GUILD_CREATE data. Guilds announced after READY are joins: no "unavailable" key,
        which discord.py turns into on_guild_join instead of on_guild_available."""
        me = self._member(guild, self.bot_user["id"])
        payload = {
            **copy.deepcopy(guild),
            "joined_at": me["joined_at"] if me else _now(),
            "large": False,
            "member_count": len(guild["members"]),
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "embedded_activities": [],
        }
        if not joined:
            payload["unavailable"] = False
        return payload

    # -- gateway -----------------------------------------------------------------------

    def _live_gateway(self) -> _GatewaySession | None:
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

    async def _handle_gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._sockets.add(ws)
        self.gateway_query = dict(request.query)
        session = _GatewaySession(ws, request.query.get("compress"))
        pump = asyncio.create_task(session.pump())
        session.push(10, {"heartbeat_interval": _HEARTBEAT_INTERVAL_MS, "_trace": ["fake-gateway"]})
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                await self._on_gateway_payload(session, json.loads(msg.data))
        finally:
            session.closed = True
            self._sockets.discard(ws)
            pump.cancel()
            await asyncio.wait([pump])
            session.drop_pending()
            if self._gateway is session:
                self.gateway_connected.clear()
        return ws

    async def _on_gateway_payload(self, session: _GatewaySession, payload: JSON) -> None:
        op, d = payload.get("op"), payload.get("d")
        if op == 1:
            session.push(11, None)
        elif op == 2:
            await self._identify(session, d)
        elif op == 6:
            await self._resume(session, d)
        elif not session.identified:
            await session.ws.close(code=4003, message=b"Not authenticated.")
        elif op == 8:
            self._send_member_chunks(session, d)
        elif op not in (3, 4):  # presence and voice state updates need no answer
            await session.ws.close(code=4001, message=b"Unknown opcode.")

    async def _identify(self, session: _GatewaySession, d: JSON) -> None:
        if d.get("token") != self.token:
            await session.ws.close(code=4004, message=b"Authentication failed.")
            return
        session.intents = int(d.get("intents", 0))
        if session.intents & INTENT_MESSAGE_CONTENT and not self.message_content_enabled:
            await session.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        session.identified = True
        ready = {
            "v": API_VERSION,
            "user": {**self.bot_user, "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": guild_id, "unavailable": True} for guild_id in self._guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["local"],
            "user_settings": {},
            "auth": {},
            "application": {"id": self.application_id, "flags": self._application()["flags"]},
            "_trace": ["fake-gateway"],
        }
        if "shard" in d:
            ready["shard"] = d["shard"]
        self._gateway = session
        session.push(0, ready, "READY")
        if session.intents & INTENT_GUILDS:
            for guild in self._guilds.values():
                session.push(0, self._guild_create_payload(guild), "GUILD_CREATE")
        await session.outbox.join()
        self.gateway_connected.set()

    async def _resume(self, session: _GatewaySession, d: JSON) -> None:
        previous = self._gateway
        if (
            previous is None
            or d.get("session_id") != previous.session_id
            or d.get("token") != self.token
        ):
            session.push(9, False)
            return
        session.session_id, session.seq = previous.session_id, previous.seq
        session.intents = previous.intents
        session.identified = True
        self._gateway = session
        session.push(0, {"_trace": ["fake-gateway"]}, "RESUMED")
        await session.outbox.join()
        self.gateway_connected.set()

    def _send_member_chunks(self, session: _GatewaySession, d: JSON) -> None:
        guild_ids = d["guild_id"] if isinstance(d["guild_id"], list) else [d["guild_id"]]
        for guild_id in map(str, guild_ids):
            if guild_id not in self._guilds:
                continue
            members = self._guilds[guild_id]["members"]
            if d.get("user_ids"):
                wanted = {str(u) for u in d["user_ids"]}
                members = [m for m in members if m["user"]["id"] in wanted]
            elif d.get("query"):
                members = [m for m in members if m["user"]["username"].startswith(d["query"])]
            if d.get("limit"):
                members = members[: d["limit"]]
            chunk = {
                "guild_id": guild_id,
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
            }
            if d.get("nonce"):
                chunk["nonce"] = d["nonce"]
            session.push(0, chunk, "GUILD_MEMBERS_CHUNK")

    async def drop_connection(self, code: int = 4000) -> None:
        """Close the bot's gateway socket from Discord's side; discord.py then RESUMEs.
        Events emitted while it is away are not replayed."""
        gateway = self._require_gateway()
        self.gateway_connected.clear()
        await gateway.ws.close(code=code, message=b"fake discord dropped the connection")

    def _require_gateway(self) -> _GatewaySession:
        gateway = self._live_gateway()
        if gateway is None or not gateway.identified:
            raise RuntimeError("no bot is connected to the fake gateway")
        return gateway

    # -- user actions ------------------------------------------------------------------

    def _find_command(self, name: str, guild_id: str | None) -> tuple[JSON | None, str | None]:
        if guild_id is not None:
            for command in self.commands.get(guild_id, []):
                if command["name"] == name and command.get("type", 1) == 1:
                    return command, guild_id
        for command in self.commands.get("global", []):
            if command["name"] == name and command.get("type", 1) == 1:
                return command, None
        return None, None

    @staticmethod
    def _option(name: str, value: Any, resolved: JSON) -> JSON:
        if isinstance(value, bool):
            return {"name": name, "type": 5, "value": value}
        if isinstance(value, int):
            return {"name": name, "type": 4, "value": value}
        if isinstance(value, float):
            return {"name": name, "type": 10, "value": value}
        if isinstance(value, str):
            return {"name": name, "type": 3, "value": value}
        if isinstance(value, dict) and "filename" in value:
            resolved.setdefault("attachments", {})[value["id"]] = public_attachment(value)
            return {"name": name, "type": 11, "value": value["id"]}
        raise TypeError(f"unsupported option value for {name!r}: {value!r}")

    async def slash_command(
        self,
        user: JSON,
        channel: JSON,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        subcommand: str | None = None,
    ) -> Interaction:
        """Run ``/name`` as ``user``; ``subcommand`` may be "sub" or "group sub"."""
        command, scope = self._find_command(name, channel.get("guild_id"))
        resolved: JSON = {}
        opts = [self._option(k, v, resolved) for k, v in (options or {}).items()]
        if subcommand is not None:
            *group, sub = subcommand.split()
            opts = [{"name": sub, "type": 1, "options": opts}]
            if group:
                opts = [{"name": group[0], "type": 2, "options": opts}]
        data: JSON = {
            "id": command["id"] if command else self._snowflake(),
            "name": name,
            "type": 1,
        }
        if opts:
            data["options"] = opts
        if resolved:
            data["resolved"] = resolved
        if scope is not None:
            data["guild_id"] = scope
        return await self._interact(user, channel, _INTERACTION_APPLICATION_COMMAND, data)

    async def click_button(self, user: JSON, message: JSON, custom_id: str) -> Interaction:
        """Click the enabled button ``custom_id`` on a message the bot sent."""
        record = self._messages.get(message["id"])
        if record is None:
            raise ValueError(f"unknown message {message['id']}")
        buttons = [c for c in _find_components(record["components"]) if c.get("type") == 2]
        button = next((b for b in buttons if b.get("custom_id") == custom_id), None)
        if button is None:
            ids = [b.get("custom_id") for b in buttons]
            raise ValueError(f"message {record['id']} has no button {custom_id!r}; it has {ids}")
        if button.get("disabled"):
            raise ValueError(f"button {custom_id!r} is disabled")
        data = {"custom_id": custom_id, "component_type": 2}
        if "id" in button:
            data["id"] = button["id"]
        channel = self._channel(record["channel_id"])
        return await self._interact(user, channel, _INTERACTION_COMPONENT, data, record)

    async def _interact(
        self, user: JSON, channel: JSON, kind: int, data: JSON, message: JSON | None = None
    ) -> Interaction:
        self._require_gateway()
        interaction_id = self._snowflake()
        guild = self._guilds.get(channel.get("guild_id") or "")
        payload: JSON = {
            "id": interaction_id,
            "application_id": self.application_id,
            "type": kind,
            "data": data,
            "channel_id": channel["id"],
            "token": "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48),
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": self._upload_limit(channel),
        }
        if guild is not None:
            member = self._member(guild, user["id"])
            if member is None:
                raise ValueError(f"{user['username']} is not a member of {guild['name']}")
            permissions = str(self._permissions(guild, user["id"]))
            payload.update(
                guild_id=guild["id"],
                guild={"id": guild["id"], "locale": "en-US", "features": guild["features"]},
                guild_locale=guild["preferred_locale"],
                member={**member, "permissions": permissions},
                channel={**copy.deepcopy(channel), "permissions": permissions},
                app_permissions=str(self._permissions(guild, self.bot_user["id"])),
                authorizing_integration_owners={"0": guild["id"]},
                context=0,
            )
        else:
            payload.update(
                user=self._users[user["id"]],
                channel=copy.deepcopy(channel),
                app_permissions=str(_EVERYONE_PERMISSIONS),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        if message is not None:
            payload["message"] = public_message(message)
        interaction = Interaction(payload, target_id=message["id"] if message else None)
        self._interactions[interaction.id] = interaction
        self._interactions_by_token[interaction.token] = interaction
        self._emit("INTERACTION_CREATE", payload)
        await self._flush()
        return interaction

    async def send_message(
        self,
        user: JSON,
        channel: JSON,
        content: str = "",
        *,
        attachments: list[JSON] | tuple[JSON, ...] = (),
        mention_bot: bool = False,
        reply_to: JSON | None = None,
    ) -> JSON:
        """Post a message as ``user`` (MESSAGE_CREATE) and store it so the bot can fetch it."""
        self._require_gateway()
        channel = self._channel(channel["id"])
        mention = f"<@{self.bot_user['id']}>"
        if mention_bot and mention not in content:
            content = f"{mention} {content}".strip()
        message_id = self._snowflake()
        record: JSON = {
            "id": message_id,
            "channel_id": channel["id"],
            "author": self._users[user["id"]],
            "content": content,
            "embeds": [],
            "components": [],
            "attachments": [dict(a) for a in attachments],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": _snowflake_time(message_id),
            "edited_timestamp": None,
            "type": 0,
            "flags": 0,
            "nonce": str(int(message_id) - 1),
        }
        if "guild_id" in channel:
            record["guild_id"] = channel["guild_id"]
        if reply_to is not None:
            self._set_reference(record, {"message_id": reply_to["id"]}, ping=True)
        record["mentions"] = self._mentions(content, record["mentions"])
        self._store_message(record)
        await self._flush()
        return record

    # -- observation -------------------------------------------------------------------

    def mark(self) -> int:
        """A position in :attr:`calls`, for ``wait_for(since=...)``."""
        return len(self.calls)

    async def wait_for(
        self, predicate: Callable[[Call], bool], *, since: int = 0, timeout: float = 10.0
    ) -> Call:
        """The first call from ``since`` on matching ``predicate``, waiting for it to happen."""
        deadline = time.monotonic() + timeout
        index = since
        while True:
            for call in self.calls[index:]:
                if predicate(call):
                    return call
            index = len(self.calls)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = "\n  ".join(c.summary() for c in self.calls[since:][-15:]) or "(none)"
                raise TimeoutError(
                    f"no matching call within {timeout}s; calls since mark:\n  {recent}"
                )
            event = self._call_added
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                continue

    def channel_messages(
        self, channel_id: int | str, *, include_deleted: bool = False
    ) -> list[JSON]:
        """Non-ephemeral messages the bot posted in a channel (live records, oldest first)."""
        return [
            m
            for m in self._messages.values()
            if m["channel_id"] == str(channel_id)
            and m["author"]["id"] == self.bot_user["id"]
            and not m["flags"] & FLAG_EPHEMERAL
            and (include_deleted or not m.get("deleted"))
        ]

    def expire_interaction(self, interaction: Interaction) -> None:
        """Make the token invalid, as after Discord's 15 minutes."""
        interaction.expired = True

    # -- message records ---------------------------------------------------------------

    def _mentions(self, content: str, already: list[JSON]) -> list[JSON]:
        mentioned = {u["id"]: u for u in already}
        for user_id in _MENTION_RE.findall(content):
            if user_id in self._users:
                mentioned.setdefault(user_id, self._users[user_id])
        return list(mentioned.values())

    def _set_reference(self, record: JSON, reference: JSON, *, ping: bool) -> None:
        target = self._messages.get(str(reference.get("message_id")))
        if target is None or target["channel_id"] != record["channel_id"] or target.get("deleted"):
            if reference.get("fail_if_not_exists", True):
                raise _invalid_form()
            return
        record["message_reference"] = {
            "type": 0,
            "message_id": target["id"],
            "channel_id": target["channel_id"],
        }
        if "guild_id" in target:
            record["message_reference"]["guild_id"] = target["guild_id"]
        nested = public_message(target)
        nested.pop("referenced_message", None)
        record["referenced_message"] = nested
        record["type"] = 19
        if ping:
            record["mentions"] = [*record["mentions"], target["author"]]

    def _check_uploads(self, channel: JSON, files: dict[str, tuple[str, bytes]]) -> None:
        if any(len(data) > self._upload_limit(channel) for _, data in files.values()):
            raise ApiError(413, 40005, "Request entity too large")

    def _attachments(
        self,
        channel: JSON,
        wanted: list[JSON] | None,
        files: dict[str, tuple[str, bytes]],
        existing: list[JSON],
        *,
        ephemeral: bool,
    ) -> list[JSON]:
        """Discord's rules: ``attachments`` lists what to keep (by id) and describes new
        uploads (``files[n]`` for id n); without it, existing ones stay and files are added."""

        def upload(field_name: str, meta: JSON) -> JSON:
            filename, data = files[field_name]
            filename = meta.get("filename") or filename
            return self._store_attachment(
                channel["id"],
                filename,
                data,
                content_type=mimetypes.guess_type(filename)[0],
                description=meta.get("description"),
                ephemeral=ephemeral,
            )

        if wanted is None:
            return [*existing, *(upload(name, {}) for name in files)]
        by_id = {a["id"]: a for a in existing}
        result, used = [], set()
        for meta in wanted:
            key = str(meta.get("id"))
            if key in by_id:
                result.append(by_id[key])
            elif f"files[{key}]" in files:
                used.add(f"files[{key}]")
                result.append(upload(f"files[{key}]", meta))
            else:
                raise _invalid_form()
        result.extend(upload(name, {}) for name in files if name not in used)
        return result

    def _bot_message(
        self,
        channel: JSON,
        data: JSON,
        files: dict[str, tuple[str, bytes]],
        *,
        extra_flags: int = 0,
        interaction: Interaction | None = None,
        msg_type: int = 0,
    ) -> JSON:
        """Build (not store) a message the bot posts, validating it like Discord does."""
        self._check_uploads(channel, files)
        flags = (int(data.get("flags") or 0) & _CREATE_FLAGS) | extra_flags
        message_id = self._snowflake()
        record: JSON = {
            "id": message_id,
            "channel_id": channel["id"],
            "author": self.bot_user,
            "content": data.get("content") or "",
            "embeds": [{"type": "rich", **e} for e in data.get("embeds") or []],
            "components": data.get("components") or [],
            "attachments": self._attachments(
                channel, data.get("attachments"), files, [], ephemeral=bool(flags & FLAG_EPHEMERAL)
            ),
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": bool(data.get("tts")),
            "timestamp": _snowflake_time(message_id),
            "edited_timestamp": None,
            "type": msg_type,
            "flags": flags,
            "edits": 0,
            "history": [],
        }
        if "guild_id" in channel:
            record["guild_id"] = channel["guild_id"]
        if data.get("message_reference"):
            replied = (data.get("allowed_mentions") or {}).get("replied_user", True)
            self._set_reference(record, data["message_reference"], ping=replied)
        if interaction is not None:
            self._mark_interaction_message(record, interaction)
        if not flags & FLAG_LOADING and _is_empty(record):
            raise _empty_message()
        record["mentions"] = self._mentions(record["content"], record["mentions"])
        return record

    def _mark_interaction_message(self, record: JSON, interaction: Interaction) -> None:
        payload = interaction.payload
        user = payload["member"]["user"] if "member" in payload else payload["user"]
        metadata: JSON = {
            "id": interaction.id,
            "type": payload["type"],
            "user": user,
            "authorizing_integration_owners": payload["authorizing_integration_owners"],
        }
        if payload["type"] == _INTERACTION_APPLICATION_COMMAND:
            metadata.update(name=payload["data"]["name"], command_type=1)
            record["interaction"] = {
                "id": interaction.id,
                "type": 2,
                "name": payload["data"]["name"],
                "user": user,
            }
        elif interaction.target_id is not None:
            metadata["interacted_message_id"] = interaction.target_id
        record.update(
            webhook_id=self.application_id,
            application_id=self.application_id,
            interaction_metadata=metadata,
        )

    def _store_message(self, record: JSON) -> None:
        """Keep a new message; announce it unless only its recipient can see it."""
        self._messages[record["id"]] = record
        if record["flags"] & FLAG_EPHEMERAL:
            return
        channel = self._channels[record["channel_id"]]
        channel["last_message_id"] = record["id"]
        self._emit("MESSAGE_CREATE", self._message_event(record), self._message_intent(channel))

    def _message_intent(self, channel: JSON) -> int:
        return INTENT_GUILD_MESSAGES if "guild_id" in channel else INTENT_DIRECT_MESSAGES

    def _message_event(self, record: JSON) -> JSON:
        """The gateway form: member data for guild messages; content only where Discord
        delivers it (MESSAGE_CONTENT intent, DMs, mentions of the bot, the bot's own)."""
        event = public_message(record)
        guild = self._guilds.get(record.get("guild_id") or "")
        if guild is not None:
            member = self._member(guild, record["author"]["id"])
            if member is not None:
                event["member"] = {k: v for k, v in copy.deepcopy(member).items() if k != "user"}
            for mention in event["mentions"]:
                found = self._member(guild, mention["id"])
                if found is not None:
                    mention["member"] = {
                        k: v for k, v in copy.deepcopy(found).items() if k != "user"
                    }
        gateway = self._live_gateway()
        privileged = gateway is not None and gateway.intents & INTENT_MESSAGE_CONTENT
        bot_id = self.bot_user["id"]
        visible = (
            privileged
            or guild is None
            or record["author"]["id"] == bot_id
            or any(m["id"] == bot_id for m in record["mentions"])
        )
        if not visible:
            event.update(content="", embeds=[], attachments=[], components=[])
            event.pop("poll", None)
        return event

    def _edit(self, record: JSON, data: JSON, files: dict[str, tuple[str, bytes]]) -> None:
        """Apply a PATCH (or a deferral-completing follow-up); keep the old state in history."""
        channel = self._channels[record["channel_id"]]
        self._check_uploads(channel, files)
        updated = dict(record)
        if "content" in data:
            updated["content"] = data["content"] or ""
        if "embeds" in data:
            updated["embeds"] = [{"type": "rich", **e} for e in data["embeds"] or []]
        if "components" in data:
            updated["components"] = data["components"] or []
        if data.get("flags") is not None:
            updated["flags"] = (record["flags"] & ~_EDIT_FLAGS) | (int(data["flags"]) & _EDIT_FLAGS)
        if "attachments" in data or files:
            ephemeral = bool(record["flags"] & FLAG_EPHEMERAL)
            updated["attachments"] = self._attachments(
                channel, data.get("attachments"), files, record["attachments"], ephemeral=ephemeral
            )
        updated["flags"] &= ~FLAG_LOADING
        if _is_empty(updated):
            raise _empty_message()
        updated["mentions"] = self._mentions(updated["content"], [])
        snapshot = {k: copy.deepcopy(v) for k, v in record.items() if k != "history"}
        record.update(updated)
        record["history"].append(snapshot)
        record["edits"] += 1
        record["edited_timestamp"] = _now()
        if not record["flags"] & FLAG_EPHEMERAL:
            self._emit("MESSAGE_UPDATE", self._message_event(record), self._message_intent(channel))

    def _delete(self, record: JSON) -> None:
        record["deleted"] = True
        if record["flags"] & FLAG_EPHEMERAL:
            return
        channel = self._channels[record["channel_id"]]
        event = {"id": record["id"], "channel_id": record["channel_id"]}
        if "guild_id" in record:
            event["guild_id"] = record["guild_id"]
        self._emit("MESSAGE_DELETE", event, self._message_intent(channel))

    # -- REST --------------------------------------------------------------------------

    def _build_routes(self) -> list[_Route]:
        webhook_message = "/webhooks/{app_id}/{token}/messages/{message_id}"
        channel_message = "/channels/{channel_id}/messages/{message_id}"
        return [
            _route("GET", "/users/@me", self._get_me),
            _route("POST", "/users/@me/channels", self._create_dm),
            _route("GET", "/applications/@me", lambda _: self._application()),
            _route("GET", "/oauth2/applications/@me", lambda _: self._application()),
            _route("GET", "/gateway", lambda _: {"url": self.gateway_url}, auth=False),
            _route("GET", "/gateway/bot", self._get_gateway_bot),
            _route("GET", "/applications/{app_id}/commands", self._get_commands),
            _route("PUT", "/applications/{app_id}/commands", self._put_commands),
            _route("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self._get_commands),
            _route("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self._put_commands),
            _route(
                "POST",
                "/interactions/{interaction_id}/{token}/callback",
                self._callback,
                auth=False,
            ),
            _route("POST", "/webhooks/{app_id}/{token}", self._followup, auth=False),
            _route("GET", webhook_message, self._get_webhook_message, auth=False),
            _route("PATCH", webhook_message, self._edit_webhook_message, auth=False),
            _route("DELETE", webhook_message, self._delete_webhook_message, auth=False),
            _route(
                "GET", "/channels/{channel_id}", lambda r: self._channel(r.params["channel_id"])
            ),
            _route("POST", "/channels/{channel_id}/messages", self._create_message),
            _route("GET", channel_message, self._get_message),
            _route("PATCH", channel_message, self._edit_message),
            _route("DELETE", channel_message, self._delete_message),
            _route("POST", "/channels/{channel_id}/typing", self._typing),
            _route("GET", "/guilds/{guild_id}", self._get_guild),
            _route("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member),
        ]

    async def _read_body(self, request: web.Request) -> tuple[Any, dict[str, tuple[str, bytes]]]:
        files: dict[str, tuple[str, bytes]] = {}
        if request.content_type == "multipart/form-data":
            body = None
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue  # Discord bodies never nest multiparts
                data = await part.read()
                if part.name == "payload_json":
                    body = json.loads(data)
                else:
                    name = part.name or ""
                    files[name] = (part.filename or name, bytes(data))
            return body, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), files

    async def _handle_api(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix(_API_PREFIX)
        call = Call(request.method, path, None, {}, time.monotonic(), 0, dict(request.query))
        try:
            try:
                call.json, call.files = await self._read_body(request)
            except ValueError:
                raise ApiError(400, 50109, "The request body contains invalid JSON.") from None
            result = self._dispatch_api(request, call)
            response = web.Response(status=204) if result is None else _json_response(result)
        except ApiError as error:
            body = {"message": error.message, "code": error.code}
            response = _json_response(body, status=error.status)
        call.status = response.status
        self.calls.append(call)
        self._call_added.set()
        self._call_added = asyncio.Event()
        return response

    def _dispatch_api(self, request: web.Request, call: Call) -> Any:
        allowed = False
        for route in self._routes:
            match = route.pattern.match(call.path)
            if match is None:
                continue
            if route.method != call.method:
                allowed = True
                continue
            if route.auth and request.headers.get("Authorization") != f"Bot {self.token}":
                raise ApiError(401, 0, "401: Unauthorized")
            return route.handler(
                _ApiRequest(match.groupdict(), request.query, call.json, call.files)
            )
        if allowed:
            raise ApiError(405, 0, "405: Method Not Allowed")
        raise ApiError(404, 0, "404: Not Found")

    async def _handle_cdn(self, request: web.Request) -> web.Response:
        attachment = self._files.get(request.match_info["attachment_id"])
        filename = request.match_info["filename"]
        if attachment is None or quote(attachment["filename"]) != quote(filename):
            return web.Response(status=404, text="Not Found")
        content_type = attachment.get("content_type") or "application/octet-stream"
        return web.Response(body=attachment["data"], content_type=content_type)

    def _application(self) -> JSON:
        return {
            "id": self.application_id,
            "name": self.bot_user["username"],
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot": self.bot_user,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            # GATEWAY_MESSAGE_CONTENT_LIMITED | APPLICATION_COMMAND_BADGE
            "flags": (1 << 19) | (1 << 23),
            "owner": self._app_owner,
            "team": None,
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": len(self._guilds),
        }

    def _get_me(self, _: _ApiRequest) -> JSON:
        return {
            **self.bot_user,
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "locale": "en-US",
        }

    def _get_gateway_bot(self, _: _ApiRequest) -> JSON:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        return {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}

    def _create_dm(self, request: _ApiRequest) -> JSON:
        recipient = self._users.get(str(request.body.get("recipient_id")))
        if recipient is None:
            raise _unknown("User", 10013)
        return self.dm_channel(recipient)

    def _check_app(self, app_id: str) -> None:
        if app_id != self.application_id:
            raise _unknown("Application", 10002)

    def _command_scope(self, request: _ApiRequest) -> str:
        self._check_app(request.params["app_id"])
        guild_id = request.params.get("guild_id")
        if guild_id is None:
            return "global"
        return self._guild(guild_id)["id"]

    def _get_commands(self, request: _ApiRequest) -> list[JSON]:
        return self.commands.get(self._command_scope(request), [])

    def _put_commands(self, request: _ApiRequest) -> list[JSON]:
        """Bulk overwrite; a command keeps its id when one with its name and type existed."""
        scope = self._command_scope(request)
        if not isinstance(request.json, list):
            raise _invalid_form()
        old = {(c["name"], c.get("type", 1)): c["id"] for c in self.commands.get(scope, [])}
        stored = []
        for body in request.json:
            command = {
                "id": old.get((body["name"], body.get("type", 1))) or self._snowflake(),
                "application_id": self.application_id,
                "version": self._snowflake(),
                "type": 1,
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                "name_localizations": None,
                "description_localizations": None,
                **body,
            }
            if scope != "global":
                command["guild_id"] = scope
            stored.append(command)
        self.commands[scope] = stored
        return stored

    def _interaction_for_callback(self, request: _ApiRequest) -> Interaction:
        interaction = self._interactions.get(request.params["interaction_id"])
        if (
            interaction is None
            or interaction.token != request.params["token"]
            or interaction.expired
            or time.monotonic() - interaction.created > self.response_deadline
        ):
            raise _unknown("interaction", 10062)
        if interaction.responses:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        return interaction

    def _callback(self, request: _ApiRequest) -> JSON | None:
        interaction = self._interaction_for_callback(request)
        body = request.body
        kind = body.get("type")
        data = body.get("data") or {}
        channel = self._channels[interaction.payload["channel_id"]]
        message: JSON | None = None
        if kind in (CALLBACK_CHANNEL_MESSAGE, CALLBACK_DEFERRED_CHANNEL_MESSAGE):
            loading = kind == CALLBACK_DEFERRED_CHANNEL_MESSAGE
            is_command = interaction.payload["type"] == _INTERACTION_APPLICATION_COMMAND
            message = self._bot_message(
                channel,
                data,
                request.files,
                extra_flags=FLAG_LOADING if loading else 0,
                interaction=interaction,
                msg_type=20 if is_command else 0,
            )
            self._store_message(message)
        elif kind in (CALLBACK_DEFERRED_UPDATE_MESSAGE, CALLBACK_UPDATE_MESSAGE):
            if interaction.target_id is None:
                raise _invalid_form()
            message = self._messages[interaction.target_id]
            if kind == CALLBACK_UPDATE_MESSAGE:
                self._edit(message, data, request.files)
        interaction.record_response(body, message)
        if request.query.get("with_response") not in ("1", "true", "True"):
            return None
        info: JSON = {
            "id": interaction.id,
            "type": interaction.payload["type"],
            "response_message_loading": kind == CALLBACK_DEFERRED_CHANNEL_MESSAGE,
            "response_message_ephemeral": bool(message and message["flags"] & FLAG_EPHEMERAL),
        }
        resource: JSON = {"type": kind}
        if message is not None and kind != CALLBACK_DEFERRED_UPDATE_MESSAGE:
            info["response_message_id"] = message["id"]
            resource["message"] = public_message(message)
        return {"interaction": info, "resource": resource}

    def _webhook_interaction(self, request: _ApiRequest) -> Interaction:
        if request.params["app_id"] != self.application_id:
            raise _unknown("Webhook", 10015)
        interaction = self._interactions_by_token.get(request.params["token"])
        if interaction is None or interaction.expired:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        return interaction

    def _webhook_message(self, request: _ApiRequest) -> tuple[Interaction, JSON]:
        interaction = self._webhook_interaction(request)
        message_id = request.params["message_id"]
        if message_id == "@original":
            record = interaction.original
        else:
            record = next((m for m in interaction.followups if m["id"] == message_id), None)
            if record is None and interaction.original and interaction.original["id"] == message_id:
                record = interaction.original
        if record is None or record.get("deleted"):
            raise _unknown("Message", 10008)
        return interaction, record

    def _followup(self, request: _ApiRequest) -> JSON | None:
        """A follow-up; the first one after a "thinking" deferral completes that message."""
        interaction = self._webhook_interaction(request)
        if not interaction.responses:
            raise _unknown("Webhook", 10015)
        original = interaction.original
        if original is not None and original["flags"] & FLAG_LOADING:
            data = {k: v for k, v in request.body.items() if k != "flags"}
            self._edit(original, data, request.files)
            record = original
        else:
            channel = self._channels[interaction.payload["channel_id"]]
            record = self._bot_message(
                channel, request.body, request.files, interaction=interaction
            )
            self._store_message(record)
        interaction.followups.append(record)
        if request.query.get("wait") not in ("1", "true", "True"):
            return None
        return public_message(record)

    def _get_webhook_message(self, request: _ApiRequest) -> JSON:
        return public_message(self._webhook_message(request)[1])

    def _edit_webhook_message(self, request: _ApiRequest) -> JSON:
        _, record = self._webhook_message(request)
        self._edit(record, request.body, request.files)
        return public_message(record)

    def _delete_webhook_message(self, request: _ApiRequest) -> None:
        self._delete(self._webhook_message(request)[1])

    def _channel_message(self, request: _ApiRequest) -> JSON:
        channel = self._channel(request.params["channel_id"])
        record = self._messages.get(request.params["message_id"])
        if (
            record is None
            or record["channel_id"] != channel["id"]
            or record.get("deleted")
            or record["flags"] & FLAG_EPHEMERAL
        ):
            raise _unknown("Message", 10008)
        return record

    def _create_message(self, request: _ApiRequest) -> JSON:
        channel = self._channel(request.params["channel_id"])
        body = {**request.body, "flags": int(request.body.get("flags") or 0) & ~FLAG_EPHEMERAL}
        record = self._bot_message(channel, body, request.files)
        self._store_message(record)
        return public_message(record)

    def _typing(self, request: _ApiRequest) -> None:
        self._channel(request.params["channel_id"])

    def _get_message(self, request: _ApiRequest) -> JSON:
        return public_message(self._channel_message(request))

    def _edit_message(self, request: _ApiRequest) -> JSON:
        record = self._channel_message(request)
        if record["author"]["id"] != self.bot_user["id"]:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._edit(record, request.body, request.files)
        return public_message(record)

    def _delete_message(self, request: _ApiRequest) -> None:
        self._delete(self._channel_message(request))

    def _get_guild(self, request: _ApiRequest) -> JSON:
        guild = self._guild(request.params["guild_id"])
        public = {
            k: copy.deepcopy(v)
            for k, v in guild.items()
            if k not in ("channels", "threads", "members")
        }
        return {**public, "approximate_member_count": len(guild["members"])}

    def _get_member(self, request: _ApiRequest) -> JSON:
        member = self._member(self._guild(request.params["guild_id"]), request.params["user_id"])
        if member is None:
            raise _unknown("Member", 10007)
        return member
