"""One user sends every kind of hostile or odd file at once; everyone else is still
answered within a second, and every file ends in a typed refusal or a picture."""

from __future__ import annotations

import asyncio
import time

from bot.core.who import Who
from fakes.telegram import FakeTelegram
from tests.bot.harness import PHOTO, TelegramBot
from tests.helpers import bad_images as bad


async def test_a_flood_of_hostile_files_does_not_delay_anyone_else(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    mallory, alice, bob = fake.user(6001, "Mallory"), fake.user(6002, "Alice"), fake.user(
        6003, "Bob")
    files = {name: make() for name, make in bad.CATALOGUE.items()}
    evil = fake.private_chat(mallory)
    for name, data in files.items():
        fake.send_document(evil, mallory, data, file_name=f"{name}.png", mime_type="image/png")
    refused = sum(1 for reason in bad.EXPECTED.values() if reason is not None)

    latencies: list[float] = []
    for user in (alice, bob) * 3:  # while Mallory's files are being opened
        chat = fake.private_chat(user)
        mark = fake.mark()
        sent = time.monotonic()
        if user is alice:
            fake.send_text(chat, user, "/help")
        else:
            fake.send_photo(chat, user, PHOTO)
        await fake.wait_for_call("sendMessage", lambda c, chat=chat: c.chat_id == chat["id"],
                                 since=mark, timeout=30)
        latencies.append(time.monotonic() - sent)
        tgbot.core.pairs.forget(Who("telegram", str(user["id"]), str(chat["id"]), False))
    assert max(latencies) < 1.0, latencies

    deadline = time.monotonic() + 120
    while sum(tgbot.core.metrics.snapshot().refusals.values()) < refused:
        assert time.monotonic() < deadline, tgbot.core.metrics.snapshot().refusals
        await asyncio.sleep(0.1)
    counted = tgbot.core.metrics.snapshot().refusals
    expected: dict[str, int] = {}
    for reason in bad.EXPECTED.values():
        if reason is not None:
            expected[reason] = expected.get(reason, 0) + 1
    assert counted == expected  # each file typed as the decoder tests expect
