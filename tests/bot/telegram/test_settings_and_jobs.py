"""/weights (persisting across restarts), /cancel, /queue, a full queue, re-run buttons, 429s."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path

from bot.core.jobs import Owner
from fakes.telegram import JSON, Call, FakeTelegram
from tests.bot.conftest import Backend
from tests.bot.harness import PAINTING, PHOTO, TelegramBot, small_config, telegram_bot


def done(call) -> bool:
    return "Done" in call.params.get("caption", "")


async def test_weights_persist_across_a_restart(
    fake: FakeTelegram, tmp_path: Path, random_weights_path: Path
) -> None:
    config = small_config(tmp_path, str(random_weights_path))
    alice = fake.user(2001, "Alice")
    chat = fake.private_chat(alice)
    async with telegram_bot(fake, config):
        for text in ("/weights strength 7", "/weights colors keep", "/weights size 96"):
            mark = fake.mark()
            fake.send_text(chat, alice, text)
            await fake.wait_for_call("sendMessage", since=mark)
        mark = fake.mark()
        fake.send_text(chat, alice, "/weights strength 12")
        refused = await fake.wait_for_call("sendMessage", since=mark)
        assert "strength must be a number from 0 to 10" in refused.params["text"]
    async with telegram_bot(fake, config):  # a fresh process would see the same database
        mark = fake.mark()
        fake.send_text(chat, alice, "/weights")
        shown = await fake.wait_for_call("sendMessage", since=mark)
        text = shown.params["text"]
        assert "strength: 7" in text and "size: 96px" in text
        assert "keep (the photo's colours)" in text
        assert shown.params["reply_markup"]["inline_keyboard"]
        mark = fake.mark()
        fake.send_album(chat, alice, [PHOTO, PAINTING])
        result = await fake.wait_for_call("sendPhoto", done, since=mark, timeout=60)
        assert "strength 7" in result.params["caption"] and "96px" in result.params["caption"]


async def test_weights_buttons_change_the_pressers_settings(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    bob = fake.user(2002, "Bob")
    chat = fake.private_chat(bob)
    fake.send_text(chat, bob, "/weights")
    panel = await fake.wait_for_call("sendMessage")
    message_id = fake.bot_messages(chat["id"])[-1]["message_id"]
    mark = fake.mark()
    fake.press_button(chat, bob, message_id, "w:preset:fast")
    answer = await fake.wait_for_call("answerCallbackQuery", since=mark)
    assert "fast" in answer.params["text"]
    assert (await tgbot.store.user_changes("telegram", bob["id"]))["preset"] == "fast"
    assert panel is not None


async def test_cancel_stops_a_running_job(
    fake: FakeTelegram, tmp_path: Path, random_weights_path: Path, backend: Backend
) -> None:
    config = backend(small_config(tmp_path, str(random_weights_path)))
    config = dataclasses.replace(config, defaults=dataclasses.replace(config.defaults, steps=900))
    async with telegram_bot(fake, config):
        carol = fake.user(2003, "Carol")
        chat = fake.private_chat(carol)
        mark = fake.mark()
        fake.send_album(chat, carol, [PHOTO, PAINTING])
        await fake.wait_for_call("editMessageMedia", since=mark, timeout=30)  # it is running
        fake.send_text(chat, carol, "/cancel")
        await fake.wait_for_call(
            "sendMessage", lambda c: "1 picture" in c.params["text"], since=mark
        )
        status = await fake.wait_for_call(
            "editMessageCaption", lambda c: "Cancelled" in c.params["caption"], since=mark
        )
        await asyncio.sleep(1.0)
        assert not fake.calls_to("sendPhoto", since=mark)[1:]  # no result after the status
        assert not fake.calls_to("editMessageMedia", since=fake.calls.index(status))


async def test_queue_full_and_positions(
    fake: FakeTelegram, tmp_path: Path, random_weights_path: Path
) -> None:
    config = small_config(tmp_path, str(random_weights_path))
    config = dataclasses.replace(
        config,
        pool=dataclasses.replace(config.pool, max_queue=2),
        defaults=dataclasses.replace(config.defaults, steps=400),
    )
    async with telegram_bot(fake, config) as bot:
        users = [fake.user(2100 + i, f"U{i}") for i in range(4)]
        chats = [fake.private_chat(u) for u in users]
        for user, chat in zip(users[:3], chats[:3], strict=True):
            mark = fake.mark()
            fake.send_album(chat, user, [PHOTO, PAINTING])
            await fake.wait_for_call(
                "sendPhoto", lambda c, ch=chat: c.chat_id == ch["id"], since=mark
            )
        assert bot.pool.stats().waiting == 2
        mark = fake.mark()
        fake.send_text(chats[2], users[2], "/queue")
        queue = await fake.wait_for_call("sendMessage", since=mark)
        assert "number 2 in line" in queue.params["text"]
        mark = fake.mark()
        fake.send_album(chats[3], users[3], [PHOTO, PAINTING])
        full = await fake.wait_for_call("sendMessage", since=mark)
        assert "queue is full (2 pictures waiting)" in full.params["text"]
        for user, chat in zip(users[:3], chats[:3], strict=True):
            fake.send_text(chat, user, "/cancel")


async def test_rerun_buttons_belong_to_the_requester(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    dan, eve = fake.user(2004, "Dan"), fake.user(2005, "Eve")
    chat = fake.group_chat(-100777, "Painters")
    mark = fake.mark()
    fake.send_text(chat, dan, "/stylize")
    prompt = await fake.wait_for_call("sendMessage", since=mark)
    prompt_id = fake.bot_messages(chat["id"])[-1]["message_id"]
    fake.send_album(chat, dan, [PHOTO, PAINTING], reply_to=prompt_id)
    result = await fake.wait_for_call("sendPhoto", done, since=mark, timeout=60)
    result_id = next(
        m["message_id"] for m in fake.bot_messages(chat["id"]) if "Done" in (m.get("caption") or "")
    )
    stronger = next(
        b["callback_data"]
        for row in result.params["reply_markup"]["inline_keyboard"]
        for b in row
        if b.get("callback_data", "").endswith(":stronger")
    )
    mark = fake.mark()
    fake.press_button(chat, eve, result_id, stronger)
    refusal = await fake.wait_for_call("answerCallbackQuery", since=mark)
    assert "belong to whoever asked" in refusal.params["text"] and refusal.params["show_alert"]
    fake.press_button(chat, dan, result_id, stronger)
    again = await fake.wait_for_call("sendPhoto", done, since=mark, timeout=60)
    assert "strength 6.5" in again.params["caption"]
    assert prompt is not None


async def test_rate_limits_are_honoured_and_results_survive_them(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    finn = fake.user(2006, "Finn")
    chat = fake.private_chat(finn)
    fake.fail_next("editMessageMedia", retry_after=1, times=2)
    fake.fail_next("sendPhoto", retry_after=1, times=1)  # the status message itself
    mark = fake.mark()
    fake.send_album(chat, finn, [PHOTO, PAINTING])
    refused = await fake.wait_for_call("sendPhoto", lambda c: c.status == 429, since=mark)
    status = await fake.wait_for_call("sendPhoto", lambda c: c.status == 200, since=mark)
    assert status.time - refused.time >= 0.9  # the status reply waited out retry_after
    await fake.wait_for_call("sendPhoto", done, since=mark, timeout=60)
    assert len([c for c in fake.calls_to("editMessageMedia", since=mark) if c.status == 429]) <= 2
    mark = fake.mark()
    fake.send_album(chat, finn, [PHOTO, PAINTING])
    await fake.wait_for_call("sendPhoto", lambda c: c.status == 200, since=mark)  # status
    fake.fail_next("sendPhoto", retry_after=1, times=1)  # now the final result is refused once
    result = await fake.wait_for_call(
        "sendPhoto", lambda c: c.status == 200 and done(c), since=mark, timeout=60
    )
    hit = [c for c in fake.calls_to("sendPhoto", since=mark) if c.status == 429]
    assert hit and result.time - hit[-1].time >= 0.9  # waited out retry_after, then delivered


async def test_a_flood_of_submissions_is_slowed_down(
    fake: FakeTelegram, tmp_path: Path, random_weights_path: Path
) -> None:
    config = small_config(tmp_path, str(random_weights_path))
    config = dataclasses.replace(
        config,
        limits=dataclasses.replace(config.limits, submissions_per_minute=2),
        pool=dataclasses.replace(config.pool, per_user_waiting=5, max_queue=10),
    )
    async with telegram_bot(fake, config) as bot:
        gil = fake.user(2007, "Gil")
        chat = fake.private_chat(gil)
        def answers(album: list[JSON]) -> Callable[[Call], bool]:
            ids = {m["message_id"] for m in album}
            return lambda c: c.params.get("reply_parameters", {}).get("message_id") in ids

        for _ in range(2):  # both accepted: each gets its own status reply
            album = fake.send_album(chat, gil, [PHOTO, PAINTING])
            await fake.wait_for_call("sendPhoto", answers(album))
        album = fake.send_album(chat, gil, [PHOTO, PAINTING])
        # Results of the first two jobs may arrive meanwhile; the refusal answers this album.
        answer = await fake.wait_for_call(("sendPhoto", "sendMessage"), answers(album))
        assert answer.method == "sendMessage"
        assert "faster than I can paint" in answer.params["text"]
        other = fake.user(2008, "Hana")  # everyone else is still served
        mark = fake.mark()
        fake.send_album(fake.private_chat(other), other, [PHOTO, PAINTING])
        await fake.wait_for_call("sendPhoto", since=mark)
        bot.pool.cancel_owner(Owner("telegram", str(gil["id"])))


async def test_stored_settings_are_rechecked_against_todays_limits(
    fake: FakeTelegram, tmp_path: Path, random_weights_path: Path
) -> None:
    """Settings saved under older, looser limits still give a result, within today's."""
    config = small_config(tmp_path, str(random_weights_path))
    config = dataclasses.replace(config, limits=dataclasses.replace(config.limits, max_steps=8,
                                                                    max_size=80))
    ivy = fake.user(2010, "Ivy")
    chat = fake.private_chat(ivy)
    async with telegram_bot(fake, config) as bot:
        await bot.store.update_user("telegram", ivy["id"], {"steps": 15000, "size": 4000})
        mark = fake.mark()
        fake.send_album(chat, ivy, [PHOTO, PAINTING])
        result = await fake.wait_for_call("sendPhoto", done, since=mark, timeout=60)
        assert "80px" in result.params["caption"] and "8 steps" in result.params["caption"]
