"""The gateway protocol: hello and heartbeats, identify (token, intents, the privileged
MESSAGE_CONTENT intent: close code 4014 when the portal does not grant it), resume after a
dropped connection, and guild member chunks. Events reach the bot only for the intents it
identified with."""

from __future__ import annotations

import asyncio
import json

from aiohttp import WSMsgType, web

from fakes.discord.application import ApplicationMixin
from fakes.discord.connection import GatewaySession
from fakes.discord.guilds import GuildsMixin
from fakes.discord.model import API_VERSION, INTENT_GUILDS, INTENT_MESSAGE_CONTENT, JSON
from fakes.discord.rest import ApiRequest

_HEARTBEAT_INTERVAL_MS = 41_250


class GatewayMixin(GuildsMixin, ApplicationMixin):
    """Serves ``/gateway``: READY with the guilds, then events as the world changes."""

    async def _handle_gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._sockets.add(ws)
        self.gateway_query = dict(request.query)
        session = GatewaySession(ws, request.query.get("compress"))
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

    async def _on_gateway_payload(self, session: GatewaySession, payload: JSON) -> None:
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

    async def _identify(self, session: GatewaySession, d: JSON) -> None:
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

    async def _resume(self, session: GatewaySession, d: JSON) -> None:
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

    def _send_member_chunks(self, session: GatewaySession, d: JSON) -> None:
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

    def _get_gateway_bot(self, _: ApiRequest) -> JSON:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        return {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}
