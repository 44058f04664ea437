"""Buttons that survive: re-runs after a restart, a clear note once expired, Other
painting, Full quality, Bigger; sharing a result in one tap through inline mode."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fakes.telegram import Call, FakeTelegram
from tests.bot.harness import PAINTING, PHOTO, TelegramBot, small_config, telegram_bot


def done(call: Call) -> bool:
    return call.status == 200 and "Done" in call.params.get("caption", "")


def buttons(call: Call) -> dict[str, str]:
    return {b["text"]: b.get("callback_data", "") for row in
            call.params["reply_markup"]["inline_keyboard"] for b in row}


async def a_result(fake: FakeTelegram, chat: dict, user: dict) -> Call:
    mark = fake.mark()
    fake.send_album(chat, user, [PHOTO, PAINTING])
    return await fake.wait_for_call("sendPhoto", done, since=mark, timeout=60)


async def test_rerun_buttons_work_after_a_restart_and_expire_with_a_note(
    fake: FakeTelegram, tmp_path: Path, random_weights_path: Path
) -> None:
    config = small_config(tmp_path, str(random_weights_path))
    hana = fake.user(5001, "Hana")
    chat = fake.private_chat(hana)
    async with telegram_bot(fake, config):
        first = await a_result(fake, chat, hana)
        older = await a_result(fake, chat, hana)
    stronger = buttons(first)["💪 Stronger"]
    expired = buttons(older)["🪶 Weaker"].split(":")[1]
    kept = config.database.with_suffix(".results") / expired / "job.json"
    meta = json.loads(kept.read_text())
    kept.write_text(json.dumps({**meta, "created": time.time() - 5 * 86400}))
    async with telegram_bot(fake, config):  # a new process: nothing in memory
        mark = fake.mark()
        fake.press_button(chat, hana, _message_with(fake, chat, first), stronger)
        again = await fake.wait_for_call("sendPhoto", done, since=mark, timeout=60)
        assert "strength 6.5" in again.params["caption"]
        mark = fake.mark()
        fake.press_button(chat, hana, _message_with(fake, chat, older),
                          buttons(older)["🪶 Weaker"])
        note = await fake.wait_for_call("answerCallbackQuery", since=mark)
        assert note.params["show_alert"] and "too old to re-run" in note.params["text"]


def _message_with(fake: FakeTelegram, chat: dict, result: Call) -> int:
    """The bot message that carries ``result``'s keyboard."""
    return next(m["message_id"] for m in fake.bot_messages(chat["id"])
                if m.get("reply_markup") == result.params["reply_markup"])


async def test_other_painting_full_quality_and_bigger(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    ivy = fake.user(5002, "Ivy")
    chat = fake.private_chat(ivy)
    await tgbot.store.update_user("telegram", ivy["id"], {"preset": "fast"})
    fast = await a_result(fake, chat, ivy)
    offered = buttons(fast)
    assert {"✨ Full quality", "🔍 Bigger", "🖼 Other painting"} <= set(offered)
    assert "↗️ Share" not in offered  # the bot's inline mode is off: sharing could not work
    mark = fake.mark()
    fake.press_button(chat, ivy, _message_with(fake, chat, fast), offered["✨ Full quality"])
    full = await fake.wait_for_call("sendPhoto", done, since=mark, timeout=60)
    assert full.params["caption"].split("· ", 1)[1].startswith("default · strength 5 · 64px")
    assert "✨ Full quality" not in buttons(full)  # nothing left to make fuller
    mark = fake.mark()
    fake.press_button(chat, ivy, _message_with(fake, chat, full), buttons(full)["🔍 Bigger"])
    bigger = await fake.wait_for_call("sendPhoto", done, since=mark, timeout=60)
    assert "256px" in bigger.params["caption"]  # the next size, within max_size 256
    assert "🔍 Bigger" not in buttons(bigger)
    mark = fake.mark()
    fake.press_button(chat, ivy, _message_with(fake, chat, bigger),
                      buttons(bigger)["🖼 Other painting"])
    gallery = await fake.wait_for_call("sendMessage", since=mark)
    assert "Pick another painting for this photo" in gallery.params["text"]
    pick = next(m["message_id"] for m in reversed(fake.bot_messages(chat["id"]))
                if m.get("text") == gallery.params["text"])
    fake.press_button(chat, ivy, pick, buttons(gallery)["The Scream"])
    other = await fake.wait_for_call("sendPhoto", done, since=mark, timeout=60)
    assert "The Scream — Edvard Munch" in other.params["caption"]
    assert "256px" in other.params["caption"]  # the result's settings, another painting


async def test_share_lists_only_the_askers_results_by_file_id(
    tmp_path: Path, random_weights_path: Path
) -> None:
    async with (FakeTelegram(inline_mode=True) as fake,  # switched on with @BotFather
                telegram_bot(fake, small_config(tmp_path, str(random_weights_path)))):
        await share_in_one_tap(fake)


async def share_in_one_tap(fake: FakeTelegram) -> None:
    jon, kim = fake.user(5003, "Jon"), fake.user(5004, "Kim")
    jon_chat, kim_chat = fake.private_chat(jon), fake.private_chat(kim)
    mark = fake.mark()
    fake.send_photo(jon_chat, jon, PHOTO)
    offer = await fake.wait_for_call("sendMessage", since=mark)
    fake.press_button(jon_chat, jon, next(
        m["message_id"] for m in fake.bot_messages(jon_chat["id"])
        if m.get("text") == offer.params["text"]), buttons(offer)["The Starry Night"])
    jons = await fake.wait_for_call("sendPhoto", done, since=mark, timeout=60)
    await a_result(fake, kim_chat, kim)
    message = _message_with(fake, jon_chat, jons)
    assert any(b.get("switch_inline_query") == "" for row in
               jons.params["reply_markup"]["inline_keyboard"] for b in row)
    mark = fake.mark()
    query = fake.press_switch_inline(jon_chat, jon, message)
    answer = await fake.wait_for_call("answerInlineQuery", since=mark)
    assert answer.status == 200 and answer.params["is_personal"]
    [listed] = answer.params["results"]
    posted = next(m for m in fake.bot_messages(jon_chat["id"]) if m["message_id"] == message)
    assert listed["type"] == "photo" and listed["photo_file_id"] == posted["file_id"]
    assert listed["caption"] == ("🎨 In the style of The Starry Night — Vincent van Gogh, "
                                 "1889 · painted by @StylebotTestBot")
    group = fake.group_chat(-100602, "Friends")
    shared = fake.choose_inline_result(jon, group, query, listed["id"])
    assert shared["via_bot"]["id"] == fake.bot_id  # posted there, nothing uploaded again
    assert shared["photo"][-1]["file_id"] == posted["file_id"]
    mark = fake.mark()
    fake.inline_query(kim, "starry")  # Kim's own result used her own painting: no match
    assert (await fake.wait_for_call("answerInlineQuery", since=mark)).params["results"] == []
    mark = fake.mark()
    fake.inline_query(kim)
    [hers] = (await fake.wait_for_call("answerInlineQuery", since=mark)).params["results"]
    assert hers["id"] != listed["id"] and hers["caption"] == "🎨 Painted by @StylebotTestBot"
