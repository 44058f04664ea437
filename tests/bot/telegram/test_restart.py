"""With the Redis backend a bot restart loses nothing: the next bot process takes over the
job, and the result is posted once, however many bot processes are running."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from bot.config import Secret
from fakes.telegram import FakeTelegram
from tests.bot.harness import PAINTING, PHOTO, small_config, telegram_bot
from tests.helpers.redis import Painters


async def test_a_result_survives_a_bot_restart_and_arrives_once(
    fake: FakeTelegram, tmp_path: Path, random_weights_path: Path, painters: Painters,
    clean_redis: str
) -> None:
    config = small_config(tmp_path, str(random_weights_path))
    config = dataclasses.replace(config, pool=dataclasses.replace(
        config.pool, backend="redis", redis_url=Secret(clean_redis)),
        defaults=dataclasses.replace(config.defaults, steps=60))
    zoe = fake.user(9001, "Zoe")
    chat = fake.private_chat(zoe)
    async with telegram_bot(fake, config):
        mark = fake.mark()
        fake.send_album(chat, zoe, [PHOTO, PAINTING])
        await fake.wait_for_call("editMessageMedia", since=mark, timeout=60)  # painting
    # the bot is down; the painter goes on. Two bot processes start (replicas):
    async with telegram_bot(fake, config), telegram_bot(fake, config):
        result = await fake.wait_for_call(
            "sendPhoto", lambda c: c.chat_id == chat["id"] and "Done" in
            c.params.get("caption", ""), since=mark, timeout=120)
        await asyncio.sleep(3)  # time for a duplicate to show up, if there were one
    results = [c for c in fake.calls_to("sendPhoto", since=mark)
               if c.chat_id == chat["id"] and "Done" in c.params.get("caption", "")]
    assert results == [result]
