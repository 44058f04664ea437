"""Messages: what users post (MESSAGE_CREATE to the bot), what the bot posts, edits and
deletes over REST, replies and mentions, and the gateway events about them — with message
content only where Discord delivers it (MESSAGE_CONTENT intent, DMs, mentions of the bot)."""

from __future__ import annotations

import copy
import re

from fakes.discord.attachments import AttachmentsMixin
from fakes.discord.model import (
    FLAG_COMPONENTS_V2,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    FLAG_SUPPRESS_NOTIFICATIONS,
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MESSAGES,
    INTENT_MESSAGE_CONTENT,
    INTERACTION_APPLICATION_COMMAND,
    JSON,
    ApiError,
    Interaction,
    invalid_form,
    now,
    public_message,
    snowflake_time,
    unknown,
)
from fakes.discord.rest import ApiRequest

_CREATE_FLAGS = (
    FLAG_SUPPRESS_EMBEDS | FLAG_EPHEMERAL | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2
)
_EDIT_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_COMPONENTS_V2

_MENTION_RE = re.compile(r"<@!?(\d+)>")


class MessagesMixin(AttachmentsMixin):
    """Message records by id (users' and the bot's), with the bot's edit history."""

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
            "timestamp": snowflake_time(message_id),
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
                raise invalid_form()
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
            "timestamp": snowflake_time(message_id),
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
        if payload["type"] == INTERACTION_APPLICATION_COMMAND:
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
        record["edited_timestamp"] = now()
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

    def _channel_message(self, request: ApiRequest) -> JSON:
        channel = self._channel(request.params["channel_id"])
        record = self._messages.get(request.params["message_id"])
        if (
            record is None
            or record["channel_id"] != channel["id"]
            or record.get("deleted")
            or record["flags"] & FLAG_EPHEMERAL
        ):
            raise unknown("Message", 10008)
        return record

    def _create_message(self, request: ApiRequest) -> JSON:
        channel = self._channel(request.params["channel_id"])
        body = {**request.body, "flags": int(request.body.get("flags") or 0) & ~FLAG_EPHEMERAL}
        record = self._bot_message(channel, body, request.files)
        self._store_message(record)
        return public_message(record)

    def _typing(self, request: ApiRequest) -> None:
        self._channel(request.params["channel_id"])

    def _get_message(self, request: ApiRequest) -> JSON:
        return public_message(self._channel_message(request))

    def _edit_message(self, request: ApiRequest) -> JSON:
        record = self._channel_message(request)
        if record["author"]["id"] != self.bot_user["id"]:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._edit(record, request.body, request.files)
        return public_message(record)

    def _delete_message(self, request: ApiRequest) -> None:
        self._delete(self._channel_message(request))


def _empty_message() -> ApiError:
    return ApiError(400, 50006, "Cannot send an empty message")


def _is_empty(message: JSON) -> bool:
    keys = ("content", "embeds", "attachments", "components", "sticker_items", "poll")
    return not any(message.get(k) for k in keys)
