"""Memory the bot keeps per distinct user: what 10,000 users who each wrote once leave
behind, right away and once their rate-limit windows and chat budgets have passed.

    python -m benchmarks.per_user_memory [--users 10000] [--json]

Each simulated user does what a first message costs the core: an upload-budget check, a
refusal notice, a submission-window check, the chat's sending and progress budgets, a
429 block, and the per-user lock a Telegram handler takes. Time is simulated (one user
every 0.1 s), so "later" means ten minutes after the last user, without waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import time
import tracemalloc
from collections.abc import Iterator
from unittest import mock

from bot.core.jobs import Owner
from bot.core.keyed import KeyedLocks
from bot.core.ratelimit import SlidingWindow
from bot.core.status import ChatLimits


@contextlib.contextmanager
def simulated_clock() -> Iterator[list[float]]:
    now = [time.monotonic()]
    with mock.patch("time.monotonic", lambda: now[0]):
        yield now


async def measure(users: int) -> dict[str, float]:
    with simulated_clock() as now:
        windows = [SlidingWindow(10, 60.0), SlidingWindow(3, 30.0), SlidingWindow(4, 60.0)]
        limits = ChatLimits(3.0, 4.0)
        locks: KeyedLocks[tuple[str, str, str]] = KeyedLocks()
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        for n in range(users):
            owner = Owner("telegram", str(10_000_000 + n))
            key = f"{owner.platform}:{owner.user_id}"
            for window in windows:
                window.allow(key)
            limits.sending(key, False)
            limits.progress(key, False)
            limits.block(key, 1.0)
            async with locks(("telegram", key, owner.user_id)):
                pass
            now[0] += 0.1
        gc.collect()
        right_after = tracemalloc.get_traced_memory()[0] - base
        now[0] += 600  # ten minutes on: every window and budget has passed
        for window in windows:
            window.allow("telegram:someone-new")
        limits.sending("telegram:someone-new", False)
        limits.progress("telegram:someone-new", False)
        limits.block("telegram:someone-new", 1.0)
        gc.collect()
        later = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
    return {"users": users, "bytes_per_user_right_after": right_after / users,
            "bytes_per_user_ten_minutes_later": later / users}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = asyncio.run(measure(args.users))
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{figures['users']} users: {figures['bytes_per_user_right_after']:.0f} bytes each "
          f"while their windows last, {figures['bytes_per_user_ten_minutes_later']:.1f} bytes "
          "each ten minutes later")


if __name__ == "__main__":
    main()
