"""Images waiting for their partner, per (platform, chat, user), so group users never mix.

A pair fills content first, then style, unless the user says which one an image is.
"First" means first *sent*: uploads are decoded concurrently and may finish out of
order, so images carry their message's position and are ordered by it.
Pairs expire after ``ttl`` seconds of silence; the store is bounded by count and by
bytes (pictures are kept compressed, about half a megabyte each), oldest first out, so a
flood of half-pairs cannot grow memory without limit.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

from .pictures import Picture

Role = Literal["content", "style"]


#: the most bytes of pictures held for their partners: ~500 half-pairs of 1536 px photos
MAX_PENDING_BYTES = 256 * 1024 * 1024


@dataclass
class Slot:
    picture: Picture
    order: int  # the message's position in the chat (Telegram message_id, Discord snowflake)
    explicit: bool  # the user named its role


@dataclass
class PendingPair:
    slots: dict[Role, Slot] = field(default_factory=dict)
    touched: float = field(default_factory=time.monotonic)

    @property
    def content(self) -> Picture | None:
        return self.slots["content"].picture if "content" in self.slots else None

    @property
    def style(self) -> Picture | None:
        return self.slots["style"].picture if "style" in self.slots else None

    @property
    def size(self) -> int:
        return sum(len(slot.picture.data) for slot in self.slots.values())

    @property
    def reply_to(self) -> int | None:
        """Where the job's status goes: the latest image's message."""
        return max((slot.order for slot in self.slots.values()), default=None)

    def put(self, slot: Slot, role: Role | None) -> None:
        if role is not None:
            self.slots[role] = slot
            return
        other = self.slots.get("content")
        if other is not None and not other.explicit and "style" not in self.slots \
                and other.order > slot.order:
            self.slots["style"], self.slots["content"] = other, slot  # sent earlier: the photo
            return
        self.slots[self.missing or "style"] = slot

    @property
    def complete(self) -> bool:
        return self.content is not None and self.style is not None

    @property
    def missing(self) -> Role | None:
        if self.content is None:
            return "content"
        return "style" if self.style is None else None


class PendingPairs:
    def __init__(self, ttl: float, max_pairs: int = 1000,
                 max_bytes: int = MAX_PENDING_BYTES) -> None:
        self.ttl = ttl
        self.max_pairs = max_pairs
        self.max_bytes = max_bytes
        self._pairs: OrderedDict[tuple[str, str, str], PendingPair] = OrderedDict()

    @property
    def size(self) -> int:
        return sum(pair.size for pair in self._pairs.values())

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, p in self._pairs.items() if now - p.touched > self.ttl]:
            del self._pairs[key]
        total = self.size
        while self._pairs and (len(self._pairs) > self.max_pairs or total > self.max_bytes):
            _, oldest = self._pairs.popitem(last=False)
            total -= oldest.size

    def get(self, key: tuple[str, str, str]) -> PendingPair | None:
        self._expire()
        return self._pairs.get(key)

    def add(self, key: tuple[str, str, str], picture: Picture, role: Role | None,
            order: int) -> PendingPair:
        """Put ``picture`` (from the message at ``order``) in the pair: in ``role`` if the
        user said, else by sending order (photo first)."""
        pair = self._pairs.pop(key, None) or PendingPair()
        pair.put(Slot(picture, order, role is not None), role)
        pair.touched = time.monotonic()
        self._pairs[key] = pair
        self._expire()
        return pair

    def swap(self, key: tuple[str, str, str]) -> PendingPair | None:
        pair = self.get(key)
        if pair is not None:
            swapped: dict[Role, Slot] = {}
            if "content" in pair.slots:
                swapped["style"] = pair.slots["content"]
            if "style" in pair.slots:
                swapped["content"] = pair.slots["style"]
            for slot in swapped.values():
                slot.explicit = True  # the user has spoken: keep these roles
            pair.slots = swapped
            pair.touched = time.monotonic()
        return pair

    def pop(self, key: tuple[str, str, str]) -> PendingPair | None:
        self._expire()
        return self._pairs.pop(key, None)
