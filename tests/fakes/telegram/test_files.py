"""Photos and documents: stored as Telegram would (JPEG renditions, thumbnails), downloadable,
and echoed back by the bot byte for byte."""

from __future__ import annotations

from telegram import InputMediaPhoto, Update
from telegram.ext import MessageHandler, filters

from fakes.telegram import FakeTelegram
from tests.fakes.telegram.conftest import (
    ALICE_ID,
    Context,
    image_size,
    make_png,
    plain_bot,
    polling_app,
)


async def test_photo_download_reply_and_edit_media(tg: FakeTelegram) -> None:
    replacement = make_png(40, 30, tint=200)
    downloaded: list[bytes] = []

    async def on_photo(update: Update, _: Context) -> None:
        assert update.message is not None
        file = await update.message.photo[-1].get_file()
        downloaded.append(bytes(await file.download_as_bytearray()))
        sent = await update.message.reply_photo(photo=downloaded[-1], caption="styled")
        await sent.edit_media(InputMediaPhoto(media=replacement, caption="final"))

    alice = tg.user(ALICE_ID, "Alice")
    chat = tg.private_chat(alice)
    async with polling_app(tg, MessageHandler(filters.PHOTO, on_photo)):
        since = tg.mark()
        user_message = tg.send_photo(chat, alice, make_png())
        upload = await tg.wait_for_call("sendPhoto", since=since, timeout=5)
        edit = await tg.wait_for_call("editMessageMedia", since=since, timeout=5)

    assert [(s["width"], s["height"]) for s in user_message["photo"]] == [(64, 48)]
    assert downloaded[0].startswith(b"\xff\xd8")  # Telegram serves photos as JPEG
    assert image_size(upload.files["photo"]) == (64, 48)
    assert upload.files["photo"] == downloaded[0]
    assert upload.params["caption"] == "styled"
    assert edit.status == 200
    assert edit.params["media"]["type"] == "photo"
    assert edit.params["media"]["media"].startswith("attach://")
    [message] = tg.bot_messages(ALICE_ID)
    assert (message["edits"], message["media_kind"], message["caption"]) == (1, "photo", "final")
    assert message["media"] == replacement
    assert message["history"][0]["media"] == downloaded[0]
    assert message["history"][0]["caption"] == "styled"


async def test_photo_sizes_are_downloadable(tg: FakeTelegram) -> None:
    alice = tg.user(ALICE_ID, "Alice")
    chat = tg.private_chat(alice)
    message = tg.send_photo(chat, alice, make_png(1000, 750), caption="/stylize")
    corrupt = tg.send_photo(chat, alice, b"definitely not an image")

    long_sides = [max(s["width"], s["height"]) for s in message["photo"]]
    assert long_sides == [90, 320, 800, 1000]
    assert message["caption_entities"][0]["type"] == "bot_command"
    async with plain_bot(tg) as bot:
        for size in message["photo"]:
            file = await bot.get_file(size["file_id"])
            assert file.file_path is not None and "/photos/" in file.file_path
            data = bytes(await file.download_as_bytearray())
            assert image_size(data) == (size["width"], size["height"])
            assert len(data) == size["file_size"]
        raw = await (await bot.get_file(corrupt["photo"][-1]["file_id"])).download_as_bytearray()
    assert bytes(raw) == b"definitely not an image"


async def test_document_is_downloadable_and_echoed(tg: FakeTelegram) -> None:
    original = make_png(30, 20, tint=90)
    received: list[bytes] = []

    async def on_document(update: Update, _: Context) -> None:
        assert update.message is not None and update.message.document is not None
        file = await update.message.document.get_file()
        received.append(bytes(await file.download_as_bytearray()))
        await update.message.reply_document(document=received[-1], filename="echo.png")

    alice = tg.user(ALICE_ID, "Alice")
    chat = tg.private_chat(alice)
    async with polling_app(tg, MessageHandler(filters.Document.IMAGE, on_document)):
        since = tg.mark()
        sent = tg.send_document(chat, alice, original, file_name="cat.png", mime_type="image/png")
        upload = await tg.wait_for_call("sendDocument", since=since, timeout=5)

    assert sent["document"]["file_name"] == "cat.png"
    assert sent["document"]["thumbnail"]["width"] == 30
    assert received == [original]  # documents are served byte for byte
    assert upload.files["document"] == original
    [message] = tg.bot_messages(ALICE_ID)
    assert (message["media_kind"], message["file_name"]) == ("document", "echo.png")
    assert message["media"] == original
    assert message["reply_to_message_id"] is None
