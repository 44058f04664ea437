"""The users' side: what tests make people do — write texts, send photos, albums, documents,
stickers, videos and voice notes, press inline buttons — stored and delivered to the bot the
way Telegram's clients and servers would."""

from __future__ import annotations

import copy
import io
import time

from PIL import Image

from fakes.telegram.files import FilesMixin, file_fields, render_photo
from fakes.telegram.formatting import auto_entities
from fakes.telegram.model import JSON, ChatRef, with_entities, without_reply
from fakes.telegram.updates import UpdatesMixin

_CORRUPT_PHOTO_SIDE = 320

# Not playable media: bots only ever forward or download these, never decode them.
_FAKE_MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(2048)
_FAKE_OGG = b"OggS\x00\x02" + bytes(1024)


class UsersMixin(FilesMixin, UpdatesMixin):
    """Test-facing user actions; each stores a message and enqueues it if the bot may see it."""

    def send_text(
        self, chat: ChatRef, user: JSON, text: str, *, reply_to: int | None = None
    ) -> JSON:
        """``user`` writes ``text``; commands, mentions and URLs get entities like in clients."""
        content = with_entities({"text": text}, "entities", auto_entities(text))
        return self._user_message(chat, user, content, reply_to)

    def send_photo(
        self,
        chat: ChatRef,
        user: JSON,
        data: bytes,
        *,
        caption: str | None = None,
        reply_to: int | None = None,
        media_group_id: str | None = None,
    ) -> JSON:
        """``user`` sends a compressed photo; Telegram stores it as JPEG sizes up to 1280 px.

        Bytes Pillow cannot decode still become one PhotoSize serving them raw, so tests can
        check how the bot copes with corrupt downloads.
        """
        rendered = render_photo(data)
        sizes = rendered[1] if rendered else [(_CORRUPT_PHOTO_SIDE, _CORRUPT_PHOTO_SIDE, data)]
        content: JSON = {"photo": self._store_photo_sizes(sizes, origin=data)}
        content.update(_user_caption(caption))
        if media_group_id:
            content["media_group_id"] = media_group_id
        return self._user_message(chat, user, content, reply_to)

    def send_album(
        self,
        chat: ChatRef,
        user: JSON,
        items: list[bytes],
        *,
        caption: str | None = None,
        reply_to: int | None = None,
        as_documents: bool = False,
    ) -> list[JSON]:
        """``user`` sends an album: one media_group_id, caption on the first item only (as
        clients do), ``reply_to`` on every item; the updates are enqueued back to back."""
        group_id = str(next(self._media_group_seq))
        messages = []
        for index, data in enumerate(items):
            item_caption = caption if index == 0 else None
            if as_documents:
                file_name, mime_type = _image_file_name(data, index)
                messages.append(
                    self.send_document(
                        chat,
                        user,
                        data,
                        file_name=file_name,
                        mime_type=mime_type,
                        caption=item_caption,
                        reply_to=reply_to,
                        media_group_id=group_id,
                    )
                )
            else:
                messages.append(
                    self.send_photo(
                        chat,
                        user,
                        data,
                        caption=item_caption,
                        reply_to=reply_to,
                        media_group_id=group_id,
                    )
                )
        return messages

    def send_document(
        self,
        chat: ChatRef,
        user: JSON,
        data: bytes,
        *,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        reply_to: int | None = None,
        media_group_id: str | None = None,
        file_size: int | None = None,
        hide_file_size: bool = False,
    ) -> JSON:
        """``user`` sends a file as-is; images get a thumbnail like Telegram makes.

        ``file_size`` overrides the size reported in the message and judged by getFile, to
        simulate files over the 20 MB download limit without allocating them;
        ``hide_file_size`` leaves it out, as the Bot API may (the field is optional).
        """
        document = self._store_document(data, file_name, mime_type, file_size=file_size)
        if hide_file_size:
            document.pop("file_size", None)
            self._files[document["file_id"]].hide_size = True
        content: JSON = {"document": document}
        content.update(_user_caption(caption))
        if media_group_id:
            content["media_group_id"] = media_group_id
        return self._user_message(chat, user, content, reply_to)

    def send_sticker(self, chat: ChatRef, user: JSON) -> JSON:
        """``user`` sends a static 512×512 WEBP sticker."""
        buffer = io.BytesIO()
        Image.new("RGBA", (512, 512), (255, 200, 0, 255)).save(buffer, "WEBP")
        stored = self._store_file("sticker", buffer.getvalue(), "webp", "image/webp")
        sticker = {
            **file_fields(stored),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "😀",
        }
        stored.meta = sticker
        return self._user_message(chat, user, {"sticker": sticker}, None)

    def send_video(self, chat: ChatRef, user: JSON) -> JSON:
        """``user`` sends a short video (the bytes are not playable)."""
        stored = self._store_file("video", _FAKE_MP4, "mp4", "video/mp4")
        video = {
            **file_fields(stored),
            "width": 640,
            "height": 360,
            "duration": 3,
            "file_name": "video.mp4",
            "mime_type": "video/mp4",
        }
        stored.meta = video
        return self._user_message(chat, user, {"video": video}, None)

    def send_voice(self, chat: ChatRef, user: JSON) -> JSON:
        """``user`` sends a voice note (the bytes are not playable)."""
        stored = self._store_file("voice", _FAKE_OGG, "oga", "audio/ogg")
        voice = {**file_fields(stored), "duration": 2, "mime_type": "audio/ogg"}
        stored.meta = voice
        return self._user_message(chat, user, {"voice": voice}, None)

    def press_button(self, chat: ChatRef, user: JSON, message_id: int, data: str) -> str:
        """``user`` presses the inline button with callback_data ``data``; returns the query id.

        Like a real client, only buttons currently shown on the bot's message can be pressed.
        """
        known_chat = self._chat_of(chat)
        message = self._messages.get((known_chat["id"], message_id))
        if message is None or message.get("from", {}).get("id") != self.bot_id:
            raise ValueError(f"no bot message {message_id} in chat {known_chat['id']}")
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        if not any(button.get("callback_data") == data for row in rows for button in row):
            raise ValueError(f"message {message_id} shows no button with callback_data {data!r}")
        query_id = str(next(self._callback_seq))
        self._callback_chats[query_id] = known_chat["id"]
        query = {
            "id": query_id,
            "from": dict(self._user_of(user)),
            "message": copy.deepcopy(message),
            "chat_instance": str(-7_000_000_000_000_000_000 + known_chat["id"]),
            "data": data,
        }
        self._enqueue("callback_query", query)
        return query_id

    def _user_message(self, chat: ChatRef, user: JSON, content: JSON, reply_to: int | None) -> JSON:
        """Store a message a user sent and enqueue it for the bot if Telegram would."""
        known_chat = self._chat_of(chat)
        sender = self._user_of(user)
        chat_id = known_chat["id"]
        replied = None
        if reply_to is not None:
            original = self._messages.get((chat_id, reply_to))
            if original is None:
                raise ValueError(f"no message {reply_to} in chat {chat_id} to reply to")
            replied = without_reply(original)
        message: JSON = {
            "message_id": self._next_message_id(chat_id),
            "from": dict(sender),
            "chat": dict(known_chat),
            "date": int(time.time()),
        }
        if replied is not None:
            message["reply_to_message"] = replied
        message.update(content)
        self._messages[(chat_id, message["message_id"])] = message
        self._members[chat_id].add(sender["id"])
        if self._delivers(known_chat, message):
            self._enqueue("message", message)
        return copy.deepcopy(message)


def _user_caption(caption: str | None) -> JSON:
    if not caption:
        return {}
    return with_entities({"caption": caption}, "caption_entities", auto_entities(caption))


def _image_file_name(data: bytes, index: int) -> tuple[str, str]:
    """A plausible file name and MIME type for an album item sent as a file."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format or ""
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return f"file_{index + 1}.bin", "application/octet-stream"
    ext = {"JPEG": "jpg"}.get(image_format, image_format.lower())
    return f"IMG_{index + 1:04d}.{ext}", Image.MIME.get(image_format, "application/octet-stream")
