"""Inline mode and inline keyboards: queries reach the bot only with inline mode on, an
answer lists cached photos by file_id, a switch_inline_query button opens a query, and
buttons are checked as Telegram checks them."""

from __future__ import annotations

import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultCachedPhoto,
    InlineQueryResultsButton,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import InlineQueryHandler

from fakes.telegram import FakeTelegram
from tests.fakes.telegram.conftest import (
    ALICE_ID,
    BOB_ID,
    Context,
    make_png,
    plain_bot,
    polling_app,
)


async def test_an_inline_query_is_answered_with_cached_photos_and_posted() -> None:
    async with FakeTelegram(inline_mode=True) as tg:
        alice, bob = tg.user(ALICE_ID, "Alice"), tg.user(BOB_ID, "Bob")
        tg.private_chat(alice)
        group = tg.group_chat(-100555, "Friends")
        async with plain_bot(tg) as bot:
            sent = await bot.send_photo(ALICE_ID, make_png(), caption="a result")
            assert (await bot.get_me()).supports_inline_queries
        file_id = sent.photo[-1].file_id
        asked: list[str] = []

        async def on_query(update: Update, _: Context) -> None:
            query = update.inline_query
            assert query is not None
            asked.append(query.query)
            await query.answer(
                [InlineQueryResultCachedPhoto("r1", file_id, caption="🎨 credit")],
                is_personal=True, cache_time=0,
                button=InlineQueryResultsButton("Open", start_parameter="paint"))

        async with polling_app(tg, InlineQueryHandler(on_query)):
            query_id = tg.inline_query(alice, "starry", chat_type="group")
            answer = await tg.wait_for_call("answerInlineQuery", timeout=5)
        assert asked == ["starry"] and answer.status == 200
        assert tg.inline_answers[query_id]["results"][0]["photo_file_id"] == file_id
        posted = tg.choose_inline_result(alice, group, query_id, "r1")
        assert posted["via_bot"]["id"] == tg.bot_id and posted["caption"] == "🎨 credit"
        assert posted["photo"][-1]["file_id"] == file_id  # no upload: Telegram's own copy
        with pytest.raises(ValueError, match="not answered"):
            tg.choose_inline_result(bob, group, query_id, "r1")  # not Bob's query


async def test_answers_are_checked(tg: FakeTelegram) -> None:
    tg.private_chat(tg.user(ALICE_ID, "Alice"))
    with pytest.raises(ValueError, match="inline mode is off"):
        tg.inline_query(tg.user(BOB_ID, "Bob"))
    tg.inline_mode = True
    query_id = tg.inline_query(tg.user(BOB_ID, "Bob"))
    async with plain_bot(tg) as bot:
        with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
            await bot.answer_inline_query(query_id, [
                InlineQueryResultCachedPhoto("r1", "no-such-file")])
        with pytest.raises(BadRequest, match=r"(?i)result_id_duplicate"):
            sent = await bot.send_photo(ALICE_ID, make_png())
            photo = sent.photo[-1].file_id
            await bot.answer_inline_query(query_id, [
                InlineQueryResultCachedPhoto("same", photo),
                InlineQueryResultCachedPhoto("same", photo)])
        assert await bot.answer_inline_query(query_id, [])
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_inline_query(query_id, [])  # once only


async def test_a_switch_inline_button_opens_a_query_and_buttons_are_checked() -> None:
    async with FakeTelegram(inline_mode=True) as tg:
        alice = tg.user(ALICE_ID, "Alice")
        chat = tg.private_chat(alice)
        async with plain_bot(tg) as bot:
            share = InlineKeyboardMarkup([[InlineKeyboardButton("Share",
                                                                switch_inline_query="art")]])
            message = await bot.send_message(ALICE_ID, "result", reply_markup=share)
            plain = await bot.send_message(ALICE_ID, "no buttons")
            with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
                await bot.send_message(ALICE_ID, "x", reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("Long", callback_data="x" * 65)]]))
        query_id = tg.press_switch_inline(chat, alice, message.message_id)
        update = tg.updates[-1]["inline_query"]
        assert (update["id"], update["query"], update["from"]["id"]) == (query_id, "art",
                                                                         ALICE_ID)
        with pytest.raises(ValueError, match="no switch_inline_query button"):
            tg.press_switch_inline(chat, alice, plain.message_id)
