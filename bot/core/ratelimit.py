"""Sliding-window limits per user: submissions per minute, and how often to explain errors."""

from __future__ import annotations

import time
from collections import deque

from .keyed import ExpiringMap


class SlidingWindow:
    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        # A key idle for a whole window has no events left that count: forget it.
        self._events: ExpiringMap[str, deque[float]] = ExpiringMap(deque, max_idle=window)

    def allow(self, key: str) -> bool:
        """Record an event for ``key`` if it fits the limit; False if it does not."""
        now = time.monotonic()
        events = self._events.get(key)
        while events and now - events[0] > self.window:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        return True
