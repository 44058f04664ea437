"""Interactions: slash commands, autocomplete and button clicks sent to the bot, and
everything it answers through them — the initial response within the 3-second deadline
("already acknowledged" after one), follow-ups (the first after a "thinking" deferral
completes the deferred message) and ``@original`` edits, until the token expires. An
autocomplete interaction takes only a list of choices (at most 25) as its answer."""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

from fakes.discord.messages import MessagesMixin
from fakes.discord.model import (
    CALLBACK_AUTOCOMPLETE_RESULT,
    CALLBACK_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_UPDATE_MESSAGE,
    CALLBACK_UPDATE_MESSAGE,
    EVERYONE_PERMISSIONS,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    INTERACTION_APPLICATION_COMMAND,
    INTERACTION_AUTOCOMPLETE,
    INTERACTION_COMPONENT,
    JSON,
    MAX_CHOICES,
    ApiError,
    Interaction,
    invalid_form,
    public_attachment,
    public_message,
    unknown,
)
from fakes.discord.rest import ApiRequest


class InteractionsMixin(MessagesMixin):
    """What users trigger (``slash_command``, ``click_button``) and the routes the bot answers
    them on (interaction callbacks and the application's webhook)."""

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
        return await self._interact(user, channel, INTERACTION_APPLICATION_COMMAND, data)

    async def autocomplete(self, user: JSON, channel: JSON, name: str, options: dict[str, Any],
                           *, focused: str) -> Interaction:
        """``user`` is typing option ``focused`` of ``/name`` (``options`` hold what is
        entered so far); the bot's choices arrive as ``responses[0]["data"]["choices"]``."""
        command, scope = self._find_command(name, channel.get("guild_id"))
        resolved: JSON = {}
        opts = []
        for key, value in options.items():
            option = self._option(key, value, resolved)
            if key == focused:
                option["focused"] = True
            opts.append(option)
        data: JSON = {"id": command["id"] if command else self._snowflake(), "name": name,
                      "type": 1, "options": opts}
        if resolved:
            data["resolved"] = resolved
        if scope is not None:
            data["guild_id"] = scope
        return await self._interact(user, channel, INTERACTION_AUTOCOMPLETE, data)

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
        return await self._interact(user, channel, INTERACTION_COMPONENT, data, record)

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
            "locale": self.locales.get(user["id"], "en-US"),
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
                app_permissions=str(EVERYONE_PERMISSIONS),
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

    def expire_interaction(self, interaction: Interaction) -> None:
        """Make the token invalid, as after Discord's 15 minutes."""
        interaction.expired = True

    def _interaction_for_callback(self, request: ApiRequest) -> Interaction:
        interaction = self._interactions.get(request.params["interaction_id"])
        if (
            interaction is None
            or interaction.token != request.params["token"]
            or interaction.expired
            or time.monotonic() - interaction.created > self.response_deadline
        ):
            raise unknown("interaction", 10062)
        if interaction.responses:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        return interaction

    def _callback(self, request: ApiRequest) -> JSON | None:
        interaction = self._interaction_for_callback(request)
        body = request.body
        kind = body.get("type")
        data = body.get("data") or {}
        channel = self._channels[interaction.payload["channel_id"]]
        message: JSON | None = None
        if (kind == CALLBACK_AUTOCOMPLETE_RESULT) != (
                interaction.payload["type"] == INTERACTION_AUTOCOMPLETE):
            raise invalid_form()  # choices answer autocomplete, and nothing else does
        if kind == CALLBACK_AUTOCOMPLETE_RESULT:
            _check_choices(data.get("choices"))
        elif kind in (CALLBACK_CHANNEL_MESSAGE, CALLBACK_DEFERRED_CHANNEL_MESSAGE):
            loading = kind == CALLBACK_DEFERRED_CHANNEL_MESSAGE
            is_command = interaction.payload["type"] == INTERACTION_APPLICATION_COMMAND
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
                raise invalid_form()
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

    def _webhook_interaction(self, request: ApiRequest) -> Interaction:
        if request.params["app_id"] != self.application_id:
            raise unknown("Webhook", 10015)
        interaction = self._interactions_by_token.get(request.params["token"])
        if interaction is None or interaction.expired:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        return interaction

    def _webhook_message(self, request: ApiRequest) -> tuple[Interaction, JSON]:
        interaction = self._webhook_interaction(request)
        message_id = request.params["message_id"]
        if message_id == "@original":
            record = interaction.original
        else:
            record = next((m for m in interaction.followups if m["id"] == message_id), None)
            if record is None and interaction.original and interaction.original["id"] == message_id:
                record = interaction.original
        if record is None or record.get("deleted"):
            raise unknown("Message", 10008)
        return interaction, record

    def _followup(self, request: ApiRequest) -> JSON | None:
        """A follow-up; the first one after a "thinking" deferral completes that message."""
        interaction = self._webhook_interaction(request)
        if not interaction.responses:
            raise unknown("Webhook", 10015)
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

    def _get_webhook_message(self, request: ApiRequest) -> JSON:
        return public_message(self._webhook_message(request)[1])

    def _edit_webhook_message(self, request: ApiRequest) -> JSON:
        _, record = self._webhook_message(request)
        self._edit(record, request.body, request.files)
        return public_message(record)

    def _delete_webhook_message(self, request: ApiRequest) -> None:
        self._delete(self._webhook_message(request)[1])


def _find_components(components: list[JSON]) -> list[JSON]:
    found = []
    for component in components:
        found.append(component)
        found.extend(_find_components(component.get("components", [])))
        if "accessory" in component:
            found.append(component["accessory"])
    return found


def _check_choices(choices: Any) -> None:
    """At most 25 choices, each a name of 1-100 characters and a value."""
    if not isinstance(choices, list) or len(choices) > MAX_CHOICES or not all(
            isinstance(c, dict) and isinstance(c.get("name"), str)
            and 1 <= len(c["name"]) <= 100 and c.get("value") is not None for c in choices):
        raise invalid_form()
