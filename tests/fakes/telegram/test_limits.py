"""Errors and limits as PTB sees them: injected and flood-control 429s, bad tokens, unknown
methods, files too big to download, unknown chats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram import Update
from telegram.error import BadRequest, EndPointNotFound, InvalidToken, RetryAfter
from telegram.ext import CommandHandler

from fakes.telegram import FakeTelegram
from tests.fakes.telegram.conftest import (
    ALICE_ID,
    BOB_ID,
    Context,
    eventually,
    plain_bot,
    polling_app,
)

# PTB 22 builds RetryAfter.retry_after as a deprecated int unless PTB_TIMEDELTA=true is set.
IGNORE_RETRY_AFTER_DEPRECATION = pytest.mark.filterwarnings(
    "ignore::telegram.warnings.PTBDeprecationWarning"
)


@IGNORE_RETRY_AFTER_DEPRECATION
async def test_fail_next_raises_retry_after_in_handler(tg: FakeTelegram) -> None:
    errors: list[RetryAfter] = []
    replies: list[int] = []

    async def start(update: Update, _: Context) -> None:
        assert update.message is not None
        try:
            replies.append((await update.message.reply_text("hi")).message_id)
        except RetryAfter as error:
            errors.append(error)

    alice = tg.user(ALICE_ID, "Alice")
    chat = tg.private_chat(alice)
    tg.fail_next("sendMessage", retry_after=1)
    async with polling_app(tg, CommandHandler("start", start)):
        tg.send_text(chat, alice, "/start")
        await eventually(lambda: bool(errors))
        tg.send_text(chat, alice, "/start")
        await eventually(lambda: bool(replies))

    retry_after = errors[0].retry_after
    seconds = retry_after.total_seconds() if isinstance(retry_after, timedelta) else retry_after
    assert seconds == 1
    assert [c.status for c in tg.calls_to("sendMessage")] == [429, 200]
    assert tg.rate_limited == 1


@IGNORE_RETRY_AFTER_DEPRECATION
async def test_errors_and_limits(tg: FakeTelegram) -> None:
    alice = tg.user(ALICE_ID, "Alice")
    chat = tg.private_chat(alice)
    big = tg.send_document(
        chat, alice, b"tiny", file_name="huge.bin", mime_type="application/zip", file_size=25 << 20
    )
    with pytest.raises(InvalidToken):
        async with plain_bot(tg, token="123456789:wrong"):
            pass
    async with plain_bot(tg) as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("noSuchMethod")
        with pytest.raises(BadRequest, match="File is too big"):
            await bot.get_file(big["document"]["file_id"])
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(BOB_ID, "who?")
        tg.enforce_limits = True
        for _ in range(3):  # the burst Telegram tolerates
            await bot.send_message(ALICE_ID, "ping")
        with pytest.raises(RetryAfter):
            await bot.send_message(ALICE_ID, "one too many")
    assert tg.rate_limited == 1
    assert [c.status for c in tg.calls_to("getMe")] == [401, 200]
