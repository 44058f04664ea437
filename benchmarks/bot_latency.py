"""The bot under load, against the local fake Telegram and Discord servers (no network).

    python -m benchmarks.bot_latency [--size 256] [--steps 40] [--json]

Measures, in one run with two workers painting (real weights):
- event-loop lag (p50/p99/max) sampled every 10 ms for the whole run;
- Telegram: time from a user's second picture to the bot's first reply in that chat;
- Telegram: a 5-user group — bot messages/edits per minute in the chat, and the 429s the
  fake (enforcing Telegram-like flood limits) had to send there and in the whole run;
- Discord: time from /stylize to the deferred response, and edits per minute per channel.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.config import PoolConfig
from bot.core.settings import UserSettings
from fakes.discord import FakeDiscord
from fakes.telegram import Call, FakeTelegram
from tests.bot.harness import PAINTING, PHOTO, running_bot, small_config

SENDING = (
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "editMessageMedia",
    "editMessageCaption",
    "editMessageText",
    "deleteMessage",
)


class LoopLag:
    """How late a 10 ms sleep wakes up: what every handler on the loop would wait."""

    def __init__(self, period: float = 0.01) -> None:
        self.period = period
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(self.period)
            self.samples.append(time.perf_counter() - start - self.period)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def stop(self) -> dict[str, float]:
        assert self._task is not None
        self._task.cancel()
        ordered = sorted(self.samples)
        return {
            "p50_ms": 1000 * ordered[len(ordered) // 2],
            "p99_ms": 1000 * ordered[int(len(ordered) * 0.99)],
            "max_ms": 1000 * ordered[-1],
            "samples": len(ordered),
        }


def per_minute(times: list[float]) -> float:
    """The most events in any 60-second window."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - 60:
            j += 1
        best = max(best, i - j + 1)
    return best


def delivered(call: Call, chat: dict[str, object]) -> bool:
    """A message the user actually got (not one refused with a 429)."""
    return call.chat_id == chat["id"] and call.status == 200


async def telegram_reply_latency(tg: FakeTelegram, users: int) -> list[float]:
    latencies = []
    for n in range(users):
        user = tg.user(7000 + n, f"P{n}")
        chat = tg.private_chat(user)
        tg.send_photo(chat, user, PHOTO)
        await tg.wait_for_call("sendMessage", lambda c, ch=chat: delivered(c, ch), timeout=30)
        mark = tg.mark()
        sent = time.monotonic()
        tg.send_photo(chat, user, PAINTING)
        first = await tg.wait_for_call(
            SENDING, lambda c, ch=chat: delivered(c, ch), since=mark, timeout=30
        )
        latencies.append(first.time - sent)
        tg.send_text(chat, user, "/cancel")
    return latencies


async def telegram_group(tg: FakeTelegram, users: int, timeout: float) -> dict[str, float]:
    group = tg.group_chat(-100900, "Benchmark club")
    people = [tg.user(8000 + n, f"G{n}", f"g{n}") for n in range(users)]
    start = tg.mark()
    for person in people:
        mark = tg.mark()
        tg.send_text(group, person, "/stylize")
        # Telegram allows ~20 messages a minute in a group: replies queue behind results.
        await tg.wait_for_call("sendMessage", lambda c: delivered(c, group), since=mark,
                               timeout=120)
        prompt = tg.bot_messages(group["id"])[-1]["message_id"]
        tg.send_album(group, person, [PHOTO, PAINTING], reply_to=prompt)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [
            c
            for c in tg.calls_to("sendPhoto", since=start)
            if c.chat_id == group["id"] and "Done" in c.params.get("caption", "")
        ]
        if len(done) == users:
            break
        await asyncio.sleep(0.2)
    calls = [c for c in tg.calls[start:] if c.method in SENDING and c.chat_id == group["id"]]
    return {
        "results": len(done),
        "max_messages_per_minute": per_minute([c.time for c in calls if c.status == 200]),
        "calls": len(calls),
        "rate_limited_429": sum(1 for c in calls if c.status == 429),
    }


async def discord_defer(dc: FakeDiscord, users: int, timeout: float) -> dict[str, float]:
    guild = dc.add_guild("Bench")
    channel = guild["channels"][0]
    defer, started = [], time.monotonic()
    interactions = []
    for n in range(users):
        user = dc.add_user(f"d{n}")
        dc.add_member(guild, user)
        sent = time.monotonic()
        interaction = await dc.slash_command(
            user,
            channel,
            "stylize",
            {
                "content": dc.add_attachment(PHOTO, "photo.jpg", "image/jpeg"),
                "style": dc.add_attachment(PAINTING, "art.jpg", "image/jpeg"),
            },
        )
        await interaction.wait_response()
        callback = await dc.wait_for(
            lambda c, i=interaction: c.path.startswith(f"/interactions/{i.id}/")
        )
        defer.append(callback.time - sent)
        interactions.append(interaction)
    deadline = started + timeout
    while time.monotonic() < deadline and not all(
        i.original and i.original.get("embeds") for i in interactions
    ):
        await asyncio.sleep(0.2)
    edits = [
        c.time
        for c in dc.calls
        if c.method in ("PATCH", "POST") and ("/messages" in c.path) and c.time >= started
    ]
    return {
        "defer_ms": [round(1000 * d, 1) for d in defer],
        "results": sum(1 for i in interactions if i.original and i.original.get("embeds")),
        "max_edits_per_minute": per_minute(edits),
    }


async def run(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        config = dataclasses.replace(
            small_config(Path(tmp), args.weights),
            pool=PoolConfig(
                workers=2,
                threads=1,
                max_queue=32,
                job_timeout=600,
                shutdown_grace=1.0,
                weights=args.weights,
            ),
            defaults=UserSettings(size=args.size, steps=args.steps),
            progress_interval=3.0,
            group_progress_interval=4.0,
        )
        lag = LoopLag()
        async with (
            FakeTelegram(enforce_limits=True) as tg,
            FakeDiscord() as dc,
            running_bot(config, telegram=tg, discord=dc) as bot,
        ):
            lag.start()
            # Two jobs keep both workers (and both cores) busy for the latency phase.
            for n in range(2):
                user = tg.user(6000 + n, f"Busy{n}")
                tg.send_album(tg.private_chat(user), user, [PHOTO, PAINTING])
            while bot.pool.stats().running < 2:
                await asyncio.sleep(0.05)
            replies = await telegram_reply_latency(tg, args.users * 2)
            group = await telegram_group(tg, args.users, args.timeout)
            discord = await discord_defer(dc, args.users, args.timeout)
            loop = lag.stop()
    return {
        "event_loop_lag": loop,
        "telegram_first_reply_ms": {
            "p50": round(1000 * statistics.median(replies), 1),
            "max": round(1000 * max(replies), 1),
            "n": len(replies),
        },
        "telegram_group": group,
        "telegram_429_whole_run": tg.rate_limited,
        "discord": discord,
        "size": args.size,
        "steps": args.steps,
        "weights": args.weights,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--weights", default="auto")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    print(json.dumps(report) if args.json else json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
