"""What the fake Telegram speaks in: Bot API value types, limits, errors and message records."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
ChatRef = JSON | int
"""A chat dict as returned by ``private_chat``/``group_chat``, or just its id."""
MethodRef = str | tuple[str, ...]
Uploads = dict[str, "Upload"]
Handler = Callable[[JSON, Uploads], Any]

MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
"""getFile refuses bigger files ("file is too big")."""
MAX_UPLOAD_SIZE = 50 * 1024 * 1024
MAX_PHOTO_UPLOAD_SIZE = 10 * 1024 * 1024
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

_INT_RE = re.compile(r"-?\d+")


class ApiError(Exception):
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
class Upload:
    data: bytes
    filename: str
    content_type: str


@dataclass
class StoredFile:
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
class BotRecord:
    """Current state and edit history of one message the bot sent."""

    current: JSON
    history: list[JSON] = field(default_factory=list)
    edits: int = 0
    deleted: bool = False


# ---------------------------------------------------------------------- parameter values


def chat_id_value(value: Any) -> int | str | None:
    if isinstance(value, str) and _INT_RE.fullmatch(value):
        return int(value)
    if isinstance(value, int | str):
        return value
    return None


def as_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT_RE.fullmatch(value):
        return int(value)
    return None


def opt_int(params: JSON, name: str) -> int | None:
    return as_int(params.get(name))


def int_param(params: JSON, name: str) -> int:
    value = as_int(params.get(name))
    if value is None:
        raise ApiError(400, f"Bad Request: {name} is empty")
    return value


# ---------------------------------------------------------------------- message helpers


def with_entities(content: JSON, key: str, entities: list[JSON]) -> JSON:
    if entities:
        content[key] = entities
    return content


def without_reply(message: JSON) -> JSON:
    """A replied-to message as Telegram embeds it: without its own reply_to_message."""
    return copy.deepcopy(drop(message, "reply_to_message"))


def drop(message: JSON, *keys: str) -> JSON:
    return {key: value for key, value in message.items() if key not in keys}


#: what an inline keyboard button does; each button does exactly one of these
BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)


def inline_markup(markup: Any) -> JSON | None:
    """Only inline keyboards are part of a Message; reply keyboards live in the client.
    Their buttons are checked as Telegram checks them."""
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        for row in markup["inline_keyboard"]:
            for button in row:
                check_button(button)
        return markup
    return None


def check_button(button: Any) -> None:
    """A text and exactly one action; callback_data of 1 to 64 bytes."""
    if not isinstance(button, dict) or not str(button.get("text") or "").strip() or \
            sum(action in button for action in BUTTON_ACTIONS) != 1:
        raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
    data = button.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode()) <= 64:
        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


def snapshot(message: JSON, markup: Any, media: bytes | None, media_kind: str | None) -> JSON:
    """A bot message as ``bot_messages`` shows it (one ``BotRecord`` state)."""
    return {
        "message_id": message["message_id"],
        "text": message.get("text"),
        "caption": message.get("caption"),
        "entities": copy.deepcopy(message.get("entities") or message.get("caption_entities") or []),
        "media": media,
        "media_kind": media_kind,
        "file_id": (message.get("photo") or [message.get("document", {})])[-1].get("file_id"),
        "file_name": message.get("document", {}).get("file_name"),
        "reply_markup": copy.deepcopy(markup),
        "reply_to_message_id": message.get("reply_to_message", {}).get("message_id"),
        "media_group_id": message.get("media_group_id"),
        "message_thread_id": message.get("message_thread_id"),
    }
