"""The gallery on Telegram: a lone photo → painting buttons → a pick → the result; only
the sender picks in groups; /styles as an album; pages for larger galleries."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from bot.config import GalleryConfig
from bot.core.gallery import BUILTIN
from fakes.telegram import Call, FakeTelegram
from tests.bot.harness import PAINTING, PHOTO, TelegramBot, small_config, telegram_bot


def done(call: Call) -> bool:
    return "Done" in call.params.get("caption", "")


def buttons(call: Call) -> dict[str, str]:
    """A sent keyboard as {text: callback_data}."""
    return {b["text"]: b.get("callback_data", "") for row in
            call.params["reply_markup"]["inline_keyboard"] for b in row}


def bot_message_id(fake: FakeTelegram, chat: dict, text: str) -> int:
    return next(m["message_id"] for m in reversed(fake.bot_messages(chat["id"]))
                if m.get("text") == text)


async def test_a_lone_photo_gets_the_gallery_and_a_pick_paints_it(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    alice = fake.user(4001, "Alice")
    chat = fake.private_chat(alice)
    photo = fake.send_photo(chat, alice, PHOTO)
    offer = await fake.wait_for_call("sendMessage")
    assert "Pick a painting below — or send your own painting" in offer.params["text"]
    assert offer.params["reply_parameters"]["message_id"] == photo["message_id"]
    choices = buttons(offer)
    assert list(choices)[:2] == ["The Starry Night", "The Scream"] and len(choices) == 8
    mark = fake.mark()
    fake.press_button(chat, alice, bot_message_id(fake, chat, offer.params["text"]),
                      choices["The Great Wave off Kanagawa"])
    answer = await fake.wait_for_call("answerCallbackQuery", since=mark)
    assert "like The Great Wave off Kanagawa" in answer.params["text"]
    assert not answer.params.get("show_alert")
    result = await fake.wait_for_call("sendPhoto", done, since=mark, timeout=60)
    assert "🎨 The Great Wave off Kanagawa — Katsushika Hokusai, c. 1831" in \
        result.params["caption"]
    assert result.params["reply_parameters"]["message_id"] == photo["message_id"]
    # The photo had its painting: the next picture starts a new pair, as before.
    mark = fake.mark()
    fake.send_photo(chat, alice, PHOTO)
    await fake.wait_for_call("sendMessage", lambda c: "Pick a painting" in c.params["text"],
                             since=mark)
    fake.send_photo(chat, alice, PAINTING)  # the second picture still pairs with it
    second = await fake.wait_for_call("sendPhoto", done, since=mark, timeout=60)
    assert "🎨" not in second.params["caption"]  # their own painting: nothing to credit


async def test_in_a_group_the_gallery_is_the_senders(tgbot: TelegramBot,
                                                   fake: FakeTelegram) -> None:
    group = fake.group_chat(-100601, "Painters")
    dan, eve = fake.user(4002, "Dan", "dan"), fake.user(4003, "Eve", "eve")
    mark = fake.mark()
    fake.send_text(group, dan, "/stylize")
    prompt = await fake.wait_for_call("sendMessage", since=mark)
    fake.send_photo(group, dan, PHOTO, reply_to=bot_message_id(fake, group,
                                                              prompt.params["text"]))
    offer = await fake.wait_for_call("sendMessage", lambda c: "Pick a painting" in
                                     c.params["text"], since=mark)
    assert offer.params["text"].startswith("@dan:")
    offer_id = bot_message_id(fake, group, offer.params["text"])
    pick = buttons(offer)["Udnie"]
    mark = fake.mark()
    fake.press_button(group, eve, offer_id, pick)
    refusal = await fake.wait_for_call("answerCallbackQuery", since=mark)
    assert "belong to whoever asked" in refusal.params["text"] and refusal.params["show_alert"]
    fake.press_button(group, dan, offer_id, pick)
    result = await fake.wait_for_call("sendPhoto", done, since=mark, timeout=60)
    assert "Done for @dan" in result.params["caption"] and "Udnie" in result.params["caption"]


async def test_styles_shows_the_gallery_as_a_numbered_album(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    finn = fake.user(4004, "Finn")
    chat = fake.private_chat(finn)
    fake.send_text(chat, finn, "/styles")
    album = await fake.wait_for_call("sendMediaGroup")
    captions = [item["caption"] for item in album.params["media"]]
    assert captions[0] == "1. The Starry Night — Vincent van Gogh, 1889" and len(captions) == 8
    assert len(album.files) == 8  # thumbnails uploaded the first time...
    hint = await fake.wait_for_call("sendMessage")
    assert "pick one of these paintings" in hint.params["text"]
    mark = fake.mark()
    fake.send_text(chat, finn, "/styles")
    again = await fake.wait_for_call("sendMediaGroup", since=mark)
    assert not again.files  # ...then sent by Telegram's file_id


async def test_a_larger_gallery_pages(
    fake: FakeTelegram, tmp_path: Path, random_weights_path: Path
) -> None:
    own = tmp_path / "own"
    own.mkdir()
    shutil.copy(BUILTIN / "wave.jpg", own / "sea.jpg")
    (own / "gallery.toml").write_text("".join(
        f'[[painting]]\nkey = "sea{n}"\nfile = "sea.jpg"\ntitle = "Sea {n}"\nartist = "Me"\n'
        for n in range(3)))
    config = dataclasses.replace(small_config(tmp_path, str(random_weights_path)),
                                 gallery=GalleryConfig(folder=own))
    async with telegram_bot(fake, config):
        gil = fake.user(4005, "Gil")
        chat = fake.private_chat(gil)
        fake.send_photo(chat, gil, PHOTO)
        offer = await fake.wait_for_call("sendMessage")
        first = buttons(offer)
        assert len(first) == 8 + 3 and "1/2" in first and "Sea 0" not in first
        mark = fake.mark()
        fake.press_button(chat, gil, bot_message_id(fake, chat, offer.params["text"]),
                          first["▶"])
        turned = await fake.wait_for_call("editMessageReplyMarkup", since=mark)
        second = buttons(turned)
        assert {"Sea 0", "Sea 1", "Sea 2", "2/2"} <= set(second)
        mark = fake.mark()
        fake.press_button(chat, gil, bot_message_id(fake, chat, offer.params["text"]),
                          second["Sea 2"])
        result = await fake.wait_for_call("sendPhoto", done, since=mark, timeout=60)
        assert "Sea 2 — Me" in result.params["caption"]
