"""Sliding-window limits per user: submissions per minute, and how often to explain errors."""

from __future__ import annotations

import time
from collections import defaultdict, deque


class SlidingWindow:
    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._events: defaultdict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str) -> bool:
        """Record an event for ``key`` if it fits the limit; False if it does not."""
        now = time.monotonic()
        events = self._events[key]
        while events and now - events[0] > self.window:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        return True

    def retry_in(self, key: str) -> float:
        events = self._events.get(key)
        if not events or len(events) < self.limit:
            return 0.0
        return max(0.0, self.window - (time.monotonic() - events[0]))
