"""One user in a private chat, through the real python-telegram-bot and a fake Bot API."""

from __future__ import annotations

import io

from PIL import Image

from bot.core.who import Who
from fakes.telegram import FakeTelegram
from tests.bot.harness import PAINTING, PHOTO, PNG_PHOTO, TelegramBot


def image_of(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


async def test_photo_then_painting_gives_live_status_and_a_result(
    tgbot_any: TelegramBot, fake: FakeTelegram
) -> None:
    tgbot = tgbot_any
    alice = fake.user(1001, "Alice", "alice")
    chat = fake.private_chat(alice)
    await tgbot.store.update_user("telegram", alice["id"], {"steps": 120})  # a few seconds
    first = fake.send_photo(chat, alice, PHOTO)
    ask = await fake.wait_for_call("sendMessage")
    assert "send your own painting" in ask.params["text"]  # or pick one from the gallery
    assert ask.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "The Starry Night"
    mark = fake.mark()
    second = fake.send_photo(chat, alice, PAINTING)
    status = await fake.wait_for_call("sendPhoto", since=mark)
    assert status.params["reply_parameters"]["message_id"] == second["message_id"]
    result = await fake.wait_for_call(
        "sendPhoto", lambda c: "Done" in c.params.get("caption", ""), since=mark + 1, timeout=60
    )
    assert result.params["reply_parameters"]["message_id"] == second["message_id"]
    assert image_of(result.files["photo"]).size == (64, 48)
    buttons = [
        b.get("callback_data", "") for row in result.params["reply_markup"]["inline_keyboard"]
        for b in row
    ]
    assert any(b.endswith(":stronger") for b in buttons)
    await fake.wait_for_call("deleteMessage", since=mark)
    edits = fake.calls_to(("editMessageMedia", "editMessageCaption"), since=mark)
    assert any(c.method == "editMessageMedia" for c in edits)  # a preview was shown
    assert first["message_id"] < second["message_id"]


async def result_for(fake: FakeTelegram, chat_id: int, since: int, timeout: float = 60):
    return await fake.wait_for_call(
        "sendPhoto",
        lambda c: c.chat_id == chat_id and "Done" in c.params.get("caption", ""),
        since=since,
        timeout=timeout,
    )


async def test_album_pairs_photo_and_painting(tgbot: TelegramBot, fake: FakeTelegram) -> None:
    bob = fake.user(1002, "Bob")
    chat = fake.private_chat(bob)
    mark = fake.mark()
    items = fake.send_album(chat, bob, [PHOTO, PAINTING])
    result = await result_for(fake, chat["id"], mark)
    assert result.params["reply_parameters"]["message_id"] == items[-1]["message_id"]


async def test_caption_overrides_album_order(tgbot: TelegramBot, fake: FakeTelegram) -> None:
    """'style' on the first item makes it the painting: the result has the photo's shape."""
    carol = fake.user(1003, "Carol")
    chat = fake.private_chat(carol)
    mark = fake.mark()
    fake.send_album(chat, carol, [PAINTING, PHOTO], caption="style")
    result = await result_for(fake, chat["id"], mark)
    assert image_of(result.files["photo"]).size == (64, 48)  # the 120x90 photo's aspect


async def test_image_documents_keep_working(tgbot: TelegramBot, fake: FakeTelegram) -> None:
    dan = fake.user(1004, "Dan")
    chat = fake.private_chat(dan)
    mark = fake.mark()
    fake.send_document(chat, dan, PNG_PHOTO, file_name="photo.png", mime_type="image/png")
    fake.send_document(chat, dan, PAINTING, file_name="art.jpg", mime_type="image/jpeg")
    result = await result_for(fake, chat["id"], mark)
    assert image_of(result.files["photo"]).size == (64, 51)


async def test_reply_with_a_painting_to_a_photo(tgbot: TelegramBot, fake: FakeTelegram) -> None:
    erin = fake.user(1005, "Erin")
    chat = fake.private_chat(erin)
    photo = fake.send_photo(chat, erin, PHOTO)
    await fake.wait_for_call("sendMessage")  # "pick a painting, or send your own"
    tgbot.core.pairs.forget(Who("telegram", str(erin["id"]), str(chat["id"]), False))
    mark = fake.mark()
    fake.send_photo(chat, erin, PAINTING, reply_to=photo["message_id"])
    result = await result_for(fake, chat["id"], mark)
    assert image_of(result.files["photo"]).size == (64, 48)


async def test_swap_exchanges_the_pending_roles(tgbot: TelegramBot, fake: FakeTelegram) -> None:
    finn = fake.user(1006, "Finn")
    chat = fake.private_chat(finn)
    fake.send_photo(chat, finn, PAINTING)
    await fake.wait_for_call("sendMessage", lambda c: "painting" in c.params["text"])
    mark = fake.mark()
    fake.send_text(chat, finn, "/swap")
    swapped = await fake.wait_for_call("sendMessage", since=mark)
    assert "Swapped" in swapped.params["text"] and "painting" in swapped.params["text"]
    mark = fake.mark()
    fake.send_photo(chat, finn, PHOTO)
    result = await result_for(fake, chat["id"], mark)
    assert image_of(result.files["photo"]).size == (64, 48)  # PHOTO ended up as the content


async def test_non_images_and_broken_images_are_explained(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    gus = fake.user(1007, "Gus")
    chat = fake.private_chat(gus)
    cases = [
        (lambda: fake.send_sticker(chat, gus), "Stickers can't be painted"),
        (lambda: fake.send_video(chat, gus), "not videos"),
        (lambda: fake.send_voice(chat, gus), "can't paint sounds"),
        (
            lambda: fake.send_document(
                chat, gus, b"%PDF-1.4 fake", file_name="cv.pdf", mime_type="application/pdf"
            ),
            "cv.pdf isn't a picture",
        ),
    ]
    for send, expected in cases:
        mark = fake.mark()
        send()
        answer = await fake.wait_for_call("sendMessage", since=mark)
        assert expected in answer.params["text"]
        tgbot.core._notices = type(tgbot.core._notices)(100, 30)  # not testing the guard
    mark = fake.mark()
    fake.send_document(
        chat, gus, PHOTO[: len(PHOTO) // 3], file_name="cut.jpg", mime_type="image/jpeg"
    )
    answer = await fake.wait_for_call("sendMessage", since=mark)
    assert "damaged or cut off" in answer.params["text"]
    mark = fake.mark()
    fake.send_document(chat, gus, b"GIF89a garbage", file_name="x.png", mime_type="image/png")
    answer = await fake.wait_for_call("sendMessage", since=mark)
    assert "not a picture I can read" in answer.params["text"]
    # ...and the bot keeps serving: a good pair still works.
    mark = fake.mark()
    fake.send_album(chat, gus, [PHOTO, PAINTING])
    await result_for(fake, chat["id"], mark)


async def test_oversized_documents_are_refused_before_download(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    hal = fake.user(1008, "Hal")
    chat = fake.private_chat(hal)
    mark = fake.mark()
    fake.send_document(
        chat, hal, PHOTO, file_name="huge.jpg", mime_type="image/jpeg", file_size=30 * 2**20
    )
    answer = await fake.wait_for_call("sendMessage", since=mark)
    assert "30.0 MB" in answer.params["text"] and "at most 20 MB" in answer.params["text"]
    assert not fake.calls_to("getFile", since=mark)


async def test_a_flood_of_junk_gets_a_few_answers(tgbot: TelegramBot, fake: FakeTelegram) -> None:
    ivy = fake.user(1009, "Ivy")
    chat = fake.private_chat(ivy)
    mark = fake.mark()
    for _ in range(20):
        fake.send_sticker(chat, ivy)
    await fake.wait_delivered()
    await fake.wait_for_call("sendMessage", since=mark)
    import asyncio

    await asyncio.sleep(0.3)
    assert len(fake.calls_to("sendMessage", since=mark)) == 3


async def test_real_weights_end_to_end(
    fake: FakeTelegram,
    tmp_path,
) -> None:
    """The trained VGG19 and AdaIN decoder, as shipped: default and fast presets."""
    from tests.bot.harness import small_config, telegram_bot

    config = small_config(tmp_path, "normalised")
    async with telegram_bot(fake, config):
        joy = fake.user(1100, "Joy")
        chat = fake.private_chat(joy)
        mark = fake.mark()
        fake.send_album(chat, joy, [PHOTO, PAINTING])
        result = await result_for(fake, chat["id"], mark)
        assert image_of(result.files["photo"]).size == (64, 48)
        mark = fake.mark()
        fake.send_text(chat, joy, "/weights preset fast")
        await fake.wait_for_call("sendMessage", since=mark)
        mark = fake.mark()
        fake.send_album(chat, joy, [PHOTO, PAINTING])
        fast = await result_for(fake, chat["id"], mark)
        assert "fast" in fast.params["caption"]


async def deliver_against(fake: FakeTelegram, refusals: list[tuple[str, int]]) -> int:
    """Send a pair, let Telegram refuse the result as given; the chat's id."""
    user = fake.user(1100 + len(refusals), "Rita")
    chat = fake.private_chat(user)
    mark = fake.mark()
    fake.send_album(chat, user, [PHOTO, PAINTING])
    await fake.wait_for_call("sendPhoto", since=mark)  # the status message
    for method, times in refusals:
        fake.refuse_next(method, "Bad Request: PHOTO_INVALID_DIMENSIONS", times=times)
    return chat["id"]


async def test_a_refused_photo_is_sent_as_jpeg(tgbot: TelegramBot, fake: FakeTelegram) -> None:
    chat_id = await deliver_against(fake, [("sendPhoto", 1)])
    result = await fake.wait_for_call(
        "sendPhoto", lambda c: c.chat_id == chat_id and c.status == 200
        and "Done" in c.params.get("caption", ""), timeout=60)
    assert result.files["photo"].startswith(b"\xff\xd8")  # the JPEG rung
    await fake.wait_for_call("deleteMessage", lambda c: c.chat_id == chat_id)


async def test_a_twice_refused_photo_is_sent_as_a_file(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    chat_id = await deliver_against(fake, [("sendPhoto", 2)])
    document = await fake.wait_for_call(
        "sendDocument", lambda c: c.chat_id == chat_id and "Done" in c.params["caption"],
        timeout=60)
    assert document.files["document"].startswith(b"\x89PNG")
    assert document.params["reply_markup"]["inline_keyboard"]  # re-run buttons too


async def test_a_result_refused_in_every_form_still_gets_an_answer(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    chat_id = await deliver_against(fake, [("sendPhoto", 2), ("sendDocument", 1)])
    note = await fake.wait_for_call(
        "editMessageCaption",
        lambda c: c.chat_id == chat_id and "finished" in c.params.get("caption", ""),
        timeout=60)
    assert "would not accept it" in note.params["caption"]


async def test_a_file_without_a_stated_size_is_capped_by_the_bytes_received(
    fake: FakeTelegram, tmp_path, random_weights_path
) -> None:
    """Telegram's file_size is optional: the cap counts what actually arrives, and
    nothing over it is decoded."""
    import dataclasses
    import os

    from tests.bot.harness import small_config, telegram_bot

    config = small_config(tmp_path, str(random_weights_path))
    config = dataclasses.replace(config, limits=dataclasses.replace(config.limits,
                                                                    max_upload_mb=1.0))
    async with telegram_bot(fake, config) as bot:
        kim = fake.user(1020, "Kim")
        chat = fake.private_chat(kim)
        mark = fake.mark()
        fake.send_document(chat, kim, os.urandom(3 * 2**20), file_name="big.png",
                           mime_type="image/png", hide_file_size=True)
        answer = await fake.wait_for_call("sendMessage", since=mark)
        assert "is over 1.0 MB" in answer.params["text"]
        assert bot.core.metrics.snapshot().refusals == {"too_large": 1}  # never decoded


async def test_uploads_over_the_budget_are_not_even_downloaded(
    fake: FakeTelegram, tmp_path, random_weights_path
) -> None:
    """A flood of pictures costs the bot no downloads or decodes past the budget, and an
    album is only downloaded as far as it is used (two pictures)."""
    import asyncio
    import dataclasses

    from tests.bot.harness import small_config, telegram_bot

    config = small_config(tmp_path, str(random_weights_path))
    config = dataclasses.replace(config, limits=dataclasses.replace(
        config.limits, submissions_per_minute=2))
    budget = 2 * 2 + 2  # pictures per minute: a pair per submission, and two spare
    async with telegram_bot(fake, config):
        lou = fake.user(1021, "Lou")
        chat = fake.private_chat(lou)
        fake.send_album(chat, lou, [PHOTO, PAINTING, PHOTO, PAINTING, PHOTO])
        await fake.wait_for_call("sendMessage", lambda c: "first two" in c.params["text"])
        assert len(fake.downloads) == 2
        for _ in range(12):
            fake.send_photo(chat, lou, PHOTO)
        await fake.wait_delivered()
        await fake.wait_for_call("sendMessage", lambda c: "faster than I can paint" in
                                 c.params["text"], timeout=30)
        await asyncio.sleep(1.0)
        assert len(fake.downloads) == budget
