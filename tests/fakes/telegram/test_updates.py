"""Updates reach the bot by long polling, confirmed by the next offset, and only those that
privacy mode lets through in groups."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, TypeHandler

from fakes.telegram import FakeTelegram
from tests.fakes.telegram.conftest import ALICE_ID, Context, eventually, make_png, polling_app


async def test_start_command_gets_reply(tg: FakeTelegram) -> None:
    async def start(update: Update, _: Context) -> None:
        assert update.message is not None and update.effective_user is not None
        await update.message.reply_text(f"Hello, {update.effective_user.first_name}!")

    alice = tg.user(ALICE_ID, "Alice", "alice")
    chat = tg.private_chat(alice)
    async with polling_app(tg, CommandHandler("start", start)):
        since = tg.mark()
        sent = tg.send_text(chat, alice, "/start")
        call = await tg.wait_for_call("sendMessage", since=since, timeout=5)

    assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert (call.chat_id, call.params["text"], call.status) == (ALICE_ID, "Hello, Alice!", 200)
    assert [m["text"] for m in tg.bot_messages(ALICE_ID)] == ["Hello, Alice!"]
    assert tg.calls_to("getMe") and tg.calls_to("deleteWebhook")
    # The final getUpdates confirmed the update, so a restarted bot would not see it again.
    assert tg.calls_to("getUpdates")[-1].params["offset"] == tg.updates[-1]["update_id"] + 1


async def test_privacy_mode_filters_group_messages(tg: FakeTelegram) -> None:
    seen: list[int] = []

    async def record(update: Update, _: Context) -> None:
        assert update.message is not None
        seen.append(update.message.message_id)

    alice = tg.user(ALICE_ID, "Alice")
    group = tg.group_chat(555, "Style club")
    assert group["id"] == -100555
    async with polling_app(tg, TypeHandler(Update, record)) as app:
        bot_message = await app.bot.send_message(group["id"], "Send me photos")
        chatter = tg.send_text(group, alice, "just chatting")
        ours = tg.send_text(group, alice, "/stylize@StylebotTestBot now")
        theirs = tg.send_text(group, alice, "/stylize@OtherBot")
        mention = tg.send_text(group, alice, "hey @StylebotTestBot")
        reply = tg.send_text(group, alice, "this one", reply_to=bot_message.message_id)
        album = tg.send_album(
            group, alice, [make_png(tint=t) for t in (10, 20, 30)], reply_to=bot_message.message_id
        )
        expected = [ours, mention, reply, *album]
        await eventually(lambda: album[-1]["message_id"] in seen)

    assert seen == [m["message_id"] for m in expected]
    assert chatter["message_id"] not in seen and theirs["message_id"] not in seen
    assert len({m["media_group_id"] for m in album}) == 1
    assert [m.get("caption") for m in album] == [None, None, None]
    assert all(m["reply_to_message"]["message_id"] == bot_message.message_id for m in album)


async def test_without_privacy_mode_everything_is_delivered() -> None:
    async with FakeTelegram(privacy_mode=False) as tg:
        alice = tg.user(ALICE_ID, "Alice")
        group = tg.group_chat(-42, "Basic", supergroup=False)
        message = tg.send_text(group, alice, "just chatting")
        album = tg.send_album(group, alice, [make_png(), make_png(tint=9)], caption="two")
    delivered = [u["message"]["message_id"] for u in tg.updates]
    assert delivered == [message["message_id"], *(m["message_id"] for m in album)]
    assert album[0]["caption"] == "two" and "caption" not in album[1]
