"""Per-user and per-chat state that never grows without bound.

Every distinct user who ever wrote to the bot used to leave a lock, a rate-limit window
and throttlers behind, forever. Here a lock exists only while someone holds or awaits
it, and other state is forgotten once idle for longer than it can matter, or when too
many keys are held (least recently used first).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class KeyedLocks(Generic[K]):
    """``async with locks(key):`` — one asyncio lock per key, dropped when unused."""

    def __init__(self) -> None:
        self._locks: dict[K, tuple[asyncio.Lock, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def __call__(self, key: K) -> AsyncIterator[None]:
        lock, users = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)


class ExpiringMap(Generic[K, V]):
    """A dict whose entries are forgotten after ``max_idle`` seconds without use, and
    least recently used first beyond ``max_keys``.

    ``get`` creates missing entries with ``factory``; an entry is only forgotten when
    forgetting it loses nothing that still matters (its idle time is longer than any
    window it tracks), so choose ``max_idle`` accordingly.
    """

    def __init__(self, factory: Callable[[], V], *, max_idle: float,
                 max_keys: int = 100_000) -> None:
        self.factory = factory
        self.max_idle = max_idle
        self.max_keys = max_keys
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K, factory: Callable[[], V] | None = None) -> V:
        """The entry for ``key``, made by ``factory`` (default: the map's) if missing."""
        now = time.monotonic()
        self._prune(now)
        found = self._entries.pop(key, None)
        value = (factory or self.factory)() if found is None else found[1]
        self._entries[key] = (now, value)
        return value

    def put(self, key: K, value: V) -> None:
        self._entries.pop(key, None)
        self._prune(time.monotonic())
        self._entries[key] = (time.monotonic(), value)

    def discard(self, key: K) -> None:
        self._entries.pop(key, None)

    def peek(self, key: K) -> V | None:
        found = self._entries.get(key)
        return None if found is None else found[1]

    def _prune(self, now: float) -> None:
        while self._entries:
            key, (touched, _) = next(iter(self._entries.items()))
            if now - touched <= self.max_idle and len(self._entries) < self.max_keys:
                return
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
