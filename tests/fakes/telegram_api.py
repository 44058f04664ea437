"""A fake Telegram Bot API server for end-to-end tests of the bot.

Why: testing the bot against this fake exercises python-telegram-bot's real HTTP layer (form and
multipart encoding, error mapping, long polling, file downloads) instead of mocks, while staying
hermetic: the server binds 127.0.0.1 only. Tests play the users (``send_text``, ``send_photo``,
``press_button`` ...) and then assert on what the bot did (``calls``, ``wait_for_call``,
``bot_messages``)::

    async with FakeTelegram() as tg:
        app = (ApplicationBuilder().token(tg.token).base_url(tg.base_url)
               .base_file_url(tg.base_file_url).build())
        ...  # add handlers, initialize, start, start_polling
        alice = tg.user(1001, "Alice")
        tg.send_text(tg.private_chat(alice), alice, "/start")
        call = await tg.wait_for_call("sendMessage")

Behaviour and error descriptions follow https://core.telegram.org/bots/api wherever the bot can
observe them; deliberate simplifications are noted where they occur. Entity offsets and lengths
are in UTF-16 code units, as in the real API.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import inspect
import io
import itertools
import json
import logging
import math
import mimetypes
import re
import socket
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, NoReturn, Self

from aiohttp import BodyPartReader, ClientError, ClientSession, hdrs, web
from PIL import Image

JSON = dict[str, Any]
ChatRef = JSON | int
"""A chat dict as returned by ``private_chat``/``group_chat``, or just its id."""
MethodRef = str | tuple[str, ...]
Uploads = dict[str, "_Upload"]
_Handler = Callable[[JSON, Uploads], Any]

_log = logging.getLogger(__name__)

MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
"""getFile refuses bigger files ("file is too big")."""
MAX_UPLOAD_SIZE = 50 * 1024 * 1024
MAX_PHOTO_UPLOAD_SIZE = 10 * 1024 * 1024
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

_PHOTO_THUMB_SIDES = (90, 320, 800)
_PHOTO_MAX_SIDE = 1280
_DOCUMENT_THUMB_SIDE = 320
_CORRUPT_PHOTO_SIDE = 320

_CHAT_RATE = 1.0
_CHAT_BURST = 3.0
_GROUP_PER_MINUTE = 20
_GLOBAL_PER_SECOND = 30

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"

# Calls that Telegram's flood control counts (enforce_limits=True).
_FLOOD_METHODS = frozenset({
    "sendmessage", "sendphoto", "senddocument", "sendmediagroup", "editmessagetext",
    "editmessagecaption", "editmessagemedia", "editmessagereplymarkup",
})
# Form fields that are plain strings even when they look like JSON (a caption "42", a file_id).
_STRING_PARAMS = frozenset({
    "action", "animation", "audio", "business_connection_id", "callback_query_id", "caption",
    "custom_title", "description", "document", "emoji", "file_id", "inline_message_id",
    "language_code", "message_effect_id", "name", "parse_mode", "photo", "short_description",
    "sticker", "text", "thumbnail", "title", "url", "video", "voice",
})
# Update types a bot only gets when it lists them in allowed_updates.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})
_MEDIA_KEYS = ("photo", "document", "video", "animation", "audio", "voice", "sticker")
_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
}
_FILE_ID_PREFIXES = {
    "photo": "AgACAgIAAxkBAAI",
    "document": "BQACAgIAAxkBAAI",
    "thumbnail": "AAMCAgADGQEAAg",
    "sticker": "CAACAgIAAxkBAAI",
    "video": "BAACAgIAAxkBAAI",
    "voice": "AwACAgIAAxkBAAI",
}
_FILE_DIRS = {
    "photo": "photos",
    "document": "documents",
    "thumbnail": "thumbnails",
    "sticker": "stickers",
    "video": "videos",
    "voice": "voice",
}
# Not playable media: bots only ever forward or download these, never decode them.
_FAKE_MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(2048)
_FAKE_OGG = b"OggS\x00\x02" + bytes(1024)

_AUTO_ENTITY_RE = re.compile(
    r"(?P<bot_command>(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?)"
    r"|(?P<mention>(?<![\w@/])@[A-Za-z0-9_]{5,32})"
    r"|(?P<url>\bhttps?://[^\s<>\"]+)"
)
_INT_RE = re.compile(r"-?\d+")


class _ApiError(Exception):
    """An error answer of the Bot API: HTTP status plus Telegram's JSON error body."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass
class Call:
    """One request the bot made, as the fake understood it."""

    method: str
    """Method name as in the URL, case preserved (e.g. ``sendPhoto``)."""
    params: JSON
    """Decoded parameters; JSON-valued form fields are parsed into Python objects."""
    files: dict[str, bytes]
    """Uploaded files by multipart field name."""
    time: float
    """``time.monotonic()`` when the request arrived."""
    chat_id: int | None
    status: int
    """HTTP status the fake answered."""


@dataclass
class _Upload:
    data: bytes
    filename: str
    content_type: str


@dataclass
class _StoredFile:
    """A downloadable file; ``meta`` is the Bot API object that was sent with it."""

    kind: str
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    mime_type: str
    origin: bytes
    """The bytes the sender supplied (Telegram re-encodes photos; tests compare originals)."""
    meta: Any = None
    size_override: int | None = None
    hide_size: bool = False  # file_size left out of the message and of getFile

    @property
    def size(self) -> int:
        return len(self.data) if self.size_override is None else self.size_override


@dataclass
class _BotRecord:
    """Current state and edit history of one message the bot sent."""

    current: JSON
    history: list[JSON] = field(default_factory=list)
    edits: int = 0
    deleted: bool = False


class FakeTelegram:
    """An aiohttp server that answers python-telegram-bot like api.telegram.org would."""

    def __init__(
        self,
        *,
        token: str = "123456789:TEST-fake-token-for-tests-only",
        bot_id: int = 123456789,
        username: str = "StylebotTestBot",
        privacy_mode: bool = True,
        enforce_limits: bool = False,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.username = username
        self.privacy_mode = privacy_mode
        self.enforce_limits = enforce_limits

        self.calls: list[Call] = []
        self.updates: list[JSON] = []
        """Every update ever enqueued for the bot, in order (delivered or still pending)."""
        self.downloads: list[str] = []
        """``file_path`` of every file the bot downloaded."""
        self.rate_limited = 0

        self._bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Stylebot",
            "username": username,
        }
        self._users: dict[int, JSON] = {bot_id: self._bot_user}
        self._chats: dict[int, JSON] = {}
        self._members: defaultdict[int, set[int]] = defaultdict(set)
        self._admins: defaultdict[int, set[int]] = defaultdict(set)
        self._blocked: set[int] = set()
        self._messages: dict[tuple[int, int], JSON] = {}
        self._bot_records: dict[tuple[int, int], _BotRecord] = {}
        self._last_message_id: defaultdict[int, int] = defaultdict(int)
        self._files: dict[str, _StoredFile] = {}
        self._file_paths: dict[str, _StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._media_group_seq = itertools.count(13_000_000_000_000_001)
        self._callback_seq = itertools.count(4_000_000_000_000_000_001)
        self._callback_chats: dict[str, int] = {}
        self._answered_callbacks: set[str] = set()
        self._commands: dict[tuple[str, str], list[JSON]] = {}

        self._update_seq = itertools.count(100_000_001)
        self._pending: list[JSON] = []
        self._allowed_updates: list[str] | None = None
        self._webhook: JSON | None = None  # {"url": ..., "secret_token": ...} once set
        self._pusher: asyncio.Task[None] | None = None
        self.webhook_pushes: list[tuple[int, int]] = []
        """(update_id, HTTP status) of every update posted to the bot's webhook."""

        self._failures: defaultdict[str, deque[int]] = defaultdict(deque)
        self._refusals: defaultdict[str, deque[str]] = defaultdict(deque)
        self._chat_tokens: dict[int, tuple[float, float]] = {}
        self._group_sends: defaultdict[int, deque[float]] = defaultdict(deque)
        self._global_sends: deque[float] = deque()

        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._methods: dict[str, _Handler] = {
            "getme": self._get_me,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getupdates": self._get_updates,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getfile": self._get_file,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "sendmediagroup": self._send_media_group,
            "sendchataction": self._send_chat_action,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagemedia": self._edit_message_media,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "deletemessage": self._delete_message,
            "getchatmember": self._get_chat_member,
            "getchatadministrators": self._get_chat_administrators,
            "getchat": self._get_chat,
            "close": self._true,
            "logout": self._true,
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Serve on a free port of 127.0.0.1."""
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._handle)
        # handler_cancellation: a long poll the client gave up on must not linger until timeout.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))
            await web.SockSite(runner, sock).start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = sock.getsockname()[1]
        self._closing = False

    async def close(self) -> None:
        """Stop serving; pending long polls return empty at once."""
        self._closing = True
        self._notify()
        if self._pusher is not None:
            self._pusher.cancel()
            await asyncio.gather(self._pusher, return_exceptions=True)
            self._pusher = None
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
    def base_url(self) -> str:
        """What to pass to ``ApplicationBuilder.base_url`` (PTB appends the token)."""
        return f"http://127.0.0.1:{self._require_port()}/bot"

    @property
    def base_file_url(self) -> str:
        """What to pass to ``ApplicationBuilder.base_file_url``."""
        return f"http://127.0.0.1:{self._require_port()}/file/bot"

    @property
    def bot_user(self) -> JSON:
        """The bot as a User dict, e.g. for ``set_admin(chat, tg.bot_user)``."""
        return dict(self._bot_user)

    def _require_port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started; use `async with FakeTelegram()`")
        return self._port

    # ------------------------------------------------------------------ actors

    def user(self, user_id: int, first_name: str, username: str | None = None) -> JSON:
        """Register a human user and return it as a Bot API User."""
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        user["language_code"] = "en"
        self._users[user_id] = user
        return dict(user)

    def private_chat(self, user: JSON) -> JSON:
        """The private chat between ``user`` and the bot (its id is the user's id)."""
        known = self._user_of(user)
        chat: JSON = {"id": known["id"], "type": "private", "first_name": known["first_name"]}
        if "username" in known:
            chat["username"] = known["username"]
        self._chats[chat["id"]] = chat
        self._members[chat["id"]].update({known["id"], self.bot_id})
        return dict(chat)

    def group_chat(self, chat_id: int, title: str, *, supergroup: bool = True) -> JSON:
        """A group the bot is a member of.

        A positive ``chat_id`` is turned into Telegram's form: ``-100<id>`` for supergroups,
        ``-<id>`` for basic groups; negative ids are used as given.
        """
        if chat_id > 0:
            chat_id = int(f"-100{chat_id}") if supergroup else -chat_id
        chat: JSON = {"id": chat_id, "type": "supergroup" if supergroup else "group"}
        chat["title"] = title
        self._chats[chat_id] = chat
        self._members[chat_id].add(self.bot_id)
        return dict(chat)

    def set_admin(self, chat: ChatRef, user: JSON, admin: bool = True) -> None:
        """Make ``user`` (possibly ``bot_user``) an administrator of ``chat``, or not.

        As on Telegram, a bot that is an administrator receives every group message even in
        privacy mode.
        """
        chat_id = self._chat_of(chat)["id"]
        user_id = self._user_of(user)["id"]
        self._members[chat_id].add(user_id)
        if admin:
            self._admins[chat_id].add(user_id)
        else:
            self._admins[chat_id].discard(user_id)

    def block_bot(self, user: JSON, blocked: bool = True) -> None:
        """Simulate the user blocking the bot: sends to them answer 403."""
        user_id = self._user_of(user)["id"]
        if blocked:
            self._blocked.add(user_id)
        else:
            self._blocked.discard(user_id)

    def set_file_size_override(self, file_id: str, size: int) -> None:
        """Make getFile report (and judge by) ``size`` bytes, e.g. to simulate > 20 MB files."""
        self._files[file_id].size_override = size

    # ------------------------------------------------------------------ user actions

    def send_text(
        self, chat: ChatRef, user: JSON, text: str, *, reply_to: int | None = None
    ) -> JSON:
        """``user`` writes ``text``; commands, mentions and URLs get entities like in clients."""
        content = _with_entities({"text": text}, "entities", _auto_entities(text))
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
        rendered = _render_photo(data)
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
            **_file_fields(stored),
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
            **_file_fields(stored),
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
        voice = {**_file_fields(stored), "duration": 2, "mime_type": "audio/ogg"}
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

    # ------------------------------------------------------------------ observation

    def mark(self) -> int:
        """Index for ``since=`` arguments: only calls made after this point."""
        return len(self.calls)

    def calls_to(
        self, method: MethodRef, *, chat_id: int | None = None, since: int = 0
    ) -> list[Call]:
        """Calls of ``method`` (case-insensitive; a tuple means any of them)."""
        names = _method_names(method)
        return [
            call
            for call in self.calls[since:]
            if call.method.lower() in names and (chat_id is None or call.chat_id == chat_id)
        ]

    async def wait_for_call(
        self,
        method: MethodRef,
        predicate: Callable[[Call], bool] | None = None,
        *,
        since: int = 0,
        timeout: float = 10.0,
    ) -> Call:
        """The first call of ``method`` at index >= ``since`` for which ``predicate`` holds.

        Raises TimeoutError listing the recent calls, which usually explains what went wrong.
        """
        names = _method_names(method)
        deadline = time.monotonic() + timeout
        index = since
        while True:
            for call in self.calls[index:]:
                if call.method.lower() in names and (predicate is None or predicate(call)):
                    return call
            index = max(index, len(self.calls))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                condition = " matching the predicate" if predicate else ""
                raise TimeoutError(
                    f"no {method} call{condition} within {timeout}s (since call #{since}); "
                    f"latest calls, getUpdates omitted:\n{self._describe_calls(since)}"
                )
            await self._wait_changed(remaining)

    async def wait_delivered(self, timeout: float = 5.0) -> None:
        """Wait until the bot has fetched and confirmed every update enqueued so far."""
        deadline = time.monotonic() + timeout
        while any(self._is_allowed(update) for update in self._pending):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(self._pending)} updates still pending after {timeout}s")
            await self._wait_changed(remaining)

    def bot_messages(self, chat_id: int) -> list[JSON]:
        """Messages the bot sent in the chat, oldest first, each in its current state.

        Keys: message_id, text, caption, entities, media (the bytes the bot uploaded, or the
        stored file's bytes when it sent a file_id), media_kind ("photo" | "document" | None),
        file_name, reply_markup (as sent, parsed), reply_to_message_id, media_group_id,
        message_thread_id, edits, history (earlier states, oldest first) and deleted.
        """
        records = sorted(
            ((key[1], record) for key, record in self._bot_records.items() if key[0] == chat_id),
            key=lambda item: item[0],
        )
        return [
            {
                **copy.deepcopy(record.current),
                "edits": record.edits,
                "history": copy.deepcopy(record.history),
                "deleted": record.deleted,
            }
            for _, record in records
        ]

    def fail_next(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 Too Many Requests."""
        self._failures[method.lower()].extend([retry_after] * times)

    def refuse_next(self, method: str, description: str, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 400 and ``description``, as
        Telegram does for media it will not take (e.g. "Bad Request: PHOTO_INVALID_DIMENSIONS")."""
        self._refusals[method.lower()].extend([description] * times)

    # ------------------------------------------------------------------ HTTP layer

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        if path.startswith("file/bot"):
            return self._serve_file(path.removeprefix("file/bot"))
        token, _, method = path.removeprefix("bot").partition("/")
        if not path.startswith("bot") or not method or "/" in method:
            return web.json_response(_ApiError(404, "Not Found").body(), status=404)
        received = time.monotonic()
        params: JSON = {}
        uploads: Uploads = {}
        try:
            params, uploads = await _read_request(request)
            if token != self.token:
                raise _ApiError(401, "Unauthorized")
            result = await self._dispatch(method, params, uploads)
            status, body = 200, {"ok": True, "result": result}
        except _ApiError as error:
            status, body = error.status, error.body()
        except Exception as error:  # a bug in the fake: show it, don't hang the bot
            _log.exception("FakeTelegram failed on %s", method)
            status = 500
            body = {"ok": False, "error_code": 500, "description": f"Internal: {error!r}"}
        self.calls.append(
            Call(
                method=method,
                params=params,
                files={name: upload.data for name, upload in uploads.items()},
                time=received,
                chat_id=self._call_chat_id(method, params),
                status=status,
            )
        )
        self._notify()
        return web.json_response(body, status=status)

    def _serve_file(self, rest: str) -> web.Response:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            return web.json_response(_ApiError(401, "Unauthorized").body(), status=401)
        stored = self._file_paths.get(file_path)
        if stored is None:
            return web.json_response(_ApiError(404, "Not Found").body(), status=404)
        self.downloads.append(file_path)
        return web.Response(body=stored.data, content_type=stored.mime_type)

    async def _dispatch(self, method: str, params: JSON, uploads: Uploads) -> Any:
        name = method.lower()
        handler = self._methods.get(name)
        if handler is None:
            raise _ApiError(404, "Not Found")
        self._check_flood(name, params)
        refusals = self._refusals.get(name)
        if refusals:
            raise _ApiError(400, refusals.popleft())
        result = handler(params, uploads)
        return await result if inspect.isawaitable(result) else result

    def _check_flood(self, name: str, params: JSON) -> None:
        failures = self._failures.get(name)
        if failures:
            raise self._too_many_requests(failures.popleft())
        if not (self.enforce_limits and name in _FLOOD_METHODS):
            return
        chat_id = _chat_id_value(params.get("chat_id"))
        if isinstance(chat_id, int):
            wait = self._flood_wait(chat_id)
            if wait is not None:
                raise self._too_many_requests(wait)

    def _flood_wait(self, chat_id: int) -> int | None:
        """Seconds to wait if this send breaks a limit (and it is not counted); else None.

        Approximates https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this:
        1 message per second per chat (bursts of 3 tolerated), 20 per minute in a group,
        30 per second overall. Every call counts once, albums included.
        """
        now = time.monotonic()
        tokens, stamp = self._chat_tokens.get(chat_id, (_CHAT_BURST, now))
        tokens = min(_CHAT_BURST, tokens + (now - stamp) * _CHAT_RATE)
        waits: list[float] = []
        if tokens < 1:
            waits.append((1 - tokens) / _CHAT_RATE)
        group = self._group_sends[chat_id] if chat_id < 0 else None
        if group is not None:
            _prune(group, now - 60)
            if len(group) >= _GROUP_PER_MINUTE:
                waits.append(group[0] + 60 - now)
        _prune(self._global_sends, now - 1)
        if len(self._global_sends) >= _GLOBAL_PER_SECOND:
            waits.append(self._global_sends[0] + 1 - now)
        if waits:
            return max(1, math.ceil(max(waits)))
        self._chat_tokens[chat_id] = (tokens - 1, now)
        if group is not None:
            group.append(now)
        self._global_sends.append(now)
        return None

    def _too_many_requests(self, retry_after: int) -> _ApiError:
        self.rate_limited += 1
        return _ApiError(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )

    def _call_chat_id(self, method: str, params: JSON) -> int | None:
        if method.lower() == "answercallbackquery":
            return self._callback_chats.get(str(params.get("callback_query_id")))
        chat_id = _chat_id_value(params.get("chat_id"))
        if isinstance(chat_id, str):
            chat = self._chat_by_username(chat_id)
            return chat["id"] if chat else None
        return chat_id

    # ------------------------------------------------------------------ updates

    def _notify(self) -> None:
        """Wake every waiter (long polls, wait_for_call); they re-check their condition."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_changed(self, timeout: float) -> None:
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

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
            part = _u16_slice(text, entity["offset"], entity["length"]).lower()
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
            raise _ApiError(409, "Conflict: can't use getUpdates method while webhook is "
                            "active; use deleteWebhook to delete the webhook first")
        offset = _opt_int(params, "offset")
        limit = min(max(_opt_int(params, "limit") or 100, 1), 100)
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

    # ------------------------------------------------------------------ simple methods

    def _true(self, _params: JSON, _uploads: Uploads) -> bool:
        return True

    def _get_me(self, _params: JSON, _uploads: Uploads) -> JSON:
        return {
            **self._bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _delete_webhook(self, params: JSON, _uploads: Uploads) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self._webhook = None
        self._notify()
        return True

    def _set_webhook(self, params: JSON, _uploads: Uploads) -> bool:
        url = params.get("url")
        if not isinstance(url, str) or not url:
            return self._delete_webhook(params, _uploads)
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"] or []) or None
        self._webhook = {"url": url, "secret_token": secret}
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.create_task(self._push_updates(), name="fake-webhook")
        self._notify()
        return True

    async def _push_updates(self) -> None:
        """Deliver pending updates to the webhook one by one, as Telegram does: in order,
        retrying an update until the bot answers 2xx."""
        async with ClientSession() as session:
            while not self._closing and self._webhook is not None:
                batch = [u for u in self._pending if self._is_allowed(u)]
                if not batch:
                    await self._wait_changed(1.0)
                    continue
                update, hook = batch[0], self._webhook
                headers = ({"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]}
                           if hook["secret_token"] else {})
                try:
                    async with session.post(hook["url"], json=update, headers=headers) as answer:
                        status = answer.status
                except ClientError:
                    status = 0
                self.webhook_pushes.append((update["update_id"], status))
                if 200 <= status < 300:
                    self._pending.remove(update)
                    self._notify()
                else:
                    await asyncio.sleep(0.5)

    def _get_webhook_info(self, _params: JSON, _uploads: Uploads) -> JSON:
        return {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    def _set_my_commands(self, params: JSON, _uploads: Uploads) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: commands is empty")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self._commands[_commands_key(params)] = commands
        return True

    def _get_my_commands(self, params: JSON, _uploads: Uploads) -> list[JSON]:
        return copy.deepcopy(self._commands.get(_commands_key(params), []))

    def _delete_my_commands(self, params: JSON, _uploads: Uploads) -> bool:
        self._commands.pop(_commands_key(params), None)
        return True

    def _get_file(self, params: JSON, _uploads: Uploads) -> JSON:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if stored.size > MAX_DOWNLOAD_SIZE:
            raise _ApiError(400, "Bad Request: file is too big")
        fields = _file_fields(stored)
        if stored.hide_size:
            fields.pop("file_size")
        return {**fields, "file_path": stored.file_path}

    def _send_chat_action(self, params: JSON, _uploads: Uploads) -> bool:
        self._sendable_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _answer_callback_query(self, params: JSON, _uploads: Uploads) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._callback_chats or query_id in self._answered_callbacks:
            raise _ApiError(400, _QUERY_INVALID)
        self._answered_callbacks.add(query_id)
        return True

    def _delete_message(self, params: JSON, _uploads: Uploads) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        key = (chat["id"], _int_param(params, "message_id"))
        message = self._messages.get(key)
        if message is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        from_bot = message.get("from", {}).get("id") == self.bot_id
        if not from_bot and chat["type"] != "private" and self.bot_id not in self._admins[key[0]]:
            raise _ApiError(400, "Bad Request: message can't be deleted")
        del self._messages[key]
        if key in self._bot_records:
            self._bot_records[key].deleted = True
        return True

    def _get_chat_member(self, params: JSON, _uploads: Uploads) -> JSON:
        chat = self._resolve_chat(params.get("chat_id"))
        user = self._users.get(_int_param(params, "user_id"))
        if user is None:
            raise _ApiError(400, "Bad Request: user not found")
        return self._chat_member(chat["id"], user)

    def _get_chat_administrators(self, params: JSON, _uploads: Uploads) -> list[JSON]:
        chat = self._resolve_chat(params.get("chat_id"))
        if chat["type"] == "private":
            raise _ApiError(400, "Bad Request: there are no administrators in the private chat")
        return [
            self._chat_member(chat["id"], self._users[user_id])
            for user_id in sorted(self._admins[chat["id"]])
        ]

    def _get_chat(self, params: JSON, _uploads: Uploads) -> JSON:
        chat = self._resolve_chat(params.get("chat_id"))
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys((*gifts, "gifts_from_channels"), False),
        }

    def _chat_member(self, chat_id: int, user: JSON) -> JSON:
        if user["id"] in self._admins[chat_id]:
            return {"status": "administrator", "user": dict(user), **_ADMIN_RIGHTS}
        status = "member" if user["id"] in self._members[chat_id] else "left"
        return {"status": status, "user": dict(user)}

    # ------------------------------------------------------------------ sending

    def _send_message(self, params: JSON, _uploads: Uploads) -> JSON:
        chat = self._sendable_chat(params)
        text, entities = _formatted(
            params, "text", "entities", MAX_TEXT_LENGTH, "Bad Request: message is too long"
        )
        if not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        content = _with_entities({"text": text}, "entities", entities)
        return self._post_bot_message(chat, params, content)

    def _send_photo(self, params: JSON, uploads: Uploads) -> JSON:
        chat = self._sendable_chat(params)
        caption = _caption_content(params)
        sizes, origin = self._photo_from(params.get("photo"), uploads, "photo")
        content = {"photo": sizes, **caption}
        return self._post_bot_message(chat, params, content, media=origin, media_kind="photo")

    def _send_document(self, params: JSON, uploads: Uploads) -> JSON:
        chat = self._sendable_chat(params)
        caption = _caption_content(params)
        document, origin = self._document_from(params.get("document"), uploads, "document")
        content = {"document": document, **caption}
        return self._post_bot_message(chat, params, content, media=origin, media_kind="document")

    def _send_media_group(self, params: JSON, uploads: Uploads) -> list[JSON]:
        chat = self._sendable_chat(params)
        items = params.get("media")
        if not isinstance(items, list) or not 2 <= len(items) <= 10:
            raise _ApiError(400, "Bad Request: wrong number of media in the media group")
        prepared = [self._media_content(item, uploads) for item in items]
        kinds = {kind for _, _, kind in prepared}
        if "document" in kinds and len(kinds) > 1:
            raise _ApiError(400, "Bad Request: document can't be mixed with other media types")
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
        inline = _inline_markup(markup)
        if inline:
            message["reply_markup"] = inline
        key = (chat_id, message["message_id"])
        self._messages[key] = message
        self._bot_records[key] = _BotRecord(_snapshot(message, markup, media, media_kind))
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
        original = self._messages.get((target, _as_int(message_id)))
        if original is None:
            if allow_missing:
                return None
            raise _ApiError(400, "Bad Request: message to be replied not found")
        return _without_reply(original)

    def _media_content(self, item: Any, uploads: Uploads) -> tuple[JSON, bytes, str]:
        """Content, original bytes and kind for one InputMedia (album item or edit)."""
        if not isinstance(item, dict):
            raise _ApiError(400, "Bad Request: can't parse InputMedia: object expected")
        caption = _caption_content(item)
        kind = item.get("type")
        if kind == "photo":
            sizes, origin = self._photo_from(item.get("media"), uploads, "media")
            return {"photo": sizes, **caption}, origin, kind
        if kind == "document":
            document, origin = self._document_from(item.get("media"), uploads, "media")
            return {"document": document, **caption}, origin, kind
        # The fake does not model video/audio/animation sends; the Stylebot never uses them.
        raise _ApiError(400, f"Bad Request: unsupported media type {kind!r} in FakeTelegram")

    def _photo_from(self, ref: Any, uploads: Uploads, name: str) -> tuple[list[JSON], bytes]:
        source = self._input_file(ref, uploads, name)
        if isinstance(source, _StoredFile):
            if source.kind != "photo":
                raise _ApiError(400, "Bad Request: type of file mismatch")
            return copy.deepcopy(source.meta), source.origin
        data = source.data
        if not data:
            raise _ApiError(400, "Bad Request: file must be non-empty")
        if len(data) > MAX_PHOTO_UPLOAD_SIZE:
            raise _ApiError(400, "Bad Request: PHOTO_SAVE_FILE_INVALID")
        rendered = _render_photo(data)
        if rendered is None:
            raise _ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        (width, height), sizes = rendered
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise _ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        return self._store_photo_sizes(sizes, origin=data), data

    def _document_from(self, ref: Any, uploads: Uploads, name: str) -> tuple[JSON, bytes]:
        source = self._input_file(ref, uploads, name)
        if isinstance(source, _StoredFile):
            if source.kind != "document":
                raise _ApiError(400, "Bad Request: type of file mismatch")
            return copy.deepcopy(source.meta), source.origin
        if not source.data:
            raise _ApiError(400, "Bad Request: file must be non-empty")
        mime_type = mimetypes.guess_type(source.filename)[0] or source.content_type
        return self._store_document(source.data, source.filename, mime_type), source.data

    def _input_file(self, ref: Any, uploads: Uploads, name: str) -> _Upload | _StoredFile:
        """Resolve a file parameter: a direct upload, ``attach://<part>``, or a file_id."""
        if ref is None:
            if name not in uploads:
                raise _ApiError(400, f"Bad Request: there is no {name} in the request")
            return uploads[name]
        if not isinstance(ref, str):
            raise _ApiError(400, _WRONG_FILE)
        if ref.startswith("attach://"):
            upload = uploads.get(ref.removeprefix("attach://"))
            if upload is None:
                raise _ApiError(400, _WRONG_FILE)
            return upload
        if ref.startswith(("http://", "https://")):
            # Nothing outside 127.0.0.1 is reachable, so URLs can only fail.
            raise _ApiError(400, "Bad Request: failed to get HTTP URL content")
        stored = self._files.get(ref)
        if stored is None:
            raise _ApiError(400, _WRONG_FILE)
        return stored

    def _sendable_chat(self, params: JSON) -> JSON:
        chat = self._resolve_chat(params.get("chat_id"))
        if chat["type"] == "private" and chat["id"] in self._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    # ------------------------------------------------------------------ editing

    def _editable(self, params: JSON) -> JSON:
        if params.get("inline_message_id"):
            # Inline-mode messages are not modelled; the Stylebot has no inline mode.
            raise _ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self._resolve_chat(params.get("chat_id"))
        message = self._messages.get((chat["id"], _int_param(params, "message_id")))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return message

    def _edit_message_text(self, params: JSON, _uploads: Uploads) -> JSON:
        message = self._editable(params)
        if "text" not in message:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = _formatted(
            params, "text", "entities", MAX_TEXT_LENGTH, "Bad Request: message is too long"
        )
        if not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        edited = _drop(message, "text", "entities")
        edited.update(_with_entities({"text": text}, "entities", entities))
        return self._commit_edit(message, edited, params.get("reply_markup"))

    def _edit_message_caption(self, params: JSON, _uploads: Uploads) -> JSON:
        message = self._editable(params)
        if not any(key in message for key in _MEDIA_KEYS):
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        edited = _drop(message, "caption", "caption_entities")
        edited.update(_caption_content(params))
        return self._commit_edit(message, edited, params.get("reply_markup"))

    def _edit_message_media(self, params: JSON, uploads: Uploads) -> JSON:
        message = self._editable(params)
        if not any(key in message for key in _MEDIA_KEYS):
            raise _ApiError(400, "Bad Request: there is no media in the message to edit")
        content, origin, kind = self._media_content(params.get("media"), uploads)
        edited = _drop(message, *_MEDIA_KEYS, "caption", "caption_entities")
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
        inline = _inline_markup(markup)
        if inline:
            new["reply_markup"] = inline
        if _content_key(new) == _content_key(old):
            raise _ApiError(400, _NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        key = (old["chat"]["id"], old["message_id"])
        record = self._bot_records[key]
        if media is None:
            media, media_kind = record.current["media"], record.current["media_kind"]
        record.history.append(record.current)
        record.current = _snapshot(new, markup, media, media_kind)
        record.edits += 1
        self._messages[key] = new
        return copy.deepcopy(new)

    # ------------------------------------------------------------------ storage helpers

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
            replied = _without_reply(original)
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

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] += 1
        return self._last_message_id[chat_id]

    def _store_file(
        self, kind: str, data: bytes, ext: str, mime_type: str, origin: bytes | None = None
    ) -> _StoredFile:
        number = next(self._file_seq)
        tail = base64.urlsafe_b64encode(f"{self.bot_id}:{kind}:{number}".encode()).decode()
        stored = _StoredFile(
            kind=kind,
            file_id=_FILE_ID_PREFIXES[kind] + tail.rstrip("="),
            file_unique_id=f"AQAD{number:06d}",
            file_path=f"{_FILE_DIRS[kind]}/file_{number}.{ext}",
            data=data,
            mime_type=mime_type,
            origin=data if origin is None else origin,
        )
        self._files[stored.file_id] = stored
        self._file_paths[stored.file_path] = stored
        return stored

    def _store_photo_sizes(
        self, sizes: list[tuple[int, int, bytes]], *, origin: bytes
    ) -> list[JSON]:
        """Store each rendition; the PhotoSize list is shared so any size's file_id can be
        re-sent as the whole photo, as on Telegram."""
        stored = [
            self._store_file("photo", data, "jpg", "image/jpeg", origin) for *_, data in sizes
        ]
        photo = [
            {**_file_fields(item), "width": width, "height": height}
            for item, (width, height, _) in zip(stored, sizes, strict=True)
        ]
        for item in stored:
            item.meta = photo
        return copy.deepcopy(photo)

    def _store_document(
        self, data: bytes, file_name: str, mime_type: str, *, file_size: int | None = None
    ) -> JSON:
        ext = file_name.rpartition(".")[2] if "." in file_name else "bin"
        stored = self._store_file("document", data, ext, mime_type)
        stored.size_override = file_size
        document: JSON = {"file_name": file_name, "mime_type": mime_type, **_file_fields(stored)}
        rendered = _render_photo(data, sides=(), max_side=_DOCUMENT_THUMB_SIDE)
        if rendered:
            width, height, jpeg = rendered[1][0]
            thumb = self._store_file("thumbnail", jpeg, "jpg", "image/jpeg")
            document["thumbnail"] = {**_file_fields(thumb), "width": width, "height": height}
        stored.meta = document
        return copy.deepcopy(document)

    def _resolve_chat(self, value: Any) -> JSON:
        """The chat a ``chat_id`` parameter (id or ``@username``) names, as Telegram checks."""
        if value is None or value == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        chat_id = _chat_id_value(value)
        chat = (
            self._chat_by_username(chat_id)
            if isinstance(chat_id, str)
            else self._chats.get(chat_id)
        )
        if chat is None:
            raise _ApiError(400, "Bad Request: chat not found")
        return chat

    def _chat_by_username(self, name: str) -> JSON | None:
        wanted = name.removeprefix("@").lower()
        return next(
            (chat for chat in self._chats.values() if chat.get("username", "").lower() == wanted),
            None,
        )

    def _chat_of(self, chat: ChatRef) -> JSON:
        chat_id = chat if isinstance(chat, int) else chat["id"]
        if chat_id not in self._chats:
            raise ValueError(f"unknown chat {chat_id}: create it with private_chat/group_chat")
        return self._chats[chat_id]

    def _user_of(self, user: JSON) -> JSON:
        return self._users.setdefault(user["id"], dict(user))

    def _describe_calls(self, since: int) -> str:
        lines = [
            f"  #{index} {call.method} chat_id={call.chat_id} status={call.status} "
            f"params={_shorten(call.params)} files={sorted(call.files)}"
            for index, call in enumerate(self.calls)
            if index >= since and call.method.lower() != "getupdates"
        ]
        return "\n".join(lines[-15:]) or "  (none besides getUpdates)"


# ---------------------------------------------------------------------- request decoding


async def _read_request(request: web.Request) -> tuple[JSON, Uploads]:
    """Parameters and uploaded files of a Bot API request in any encoding Telegram accepts."""
    if request.content_length and request.content_length > MAX_UPLOAD_SIZE:
        raise _ApiError(413, "Request Entity Too Large")
    params: JSON = {key: _decode_param(key, value) for key, value in request.query.items()}
    uploads: Uploads = {}
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as error:
            raise _ApiError(400, "Bad Request: can't parse JSON object") from error
        if not isinstance(body, dict):
            raise _ApiError(400, "Bad Request: can't parse JSON object")
        params.update(body)
    elif request.content_type == "multipart/form-data":
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            data = bytes(await part.read())
            if part.filename is None:
                params[part.name] = _decode_param(part.name, data.decode())
            else:
                content_type = part.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream")
                uploads[part.name] = _Upload(data, part.filename, content_type)
    elif request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                params[key] = _decode_param(key, value)
    return params, uploads


def _decode_param(key: str, raw: str) -> Any:
    """PTB sends non-string values JSON-encoded inside form fields; decode those."""
    if key in _STRING_PARAMS:
        return raw
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except ValueError:
        return raw
    return value if isinstance(value, dict | list | bool | int | float) else raw


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a Bot API value")


def _chat_id_value(value: Any) -> int | str | None:
    if isinstance(value, str) and _INT_RE.fullmatch(value):
        return int(value)
    if isinstance(value, int | str):
        return value
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT_RE.fullmatch(value):
        return int(value)
    return None


def _opt_int(params: JSON, name: str) -> int | None:
    return _as_int(params.get(name))


def _int_param(params: JSON, name: str) -> int:
    value = _as_int(params.get(name))
    if value is None:
        raise _ApiError(400, f"Bad Request: {name} is empty")
    return value


def _prune(window: deque[float], horizon: float) -> None:
    while window and window[0] <= horizon:
        window.popleft()


def _method_names(method: MethodRef) -> set[str]:
    return {name.lower() for name in ((method,) if isinstance(method, str) else method)}


def _commands_key(params: JSON) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def _shorten(params: JSON, limit: int = 160) -> str:
    text = json.dumps(params, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------- message helpers


def _file_fields(stored: _StoredFile) -> JSON:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
    }


def _with_entities(content: JSON, key: str, entities: list[JSON]) -> JSON:
    if entities:
        content[key] = entities
    return content


def _user_caption(caption: str | None) -> JSON:
    if not caption:
        return {}
    return _with_entities({"caption": caption}, "caption_entities", _auto_entities(caption))


def _caption_content(params: JSON) -> JSON:
    caption, entities = _formatted(
        params,
        "caption",
        "caption_entities",
        MAX_CAPTION_LENGTH,
        "Bad Request: message caption is too long",
    )
    if not caption:
        return {}
    return _with_entities({"caption": caption}, "caption_entities", entities)


def _without_reply(message: JSON) -> JSON:
    """A replied-to message as Telegram embeds it: without its own reply_to_message."""
    return copy.deepcopy(_drop(message, "reply_to_message"))


def _drop(message: JSON, *keys: str) -> JSON:
    return {key: value for key, value in message.items() if key not in keys}


def _inline_markup(markup: Any) -> JSON | None:
    """Only inline keyboards are part of a Message; reply keyboards live in the client."""
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        return markup
    return None


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


def _snapshot(message: JSON, markup: Any, media: bytes | None, media_kind: str | None) -> JSON:
    return {
        "message_id": message["message_id"],
        "text": message.get("text"),
        "caption": message.get("caption"),
        "entities": copy.deepcopy(message.get("entities") or message.get("caption_entities") or []),
        "media": media,
        "media_kind": media_kind,
        "file_name": message.get("document", {}).get("file_name"),
        "reply_markup": copy.deepcopy(markup),
        "reply_to_message_id": message.get("reply_to_message", {}).get("message_id"),
        "media_group_id": message.get("media_group_id"),
        "message_thread_id": message.get("message_thread_id"),
    }


# ---------------------------------------------------------------------- images


def _render_photo(
    data: bytes,
    *,
    sides: tuple[int, ...] = _PHOTO_THUMB_SIDES,
    max_side: int = _PHOTO_MAX_SIDE,
) -> tuple[tuple[int, int], list[tuple[int, int, bytes]]] | None:
    """Original size and JPEG renditions (width, height, bytes), smallest first, the way
    Telegram stores photos: thumbnails below the original's long side plus the photo itself
    capped at ``max_side``. None if Pillow cannot decode ``data``."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            rgb = image.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    long_side = max(rgb.size)
    renditions = []
    for side in [*(s for s in sides if s < long_side), min(long_side, max_side)]:
        scale = side / long_side
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        resized = rgb if size == rgb.size else rgb.resize(size, Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        resized.save(buffer, "JPEG", quality=87)
        renditions.append((size[0], size[1], buffer.getvalue()))
    return rgb.size, renditions


def _image_file_name(data: bytes, index: int) -> tuple[str, str]:
    """A plausible file name and MIME type for an album item sent as a file."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format or ""
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return f"file_{index + 1}.bin", "application/octet-stream"
    ext = {"JPEG": "jpg"}.get(image_format, image_format.lower())
    return f"IMG_{index + 1:04d}.{ext}", Image.MIME.get(image_format, "application/octet-stream")


# ---------------------------------------------------------------------- text and entities


def _u16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _u16_slice(text: str, offset: int, length: int) -> str:
    return text.encode("utf-16-le")[2 * offset : 2 * (offset + length)].decode("utf-16-le")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


def _auto_entities(text: str) -> list[JSON]:
    """Entities Telegram detects by itself: /commands, @mentions and URLs."""
    return [
        {
            "type": match.lastgroup,
            "offset": _u16_len(text[: match.start()]),
            "length": _u16_len(match.group()),
        }
        for match in _AUTO_ENTITY_RE.finditer(text)
    ]


def _merge_entities(explicit: list[JSON], detected: list[JSON]) -> list[JSON]:
    def overlaps(a: JSON, b: JSON) -> bool:
        return a["offset"] < b["offset"] + b["length"] and b["offset"] < a["offset"] + a["length"]

    extra = [d for d in detected if not any(overlaps(d, e) for e in explicit)]
    return sorted([*explicit, *extra], key=lambda e: (e["offset"], -e["length"]))


def _strip_text(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Telegram trims surrounding whitespace and shifts entities accordingly."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = _u16_len(text[: len(text) - len(text.lstrip())])
    end = lead + _u16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"], lead)
        stop = min(entity["offset"] + entity["length"], end)
        if stop > start:
            kept.append({**entity, "offset": start - lead, "length": stop - start})
    return stripped, kept


def _formatted(
    params: JSON, key: str, entities_key: str, limit: int, too_long: str
) -> tuple[str, list[JSON]]:
    """Text (or caption) after parse_mode or explicit entities, as Telegram would store it."""
    raw = params.get(key)
    text = "" if raw is None else str(raw)
    if isinstance(params.get(entities_key), list):
        entities: list[JSON] = list(params[entities_key])
    else:
        mode = str(params.get("parse_mode") or "").lower()
        if mode == "html":
            text, entities = _parse_html(text)
        elif mode in ("markdown", "markdownv2"):
            text, entities = _parse_markdown(text, v2=mode == "markdownv2")
        elif mode:
            raise _ApiError(400, "Bad Request: unsupported parse_mode")
        else:
            entities = []
    text, entities = _strip_text(text, entities)
    if _u16_len(text) > limit:
        raise _ApiError(400, too_long)
    return text, _merge_entities(entities, _auto_entities(text))


def _parse_error(message: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: can't parse entities: {message}")


class _TextBuilder:
    """Parsed text plus its length in UTF-16 code units (the unit of entity offsets)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += _u16_len(text)

    def text(self) -> str:
        return "".join(self.parts)


_HTML_TAG_RE = re.compile(r"<(/?)([^\s>/]*)([^>]*)>")
_HTML_ATTR_RE = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_HTML_CHAR_RE = re.compile(r"&(?:#(\d+)|#x([0-9a-fA-F]+)|(lt|gt|amp|quot));")
_HTML_ESCAPES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}


def _parse_html(source: str) -> tuple[str, list[JSON]]:
    """parse_mode=HTML with Telegram's tag set and error messages."""
    out = _TextBuilder()
    entities: list[JSON] = []
    stack: list[tuple[str, int, JSON | None]] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char == "&" and (match := _HTML_CHAR_RE.match(source, index)):
            decimal, hexadecimal, name = match.groups()
            if name:
                out.add(_HTML_ESCAPES[name])
            else:
                out.add(chr(int(decimal) if decimal else int(hexadecimal, 16)))
            index = match.end()
            continue
        if char != "<":
            out.add(char)
            index += 1
            continue
        offset = _byte_offset(source, index)
        tag = _HTML_TAG_RE.match(source, index)
        if tag is None:
            raise _parse_error(f"Unclosed start tag at byte offset {offset}")
        closing, name, rest = tag.group(1) == "/", tag.group(2).lower(), tag.group(3)
        index = tag.end()
        if closing:
            if not stack:
                raise _parse_error(f"Unexpected end tag at byte offset {offset}")
            opened, start, entity = stack.pop()
            if name != opened:
                raise _parse_error(
                    f'Unmatched end tag at byte offset {offset}, expected "</{opened}>", '
                    f'found "</{name}>"'
                )
            if entity is not None and out.size > start:
                entities.append({**entity, "offset": start, "length": out.size - start})
            continue
        attrs = {
            m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
            for m in _HTML_ATTR_RE.finditer(rest)
        }
        kind = _HTML_TAGS.get(name)
        if kind is None or (name == "span" and attrs.get("class") != "tg-spoiler"):
            raise _parse_error(f'Unsupported start tag "{name}" at byte offset {offset}')
        entity: JSON | None = {"type": kind}
        if name == "a":
            entity = {"type": kind, "url": attrs["href"]} if "href" in attrs else None
        elif name == "tg-emoji":
            entity = {"type": kind, "custom_emoji_id": attrs.get("emoji-id", "")}
        elif name == "blockquote" and re.search(r"\bexpandable\b", rest):
            entity = {"type": "expandable_blockquote"}
        elif name == "code" and stack and stack[-1][0] == "pre" and stack[-1][2] is not None:
            language = attrs.get("class", "")
            if language.startswith("language-"):
                stack[-1][2]["language"] = language.removeprefix("language-")
                entity = None
        stack.append((name, out.size, entity))
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.text(), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


_MD_V2_MARKERS = {
    "__": "underline",
    "||": "spoiler",
    "*": "bold",
    "_": "italic",
    "~": "strikethrough",
}
_MD_V1_MARKERS = {"*": "bold", "_": "italic"}
_MD_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD_ENTITY_NAMES = {
    "[": "TextUrl",
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
}
_MD_ESCAPE_RE = re.compile(r"\\([\x01-\x7e])")


def _parse_markdown(source: str, *, v2: bool) -> tuple[str, list[JSON]]:
    """parse_mode=MarkdownV2 (strict escaping) or legacy Markdown, per the Bot API docs.

    MarkdownV2 line-start ``>`` quotes become blockquote entities; expandable quotes and
    custom emoji are not modelled.
    """
    markers = _MD_V2_MARKERS if v2 else _MD_V1_MARKERS
    out = _TextBuilder()
    entities: list[JSON] = []
    stack: list[tuple[str, int, int]] = []  # (marker, text offset, source index)
    quote_start: int | None = None

    def unclosed(marker: str, source_index: int) -> _ApiError:
        offset = _byte_offset(source, source_index)
        if v2:
            kind = _MD_ENTITY_NAMES[markers.get(marker, marker)]
            return _parse_error(f"Can't find end of {kind} entity at byte offset {offset}")
        return _parse_error(f"Can't find end of the entity starting at byte offset {offset}")

    def close_quote() -> None:
        if quote_start is None or out.size <= quote_start:
            return
        last = entities[-1] if entities else None
        if (
            last
            and last["type"] == "blockquote"
            and last["offset"] + last["length"] + 1 == (quote_start)
        ):
            last["length"] = out.size - last["offset"]
        else:
            entities.append(
                {"type": "blockquote", "offset": quote_start, "length": out.size - quote_start}
            )

    index = 0
    while index < len(source):
        char = source[index]
        if v2 and char == ">" and (index == 0 or source[index - 1] == "\n"):
            quote_start = out.size
            index += 1
            continue
        if char == "\\" and index + 1 < len(source):
            escaped = source[index + 1]
            if (v2 and ord(escaped) <= 126) or (not v2 and escaped in "_*`["):
                out.add(escaped)
                index += 2
                continue
        if char == "\n" and quote_start is not None:
            close_quote()
            quote_start = None
        if char == "`":
            fence = "```" if source.startswith("```", index) else "`"
            end = _md_find(source, fence, index + len(fence), v2)
            if end < 0:
                raise unclosed("pre" if fence == "```" else "code", index)
            body = source[index + len(fence) : end]
            if v2:
                body = _MD_ESCAPE_RE.sub(r"\1", body)
            entity: JSON = {"type": "code"}
            if fence == "```":
                entity = {"type": "pre"}
                first, newline, rest = body.partition("\n")
                if newline and not re.search(r"\s", first):
                    body = rest
                    if first:
                        entity["language"] = first
            start = out.size
            out.add(body)
            if out.size > start:
                entities.append({**entity, "offset": start, "length": out.size - start})
            index = end + len(fence)
            continue
        if char == "[":
            stack.append(("[", out.size, index))
            index += 1
            continue
        if char == "]" and stack and stack[-1][0] == "[":
            if not source.startswith("(", index + 1):
                if v2:
                    raise _parse_error(
                        "Character ']' is reserved and must be escaped with the preceding '\\'"
                    )
                out.add(char)
                index += 1
                continue
            end = _md_find(source, ")", index + 2, v2)
            if end < 0:
                raise unclosed("[", stack[-1][2])
            url = source[index + 2 : end]
            _, start, _ = stack.pop()
            if out.size > start:
                entities.append(
                    {
                        "type": "text_link",
                        "offset": start,
                        "length": out.size - start,
                        "url": _MD_ESCAPE_RE.sub(r"\1", url) if v2 else url,
                    }
                )
            index = end + 1
            continue
        marker = next((m for m in markers if source.startswith(m, index)), None)
        if marker is not None:
            if stack and stack[-1][0] == marker:
                _, start, _ = stack.pop()
                if out.size > start:
                    entities.append(
                        {"type": markers[marker], "offset": start, "length": out.size - start}
                    )
            elif any(opened == marker for opened, _, _ in stack):
                raise unclosed(stack[-1][0], stack[-1][2])
            else:
                stack.append((marker, out.size, index))
            index += len(marker)
            continue
        if v2 and char in _MD_V2_RESERVED:
            raise _parse_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        out.add(char)
        index += 1
    close_quote()
    if stack:
        opened, _, source_index = stack[-1]
        raise unclosed(opened, source_index)
    return out.text(), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _md_find(source: str, token: str, start: int, v2: bool) -> int:
    """Index of the next unescaped ``token`` at or after ``start``; -1 if there is none."""
    index = start
    while index < len(source):
        if v2 and source[index] == "\\":
            index += 2
            continue
        if source.startswith(token, index):
            return index
        index += 1
    return -1
