"""Telegram's flood control, approximated, and the failures tests inject on purpose.

Why: the bot must survive 429 Too Many Requests (and refusals such as PHOTO_INVALID_DIMENSIONS)
gracefully; with ``enforce_limits=True`` the fake answers 429 where Telegram would.
"""

from __future__ import annotations

import math
import time
from collections import deque

from fakes.telegram.model import JSON, ApiError, chat_id_value
from fakes.telegram.state import TelegramState

_CHAT_RATE = 1.0
_CHAT_BURST = 3.0
_GROUP_PER_MINUTE = 20
_GLOBAL_PER_SECOND = 30

# Calls that Telegram's flood control counts (enforce_limits=True).
_FLOOD_METHODS = frozenset({
    "sendmessage", "sendphoto", "senddocument", "sendmediagroup", "editmessagetext",
    "editmessagecaption", "editmessagemedia", "editmessagereplymarkup",
})


class LimitsMixin(TelegramState):
    """Flood limits per chat, per group and overall, plus ``fail_next``/``refuse_next``."""

    def fail_next(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 Too Many Requests."""
        self._failures[method.lower()].extend([retry_after] * times)

    def refuse_next(self, method: str, description: str, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 400 and ``description``, as
        Telegram does for media it will not take (e.g. "Bad Request: PHOTO_INVALID_DIMENSIONS")."""
        self._refusals[method.lower()].extend([description] * times)

    def _check_flood(self, name: str, params: JSON) -> None:
        failures = self._failures.get(name)
        if failures:
            raise self._too_many_requests(failures.popleft())
        if not (self.enforce_limits and name in _FLOOD_METHODS):
            return
        chat_id = chat_id_value(params.get("chat_id"))
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

    def _too_many_requests(self, retry_after: int) -> ApiError:
        self.rate_limited += 1
        return ApiError(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )


def _prune(window: deque[float], horizon: float) -> None:
    while window and window[0] <= horizon:
        window.popleft()
