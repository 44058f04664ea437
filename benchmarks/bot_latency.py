"""The bot under load, against the local fake Telegram and Discord servers (no network).

    python -m benchmarks.bot_latency [--size 256] [--steps 40] [--first-size 512]
                                     [--phases first,load] [--json]

Phase "first" (one painter on every core, real weights, the gallery warmed at
``--first-size``, an idle queue — what one user meets):
- job start (the pool hands the job to the painter) → the first picture the user sees
  (the status message's first edit with the starting AdaIN image), for gallery picks and
  for uploaded paintings, p50/p95;
- the ``fast`` preset end to end: the second picture sent (or the gallery button pressed)
  → the result photo posted.

Phase "load", in one run with two workers painting (real weights):
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
import io
import json
import logging
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from bot.config import LimitsConfig, PoolConfig
from bot.core.gallery import BUILTIN, pick_id
from bot.core.settings import UserSettings
from bot.core.status import SEND_WINDOW
from fakes.discord import FakeDiscord
from fakes.telegram import Call, FakeTelegram

if TYPE_CHECKING:
    from tests.bot.harness import RunningBot

# The test harness imports torch (for its test images). Painter and decoder processes
# start by importing this module (spawn), so it is imported inside functions only: with
# torch mapped, a decoder's address-space cap refuses real-sized photos (``nst-bot``'s own
# entry point never imports torch either).
SHARED = Path(__file__).resolve().parents[2] / "shared"

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


def done(call: Call) -> bool:
    return call.status == 200 and "Done" in call.params.get("caption", "")


class JobStarts(logging.Handler):
    """When the pool handed each user's jobs to a painter (its "job started" lines), and
    when the painter had the gallery's targets ("gallery warmed")."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.times: defaultdict[str, list[float]] = defaultdict(list)
        self.warmed = asyncio.Event()
        self.loop = asyncio.get_running_loop()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "job started":
            self.times[str(getattr(record, "user", ""))].append(time.monotonic())
        elif record.getMessage() == "gallery warmed":
            self.loop.call_soon_threadsafe(self.warmed.set)


def photos() -> list[bytes]:
    """Real photos (the test fixtures next to the repository), else a generated one."""
    found = sorted((SHARED / "images" / "content").glob("*.jpg"))
    if found:
        return [path.read_bytes() for path in found]
    buf = io.BytesIO()
    Image.linear_gradient("L").resize((768, 576)).convert("RGB").save(buf, format="JPEG")
    return [buf.getvalue()]


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": round(1000 * statistics.median(ordered)),
            "p95_ms": round(1000 * ordered[min(len(ordered) - 1, round(0.95 * len(ordered)))]),
            "max_ms": round(1000 * ordered[-1]), "n": len(ordered)}


async def offered_gallery(tg: FakeTelegram, chat: dict, user: dict, photo: bytes) -> int:
    """Send a lone photo; the id of the bot's message with the gallery buttons, once the
    user has read it: as long as the chat's sending window, so what is measured next is
    the bot, not the burst of messages this benchmark makes faster than any person."""
    mark = tg.mark()
    tg.send_photo(chat, user, photo)
    offer = await tg.wait_for_call("sendMessage", lambda c: delivered(c, chat), since=mark,
                                   timeout=60)
    assert "reply_markup" in offer.params, offer.params["text"]
    await asyncio.sleep(SEND_WINDOW)
    return next(m["message_id"] for m in reversed(tg.bot_messages(chat["id"]))
                if m.get("text") == offer.params["text"])


async def first_picture(tg: FakeTelegram, bot: RunningBot, starts: JobStarts,
                        rounds: int) -> dict[str, object]:
    """Job start → first visible image (default preset), and fast results end to end."""
    keys = [p.key for p in bot.core.gallery.paintings]
    uploads = sorted((BUILTIN).glob("*.jpg"))
    pictures = photos()
    picked, uploaded, fast_pair, fast_pick = [], [], [], []

    async def first_image(chat: dict, user: dict, mark: int) -> float:
        shown = await tg.wait_for_call("editMessageMedia", lambda c: delivered(c, chat),
                                       since=mark, timeout=120)
        started = starts.times[str(user["id"])][-1]
        mark = tg.mark()
        tg.send_text(chat, user, "/cancel")  # the rest of the painting is not measured
        await tg.wait_for_call("editMessageCaption", lambda c: delivered(c, chat) and
                               "✖️" in c.params.get("caption", ""), since=mark, timeout=120)
        return shown.time - started

    for n in range(rounds):
        photo = pictures[n % len(pictures)]
        user = tg.user(9100 + n, f"First{n}")
        chat = tg.private_chat(user)
        gallery = await offered_gallery(tg, chat, user, photo)
        mark = tg.mark()
        tg.press_button(chat, user, gallery, pick_id(_token(tg, chat, gallery), keys[n % 8]))
        picked.append(await first_image(chat, user, mark))
        await offered_gallery(tg, chat, user, photo)
        mark = tg.mark()
        tg.send_photo(chat, user, uploads[n % len(uploads)].read_bytes())
        uploaded.append(await first_image(chat, user, mark))

        fast = tg.user(9300 + n, f"Fast{n}")
        chat = tg.private_chat(fast)
        await bot.store.update_user("telegram", fast["id"], {"preset": "fast"})
        await offered_gallery(tg, chat, fast, photo)
        mark, sent = tg.mark(), time.monotonic()
        tg.send_photo(chat, fast, uploads[n % len(uploads)].read_bytes())
        result = await tg.wait_for_call("sendPhoto", lambda c, ch=chat: done(c) and
                                        delivered(c, ch), since=mark, timeout=120)
        fast_pair.append(result.time - sent)
        gallery = await offered_gallery(tg, chat, fast, photo)
        mark, sent = tg.mark(), time.monotonic()
        tg.press_button(chat, fast, gallery, pick_id(_token(tg, chat, gallery), keys[n % 8]))
        result = await tg.wait_for_call("sendPhoto", lambda c, ch=chat: done(c) and
                                        delivered(c, ch), since=mark, timeout=120)
        fast_pick.append(result.time - sent)
    return {"job_start_to_first_image_gallery_pick": percentiles(picked),
            "job_start_to_first_image_uploaded_painting": percentiles(uploaded),
            "fast_end_to_end_second_picture_to_result": percentiles(fast_pair),
            "fast_end_to_end_gallery_button_to_result": percentiles(fast_pick)}


def _token(tg: FakeTelegram, chat: dict, message_id: int) -> str:
    """The kept photo's token, read from the gallery buttons of ``message_id``."""
    message = next(m for m in tg.bot_messages(chat["id"]) if m["message_id"] == message_id)
    return message["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1]


async def run_first(args: argparse.Namespace) -> dict[str, object]:
    from tests.bot.harness import running_bot, small_config

    starts = JobStarts()
    pool_log = logging.getLogger("stylebot.pool")
    pool_log.setLevel(logging.INFO)
    pool_log.addHandler(starts)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = dataclasses.replace(
                small_config(Path(tmp), args.weights),
                pool=PoolConfig(workers=1, threads=0, max_queue=8, job_timeout=600,
                                shutdown_grace=1.0, weights=args.weights),
                limits=LimitsConfig(submissions_per_minute=30),
                defaults=UserSettings(size=args.first_size),
                progress_interval=3.0, group_progress_interval=4.0)
            warm = time.monotonic()
            async with (FakeTelegram(enforce_limits=True) as tg,
                        running_bot(config, telegram=tg) as bot):
                ready = time.monotonic() - warm
                await asyncio.wait_for(starts.warmed.wait(), 600)
                warmed = time.monotonic() - warm
                report = await first_picture(tg, bot, starts, args.rounds)
        return {**report, "painter_ready_s (weights: takes jobs)": round(ready, 1),
                "gallery_warmed_s (targets of every painting, between jobs)": round(warmed, 1),
                "size": args.first_size, "workers": 1, "threads": "all cores"}
    finally:
        pool_log.removeHandler(starts)


async def telegram_reply_latency(tg: FakeTelegram, users: int) -> list[float]:
    from tests.bot.harness import PAINTING, PHOTO

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
    from tests.bot.harness import PAINTING, PHOTO

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
    from tests.bot.harness import PAINTING, PHOTO

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
    report: dict[str, object] = {}
    if "first" in args.phases:
        report["first_picture"] = await run_first(args)
    if "load" in args.phases:
        report["load"] = await run_load(args)
    return report


async def run_load(args: argparse.Namespace) -> dict[str, object]:
    from tests.bot.harness import PAINTING, PHOTO, running_bot, small_config

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
    parser.add_argument("--first-size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--phases", type=lambda text: set(text.split(",")),
                        default={"first", "load"})
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    print(json.dumps(report) if args.json else json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
