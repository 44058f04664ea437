"""The fake Telegram's world: users, chats, messages, files, pending updates, recorded calls.

Every concern of :class:`~fakes.telegram.FakeTelegram` (one mixin each) works on this one
state; the chat and user lookups here are shared by the users' side and the bot's side.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import defaultdict, deque
from typing import Any

from aiohttp import web

from fakes.telegram.model import (
    JSON,
    ApiError,
    BotRecord,
    Call,
    ChatRef,
    StoredFile,
    chat_id_value,
)


class TelegramState:
    """State shared by the mixins; the public constructor is ``FakeTelegram``'s."""

    def __init__(
        self, *, token: str, bot_id: int, username: str, privacy_mode: bool, enforce_limits: bool,
        inline_mode: bool
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.username = username
        self.privacy_mode = privacy_mode
        self.enforce_limits = enforce_limits
        self.inline_mode = inline_mode

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
        self._bot_records: dict[tuple[int, int], BotRecord] = {}
        self._last_message_id: defaultdict[int, int] = defaultdict(int)
        self._files: dict[str, StoredFile] = {}
        self._file_paths: dict[str, StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._media_group_seq = itertools.count(13_000_000_000_000_001)
        self._callback_seq = itertools.count(4_000_000_000_000_000_001)
        self._callback_chats: dict[str, int] = {}
        self._answered_callbacks: set[str] = set()
        self._inline_query_seq = itertools.count(5_000_000_000_000_000_001)
        self._inline_queries: dict[str, int] = {}  # query id -> the asking user's id
        self.inline_answers: dict[str, JSON] = {}
        """answerInlineQuery parameters the fake accepted, by query id."""
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self.descriptions: dict[str, str] = {}
        """The bot's description per language code ("" for the default)."""
        self.short_descriptions: dict[str, str] = {}

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

    def _notify(self) -> None:
        """Wake every waiter (long polls, wait_for_call); they re-check their condition."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_changed(self, timeout: float) -> None:
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] += 1
        return self._last_message_id[chat_id]

    def _resolve_chat(self, value: Any) -> JSON:
        """The chat a ``chat_id`` parameter (id or ``@username``) names, as Telegram checks."""
        if value is None or value == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = chat_id_value(value)
        chat = (
            self._chat_by_username(chat_id)
            if isinstance(chat_id, str)
            else self._chats.get(chat_id)
        )
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
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
