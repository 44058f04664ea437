"""Guilds, channels, threads, DMs, members, roles and permissions, and the REST routes about
them; a guild's boost tier sets its upload limit."""

from __future__ import annotations

import copy

from fakes.discord.model import (
    EVERYONE_PERMISSIONS,
    FILESIZE_LIMITS,
    INTENT_GUILD_MEMBERS,
    INTENT_GUILDS,
    JSON,
    PERM_ADMINISTRATOR,
    PERM_MANAGE_GUILD,
    now,
    snowflake_time,
    unknown,
)
from fakes.discord.rest import ApiRequest
from fakes.discord.state import DiscordState

_ALL_PERMISSIONS = (1 << 51) - 1  # every bit Discord defines in API v10 lies below 1 << 51
_BOOSTS_FOR_TIER = {0: 0, 1: 2, 2: 7, 3: 14}


class GuildsMixin(DiscordState):
    """The world tests build (guilds, channels, members) and what the bot can read of it."""

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
            self._snowflake(), self.bot_user["username"], EVERYONE_PERMISSIONS, 1
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
            "roles": [self._role(guild_id, "@everyone", EVERYONE_PERMISSIONS, 0), bot_role],
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
                "archive_timestamp": snowflake_time(thread_id),
                "locked": False,
                "create_timestamp": snowflake_time(thread_id),
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
            "joined_at": now(),
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
            "joined_at": me["joined_at"] if me else now(),
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

    def _get_me(self, _: ApiRequest) -> JSON:
        return {
            **self.bot_user,
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "locale": "en-US",
        }

    def _create_dm(self, request: ApiRequest) -> JSON:
        recipient = self._users.get(str(request.body.get("recipient_id")))
        if recipient is None:
            raise unknown("User", 10013)
        return self.dm_channel(recipient)

    def _get_guild(self, request: ApiRequest) -> JSON:
        guild = self._guild(request.params["guild_id"])
        public = {
            k: copy.deepcopy(v)
            for k, v in guild.items()
            if k not in ("channels", "threads", "members")
        }
        return {**public, "approximate_member_count": len(guild["members"])}

    def _get_member(self, request: ApiRequest) -> JSON:
        member = self._member(self._guild(request.params["guild_id"]), request.params["user_id"])
        if member is None:
            raise unknown("Member", 10007)
        return member
