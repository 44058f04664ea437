"""Per-user state is bounded: locks live only while used, other state is forgotten when
idle or when too many keys are held."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.core.keyed import ExpiringMap, KeyedLocks
from bot.core.ratelimit import SlidingWindow
from bot.core.status import ChatLimits


async def test_locks_exist_only_while_held_or_awaited() -> None:
    locks: KeyedLocks[str] = KeyedLocks()
    order: list[str] = []

    async def hold(name: str, delay: float) -> None:
        async with locks("alice"):
            order.append(f"{name}+")
            await asyncio.sleep(delay)
            order.append(f"{name}-")

    first = asyncio.create_task(hold("a", 0.05))
    await asyncio.sleep(0)
    second = asyncio.create_task(hold("b", 0))
    await asyncio.sleep(0.01)
    assert len(locks) == 1
    await asyncio.gather(first, second)
    assert order == ["a+", "a-", "b+", "b-"]  # still one lock: serialised
    for user in range(10_000):
        async with locks(f"user{user}"):
            pass
    assert len(locks) == 0


def test_idle_entries_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    entries: ExpiringMap[str, list[int]] = ExpiringMap(list, max_idle=60, max_keys=3)
    entries.get("a").append(1)
    now[0] += 30
    entries.get("b")
    assert entries.peek("a") == [1]
    now[0] += 31
    entries.get("c")
    assert entries.peek("a") is None and entries.peek("b") == []
    entries.get("d")
    entries.get("e")  # beyond max_keys: the least recently used goes
    assert entries.peek("b") is None and len(entries) == 3


def test_windows_and_chat_budgets_do_not_grow_with_users(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    window = SlidingWindow(2, 30.0)
    limits = ChatLimits(3.0, 4.0)
    for user in range(10_000):
        assert window.allow(f"telegram:{user}")
        limits.sending(f"telegram:{user}", False)
        limits.progress(f"telegram:{user}", False)
        limits.block(f"telegram:{user}", 1.0)
        now[0] += 0.1  # 10,000 users over 1,000 s
    assert len(window._events) <= 301  # only those seen in the last 30 s
    assert len(limits._sending) <= 3001 and len(limits._progress) <= 3001  # last 300 s
    assert len(limits._blocked_until) <= 11  # only blocks still in force
    assert window.allow("telegram:9999") and not window.allow("telegram:9999")
