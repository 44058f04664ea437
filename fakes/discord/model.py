"""What the fake Discord speaks in: API constants, its error shape, the calls and interactions
tests observe, and messages as the API shows them."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]

API_VERSION = 10
API_PREFIX = f"/api/v{API_VERSION}"
DISCORD_EPOCH_MS = 1_420_070_400_000

# Gateway intents (https://discord.com/developers/docs/events/gateway#gateway-intents).
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15

# Message flags.
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15

# Permissions.
PERM_ADMINISTRATOR = 1 << 3
PERM_MANAGE_GUILD = 1 << 5
EVERYONE_PERMISSIONS = (
    (1 << 0)  # create instant invite
    | (1 << 6)  # add reactions
    | (1 << 10)  # view channel
    | (1 << 11)  # send messages
    | (1 << 14)  # embed links
    | (1 << 15)  # attach files
    | (1 << 16)  # read message history
    | (1 << 18)  # use external emojis
    | (1 << 20)  # connect
    | (1 << 21)  # speak
    | (1 << 26)  # change nickname
    | (1 << 31)  # use application commands
    | (1 << 35)  # create public threads
    | (1 << 38)  # send messages in threads
)

MIB = 1024 * 1024
# Per-file upload limit by boost tier; mirrors discord.py's Guild._PREMIUM_GUILD_LIMITS.
FILESIZE_LIMITS = {0: 10 * MIB, 1: 10 * MIB, 2: 50 * MIB, 3: 100 * MIB}

# Interaction callback types.
CALLBACK_CHANNEL_MESSAGE = 4
CALLBACK_DEFERRED_CHANNEL_MESSAGE = 5
CALLBACK_DEFERRED_UPDATE_MESSAGE = 6
CALLBACK_UPDATE_MESSAGE = 7
CALLBACK_AUTOCOMPLETE_RESULT = 8
INTERACTION_APPLICATION_COMMAND = 2
INTERACTION_COMPONENT = 3
INTERACTION_AUTOCOMPLETE = 4
#: an autocomplete answer holds at most this many choices, each named in 1-100 characters
MAX_CHOICES = 25


class ApiError(Exception):
    """A Discord JSON error body ({"message", "code"}) with its HTTP status."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message


def unknown(what: str, code: int) -> ApiError:
    return ApiError(404, code, f"Unknown {what}")


def invalid_form() -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body")


@dataclass
class Call:
    """One REST request the bot made."""

    method: str
    path: str  # after the API base, without the query string
    json: Any  # JSON body, or the decoded ``payload_json`` part of a multipart body
    files: dict[str, tuple[str, bytes]]  # multipart field name -> (filename, bytes)
    time: float  # time.monotonic() when the request arrived
    status: int
    query: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        body = json.dumps(self.json)[:160] if self.json is not None else ""
        files = f" files={list(self.files)}" if self.files else ""
        return f"{self.method} {self.path} -> {self.status} {body}{files}"


class Interaction:
    """An interaction the fake sent to the bot, and everything the bot answered through it."""

    def __init__(self, payload: JSON, *, target_id: str | None = None) -> None:
        self.id: str = payload["id"]
        self.token: str = payload["token"]
        self.payload: JSON = payload
        self.responses: list[JSON] = []  # interaction callback bodies, in order
        self.original: JSON | None = None  # message record behind @original
        self.followups: list[JSON] = []
        self.expired = False
        self.created = time.monotonic()
        self.target_id = target_id  # the clicked message, for component interactions
        self._responded = asyncio.Event()

    def record_response(self, body: JSON, message: JSON | None) -> None:
        """Called by the fake when the bot acknowledges; ``message`` becomes @original."""
        self.responses.append(body)
        self.original = message
        self._responded.set()

    async def wait_response(self, timeout: float = 5.0) -> JSON:
        """The first callback body, waiting for the bot to acknowledge the interaction."""
        try:
            await asyncio.wait_for(self._responded.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"interaction {self.id} got no response in {timeout}s") from None
        return self.responses[0]


def _iso(ms_since_unix: int) -> str:
    return datetime.fromtimestamp(ms_since_unix / 1000, UTC).isoformat()


def snowflake_time(snowflake: str) -> str:
    return _iso((int(snowflake) >> 22) + DISCORD_EPOCH_MS)


def now() -> str:
    return datetime.now(UTC).isoformat()


def public_attachment(attachment: JSON) -> JSON:
    """An attachment as the API shows it (without the stored bytes)."""
    return {k: v for k, v in attachment.items() if k != "data"}


def public_message(record: JSON) -> JSON:
    """A message record as the API returns it: no bytes, no edit bookkeeping, deep-copied."""
    out = {
        k: copy.deepcopy(v)
        for k, v in record.items()
        if k not in ("edits", "history", "deleted", "attachments")
    }
    out["attachments"] = [public_attachment(a) for a in record["attachments"]]
    return out
