"""The bot's side, sending: messages, photos, documents, albums, chat actions and answers to
button presses, validated with the Bot API's error messages.

Files may come as uploads, ``attach://`` parts or file ids of stored files; URLs always fail,
since nothing outside 127.0.0.1 is reachable.
"""

from __future__ import annotations

import copy
import mimetypes
import time
from typing import Any

from fakes.telegram.files import FilesMixin, render_photo
from fakes.telegram.formatting import caption_content, formatted
from fakes.telegram.model import (
    JSON,
    MAX_PHOTO_UPLOAD_SIZE,
    MAX_TEXT_LENGTH,
    ApiError,
    BotRecord,
    StoredFile,
    Upload,
    Uploads,
    as_int,
    inline_markup,
    snapshot,
    with_entities,
    without_reply,
)

_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
_CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})


class SendingMixin(FilesMixin):
    """sendMessage, sendPhoto, sendDocument, sendMediaGroup, sendChatAction and
    answerCallbackQuery; every message the bot sends is kept as a ``BotRecord``."""

    def _send_message(self, params: JSON, _uploads: Uploads) -> JSON:
        chat = self._sendable_chat(params)
        text, entities = formatted(
            params, "text", "entities", MAX_TEXT_LENGTH, "Bad Request: message is too long"
        )
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        content = with_entities({"text": text}, "entities", entities)
        return self._post_bot_message(chat, params, content)

    def _send_photo(self, params: JSON, uploads: Uploads) -> JSON:
        chat = self._sendable_chat(params)
        caption = caption_content(params)
        sizes, origin = self._photo_from(params.get("photo"), uploads, "photo")
        content = {"photo": sizes, **caption}
        return self._post_bot_message(chat, params, content, media=origin, media_kind="photo")

    def _send_document(self, params: JSON, uploads: Uploads) -> JSON:
        chat = self._sendable_chat(params)
        caption = caption_content(params)
        document, origin = self._document_from(params.get("document"), uploads, "document")
        content = {"document": document, **caption}
        return self._post_bot_message(chat, params, content, media=origin, media_kind="document")

    def _send_media_group(self, params: JSON, uploads: Uploads) -> list[JSON]:
        chat = self._sendable_chat(params)
        items = params.get("media")
        if not isinstance(items, list) or not 2 <= len(items) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media in the media group")
        prepared = [self._media_content(item, uploads) for item in items]
        kinds = {kind for _, _, kind in prepared}
        if "document" in kinds and len(kinds) > 1:
            raise ApiError(400, "Bad Request: document can't be mixed with other media types")
        group_id = str(next(self._media_group_seq))
        return [
            self._post_bot_message(
                chat, params, content, media=origin, media_kind=kind, media_group_id=group_id
            )
            for content, origin, kind in prepared
        ]

    def _post_bot_message(
        self,
        chat: JSON,
        params: JSON,
        content: JSON,
        *,
        media: bytes | None = None,
        media_kind: str | None = None,
        media_group_id: str | None = None,
    ) -> JSON:
        """Store a message the bot sent and return it in Bot API shape."""
        chat_id = chat["id"]
        replied = self._replied_message(chat_id, params)
        message: JSON = {
            "message_id": self._next_message_id(chat_id),
            "from": dict(self._bot_user),
            "chat": dict(chat),
            "date": int(time.time()),
        }
        if params.get("message_thread_id") is not None:
            message["message_thread_id"] = params["message_thread_id"]
        if replied is not None:
            message["reply_to_message"] = replied
        if media_group_id:
            message["media_group_id"] = media_group_id
        message.update(content)
        markup = params.get("reply_markup")
        inline = inline_markup(markup)
        if inline:
            message["reply_markup"] = inline
        key = (chat_id, message["message_id"])
        self._messages[key] = message
        self._bot_records[key] = BotRecord(snapshot(message, markup, media, media_kind))
        return copy.deepcopy(message)

    def _replied_message(self, chat_id: int, params: JSON) -> JSON | None:
        """The message a send replies to (reply_parameters or legacy reply_to_message_id)."""
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            target = self._resolve_chat(reply.get("chat_id", chat_id))["id"]
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") is not None:
            target = chat_id
            message_id = params["reply_to_message_id"]
            allow_missing = bool(params.get("allow_sending_without_reply"))
        else:
            return None
        original = self._messages.get((target, as_int(message_id)))
        if original is None:
            if allow_missing:
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        return without_reply(original)

    def _media_content(self, item: Any, uploads: Uploads) -> tuple[JSON, bytes, str]:
        """Content, original bytes and kind for one InputMedia (album item or edit)."""
        if not isinstance(item, dict):
            raise ApiError(400, "Bad Request: can't parse InputMedia: object expected")
        caption = caption_content(item)
        kind = item.get("type")
        if kind == "photo":
            sizes, origin = self._photo_from(item.get("media"), uploads, "media")
            return {"photo": sizes, **caption}, origin, kind
        if kind == "document":
            document, origin = self._document_from(item.get("media"), uploads, "media")
            return {"document": document, **caption}, origin, kind
        # The fake does not model video/audio/animation sends; the Stylebot never uses them.
        raise ApiError(400, f"Bad Request: unsupported media type {kind!r} in FakeTelegram")

    def _photo_from(self, ref: Any, uploads: Uploads, name: str) -> tuple[list[JSON], bytes]:
        source = self._input_file(ref, uploads, name)
        if isinstance(source, StoredFile):
            if source.kind != "photo":
                raise ApiError(400, "Bad Request: type of file mismatch")
            return copy.deepcopy(source.meta), source.origin
        data = source.data
        if not data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        if len(data) > MAX_PHOTO_UPLOAD_SIZE:
            raise ApiError(400, "Bad Request: PHOTO_SAVE_FILE_INVALID")
        rendered = render_photo(data)
        if rendered is None:
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        (width, height), sizes = rendered
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        return self._store_photo_sizes(sizes, origin=data), data

    def _document_from(self, ref: Any, uploads: Uploads, name: str) -> tuple[JSON, bytes]:
        source = self._input_file(ref, uploads, name)
        if isinstance(source, StoredFile):
            if source.kind != "document":
                raise ApiError(400, "Bad Request: type of file mismatch")
            return copy.deepcopy(source.meta), source.origin
        if not source.data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        mime_type = mimetypes.guess_type(source.filename)[0] or source.content_type
        return self._store_document(source.data, source.filename, mime_type), source.data

    def _input_file(self, ref: Any, uploads: Uploads, name: str) -> Upload | StoredFile:
        """Resolve a file parameter: a direct upload, ``attach://<part>``, or a file_id."""
        if ref is None:
            if name not in uploads:
                raise ApiError(400, f"Bad Request: there is no {name} in the request")
            return uploads[name]
        if not isinstance(ref, str):
            raise ApiError(400, _WRONG_FILE)
        if ref.startswith("attach://"):
            upload = uploads.get(ref.removeprefix("attach://"))
            if upload is None:
                raise ApiError(400, _WRONG_FILE)
            return upload
        if ref.startswith(("http://", "https://")):
            # Nothing outside 127.0.0.1 is reachable, so URLs can only fail.
            raise ApiError(400, "Bad Request: failed to get HTTP URL content")
        stored = self._files.get(ref)
        if stored is None:
            raise ApiError(400, _WRONG_FILE)
        return stored

    def _sendable_chat(self, params: JSON) -> JSON:
        chat = self._resolve_chat(params.get("chat_id"))
        if chat["type"] == "private" and chat["id"] in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _send_chat_action(self, params: JSON, _uploads: Uploads) -> bool:
        self._sendable_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _answer_callback_query(self, params: JSON, _uploads: Uploads) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._callback_chats or query_id in self._answered_callbacks:
            raise ApiError(400, _QUERY_INVALID)
        self._answered_callbacks.add(query_id)
        return True
