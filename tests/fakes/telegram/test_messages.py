"""The bot's messages: button presses answered and edited, and Telegram's edit rules."""

from __future__ import annotations

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler

from fakes.telegram import FakeTelegram
from tests.fakes.telegram.conftest import ALICE_ID, Context, plain_bot, polling_app


async def test_button_press_runs_callback_handler(tg: FakeTelegram) -> None:
    async def on_button(update: Update, _: Context) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Got it")
        await query.edit_message_text(f"chose {query.data}")

    alice = tg.user(ALICE_ID, "Alice")
    chat = tg.private_chat(alice)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
    async with polling_app(tg, CallbackQueryHandler(on_button)) as app:
        message = await app.bot.send_message(ALICE_ID, "Pick one", reply_markup=keyboard)
        with pytest.raises(ValueError, match="no button"):
            tg.press_button(chat, alice, message.message_id, "stop")
        since = tg.mark()
        query_id = tg.press_button(chat, alice, message.message_id, "go")
        answer = await tg.wait_for_call("answerCallbackQuery", since=since, timeout=5)
        await tg.wait_for_call("editMessageText", since=since, timeout=5)

    assert answer.params["callback_query_id"] == query_id
    assert (answer.params["text"], answer.chat_id, answer.status) == ("Got it", ALICE_ID, 200)
    [state] = tg.bot_messages(ALICE_ID)
    assert (state["text"], state["edits"], state["reply_markup"]) == ("chose go", 1, None)
    assert state["history"][0]["reply_markup"] == keyboard.to_dict()


async def test_edit_with_identical_text_is_not_modified(tg: FakeTelegram) -> None:
    tg.private_chat(tg.user(ALICE_ID, "Alice"))
    async with plain_bot(tg) as bot:
        sent = await bot.send_message(ALICE_ID, "same")
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_text("same", chat_id=ALICE_ID, message_id=sent.message_id)
        edited = await bot.edit_message_text(
            "changed", chat_id=ALICE_ID, message_id=sent.message_id
        )
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_text("x", chat_id=ALICE_ID, message_id=999)

    assert not isinstance(edited, bool) and edited.text == "changed"
    assert [c.status for c in tg.calls_to("editMessageText")] == [400, 200, 400]
    [state] = tg.bot_messages(ALICE_ID)
    assert (state["text"], state["edits"]) == ("changed", 1)
