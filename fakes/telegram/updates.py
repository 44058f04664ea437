"""The bot's updates: which messages reach it (privacy mode, ``allowed_updates``) and long
polling with getUpdates."""

from __future__ import annotations

import copy
import time

from fakes.telegram.formatting import u16_slice
from fakes.telegram.model import JSON, ApiError, Uploads, opt_int
from fakes.telegram.state import TelegramState

# Update types a bot only gets when it lists them in allowed_updates.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class UpdatesMixin(TelegramState):
    """Queues updates for the bot and hands them out, confirmed by the next offset."""

    def _enqueue(self, kind: str, payload: JSON) -> None:
        update = {"update_id": next(self._update_seq), kind: copy.deepcopy(payload)}
        self.updates.append(update)
        self._pending.append(update)
        self._notify()

    def _is_allowed(self, update: JSON) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _OPT_IN_UPDATES

    def _delivers(self, chat: JSON, message: JSON) -> bool:
        """Whether Telegram would hand ``message`` to this bot (privacy mode rules)."""
        if chat["type"] == "private" or not self.privacy_mode:
            return True
        if self.bot_id in self._admins[chat["id"]]:
            return True
        text = message.get("text") or message.get("caption") or ""
        entities = message.get("entities") or message.get("caption_entities") or []
        own_name = self.username.lower()
        for entity in entities:
            part = u16_slice(text, entity["offset"], entity["length"]).lower()
            if entity["type"] == "bot_command" and entity["offset"] == 0:
                _, at, addressee = part.partition("@")
                if not at or addressee == own_name:
                    return True
            if entity["type"] == "mention" and part == "@" + own_name:
                return True
        replied = message.get("reply_to_message") or {}
        return replied.get("from", {}).get("id") == self.bot_id

    async def _get_updates(self, params: JSON, _: Uploads) -> list[JSON]:
        if self._webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is "
                            "active; use deleteWebhook to delete the webhook first")
        offset = opt_int(params, "offset")
        limit = min(max(opt_int(params, "limit") or 100, 1), 100)
        timeout = params.get("timeout")
        timeout = float(timeout) if isinstance(timeout, int | float) and timeout > 0 else 0.0
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"] or []) or None
        if offset:
            if offset > 0:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
            else:
                self._pending = self._pending[offset:]
            self._notify()
        deadline = time.monotonic() + timeout
        while True:
            batch = [update for update in self._pending if self._is_allowed(update)][:limit]
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._closing:
                return copy.deepcopy(batch)
            await self._wait_changed(remaining)
