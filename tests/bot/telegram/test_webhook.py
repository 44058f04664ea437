"""Webhook mode: Telegram posts updates to the bot's own server, which refuses any request
that lacks the secret token."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from pathlib import Path

import aiohttp

from bot.config import Secret
from fakes.telegram import FakeTelegram
from tests.bot.harness import small_config, telegram_bot

SECRET = "webhook-secret_0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_updates_arrive_by_webhook_and_strangers_get_403(
    fake: FakeTelegram, tmp_path: Path, random_weights_path: Path
) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram-hook"
    config = small_config(tmp_path, str(random_weights_path))
    config = dataclasses.replace(config, telegram=dataclasses.replace(
        config.telegram, webhook_url=hook, listen="127.0.0.1", port=port,
        secret_token=Secret(SECRET)))
    alice = fake.user(5001, "Alice")
    chat = fake.private_chat(alice)
    async with telegram_bot(fake, config) as bot:
        assert bot.telegram is not None and bot.telegram.healthy()
        assert not fake.calls_to("getUpdates")  # no polling in webhook mode
        setup = fake.calls_to("setWebhook")[-1]
        assert setup.params["url"] == hook and setup.params["secret_token"] == SECRET
        fake.send_text(chat, alice, "/help")  # Telegram pushes it to the webhook
        answer = await fake.wait_for_call("sendMessage", timeout=15)
        assert answer.chat_id == chat["id"] and "paint" in answer.params["text"]
        assert fake.webhook_pushes and all(s == 200 for _, s in fake.webhook_pushes)

        forged = {"update_id": 999, "message": {
            "message_id": 77, "date": 0, "chat": chat, "from": alice, "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}
        mark = fake.mark()
        async with aiohttp.ClientSession() as session:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
                async with session.post(hook, json=forged, headers=headers) as response:
                    assert response.status == 403
        await asyncio.sleep(1.0)
        assert not fake.calls_to("sendMessage", since=mark)  # never processed
