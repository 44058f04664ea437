"""The bot's side, changing what it sent: edits of text, caption, media and inline keyboard,
and deletions, with Telegram's "message is not modified" rule and edit history kept for
tests."""

from __future__ import annotations

import copy
import time
from typing import Any

from fakes.telegram.formatting import caption_content, formatted
from fakes.telegram.model import (
    JSON,
    MAX_TEXT_LENGTH,
    ApiError,
    Uploads,
    drop,
    inline_markup,
    int_param,
    snapshot,
    with_entities,
)
from fakes.telegram.sending import SendingMixin

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_MEDIA_KEYS = ("photo", "document", "video", "animation", "audio", "voice", "sticker")


class EditingMixin(SendingMixin):
    """editMessage* and deleteMessage; editMessageMedia resolves media like the sends do."""

    def _editable(self, params: JSON) -> JSON:
        if params.get("inline_message_id"):
            # Inline-mode messages are not modelled; the Stylebot has no inline mode.
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self._resolve_chat(params.get("chat_id"))
        message = self._messages.get((chat["id"], int_param(params, "message_id")))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _edit_message_text(self, params: JSON, _uploads: Uploads) -> JSON:
        message = self._editable(params)
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = formatted(
            params, "text", "entities", MAX_TEXT_LENGTH, "Bad Request: message is too long"
        )
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        edited = drop(message, "text", "entities")
        edited.update(with_entities({"text": text}, "entities", entities))
        return self._commit_edit(message, edited, params.get("reply_markup"))

    def _edit_message_caption(self, params: JSON, _uploads: Uploads) -> JSON:
        message = self._editable(params)
        if not any(key in message for key in _MEDIA_KEYS):
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        edited = drop(message, "caption", "caption_entities")
        edited.update(caption_content(params))
        return self._commit_edit(message, edited, params.get("reply_markup"))

    def _edit_message_media(self, params: JSON, uploads: Uploads) -> JSON:
        message = self._editable(params)
        if not any(key in message for key in _MEDIA_KEYS):
            raise ApiError(400, "Bad Request: there is no media in the message to edit")
        content, origin, kind = self._media_content(params.get("media"), uploads)
        edited = drop(message, *_MEDIA_KEYS, "caption", "caption_entities")
        edited.update(content)
        return self._commit_edit(
            message, edited, params.get("reply_markup"), media=origin, media_kind=kind
        )

    def _edit_message_reply_markup(self, params: JSON, _uploads: Uploads) -> JSON:
        message = self._editable(params)
        return self._commit_edit(message, dict(message), params.get("reply_markup"))

    def _commit_edit(
        self,
        old: JSON,
        new: JSON,
        markup: Any,
        *,
        media: bytes | None = None,
        media_kind: str | None = None,
    ) -> JSON:
        """Apply an edit. Like Telegram, an edit without reply_markup removes the keyboard."""
        new.pop("reply_markup", None)
        inline = inline_markup(markup)
        if inline:
            new["reply_markup"] = inline
        if _content_key(new) == _content_key(old):
            raise ApiError(400, _NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        key = (old["chat"]["id"], old["message_id"])
        record = self._bot_records[key]
        if media is None:
            media, media_kind = record.current["media"], record.current["media_kind"]
        record.history.append(record.current)
        record.current = snapshot(new, markup, media, media_kind)
        record.edits += 1
        self._messages[key] = new
        return copy.deepcopy(new)

    def _delete_message(self, params: JSON, _uploads: Uploads) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        key = (chat["id"], int_param(params, "message_id"))
        message = self._messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        from_bot = message.get("from", {}).get("id") == self.bot_id
        if not from_bot and chat["type"] != "private" and self.bot_id not in self._admins[key[0]]:
            raise ApiError(400, "Bad Request: message can't be deleted")
        del self._messages[key]
        if key in self._bot_records:
            self._bot_records[key].deleted = True
        return True


def _media_unique_id(message: JSON) -> str | None:
    if message.get("photo"):
        return message["photo"][-1]["file_unique_id"]
    for key in _MEDIA_KEYS[1:]:
        if key in message:
            return message[key]["file_unique_id"]
    return None


def _content_key(message: JSON) -> tuple[Any, ...]:
    """What Telegram compares to decide that an edit changes nothing."""
    return (
        message.get("text"),
        message.get("entities") or [],
        message.get("caption"),
        message.get("caption_entities") or [],
        _media_unique_id(message),
        message.get("reply_markup"),
    )
