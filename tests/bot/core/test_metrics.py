"""The Prometheus endpoint and /stats: the same numbers, for the operator only."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from pathlib import Path

import aiohttp

from bot.config import MetricsConfig
from fakes.telegram import FakeTelegram
from tests.bot.harness import PAINTING, PHOTO, small_config, telegram_bot


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_metrics_endpoint_and_stats_for_owners(tmp_path: Path,
                                                      random_weights_path: Path) -> None:
    port = free_port()
    config = small_config(tmp_path, str(random_weights_path))
    config = dataclasses.replace(
        config, metrics=MetricsConfig(port=port),
        telegram=dataclasses.replace(config.telegram, admin_ids=(7001,)))
    async with FakeTelegram() as fake, telegram_bot(fake, config):
        owner, user = fake.user(7001, "Olga"), fake.user(7002, "Uma")
        owner_chat, user_chat = fake.private_chat(owner), fake.private_chat(user)
        mark = fake.mark()
        fake.send_album(user_chat, user, [PHOTO, PAINTING])
        await fake.wait_for_call("sendPhoto", since=mark)  # the status message
        fake.fail_next("sendPhoto", retry_after=1)  # one 429, on the result
        await fake.wait_for_call("sendPhoto", lambda c: "Done" in c.params.get("caption", ""),
                                 since=mark, timeout=60)
        finished = 'stylebot_jobs_total{outcome="finished"} 1.0'
        text = ""
        for _ in range(50):  # the job is counted just after its last message
            async with aiohttp.ClientSession() as session, session.get(
                    f"http://127.0.0.1:{port}/metrics") as response:
                text = await response.text()
            if finished in text:
                break
            await asyncio.sleep(0.1)
        assert finished in text
        assert 'stylebot_job_seconds_count{preset="default",size="64"} 1.0' in text
        assert "stylebot_queue_depth 0.0" in text and "stylebot_painters 1.0" in text
        assert 'stylebot_rate_limited_total{platform="telegram"}' in text
        assert "stylebot_event_loop_lag_seconds_count" in text

        mark = fake.mark()
        fake.send_text(user_chat, user, "/stats")
        refused = await fake.wait_for_call("sendMessage", since=mark)
        assert "for the bot's owners" in refused.params["text"]
        mark = fake.mark()
        fake.send_text(owner_chat, owner, "/stats")
        stats = await fake.wait_for_call("sendMessage", since=mark)
        words = stats.params["text"]
        assert "Jobs: finished 1." in words and "0 waiting" in words and "1 painters" in words
        assert "Rate limited (429s): telegram" in words
