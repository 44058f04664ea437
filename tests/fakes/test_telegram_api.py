"""Self-test of the fake Telegram Bot API, driven by the real python-telegram-bot.

Why: bot tests trust the fake to behave like Telegram; these tests pin the behaviours they rely
on (long polling, uploads and downloads, edits, privacy mode, 429s, callback queries) by running
PTB's own Application and Bot against it.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.error import BadRequest, EndPointNotFound, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from tests.fakes.telegram_api import FakeTelegram

Context = ContextTypes.DEFAULT_TYPE
# PTB 22 builds RetryAfter.retry_after as a deprecated int unless PTB_TIMEDELTA=true is set.
IGNORE_RETRY_AFTER_DEPRECATION = pytest.mark.filterwarnings(
    "ignore::telegram.warnings.PTBDeprecationWarning"
)
ALICE_ID = 1001
BOB_ID = 1002


def make_png(width: int = 64, height: int = 48, tint: int = 0) -> bytes:
    """A small RGB gradient; ``tint`` makes distinct images."""
    ramp = Image.linear_gradient("L").resize((width, height))
    flat = Image.new("L", (width, height), tint)
    image = Image.merge("RGB", (ramp, ramp.transpose(Image.Transpose.FLIP_TOP_BOTTOM), flat))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@asynccontextmanager
async def polling_app(
    fake: FakeTelegram, *handlers: BaseHandler[Any, Any, Any]
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A real PTB Application long-polling the fake; always shut down in reverse order."""
    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    app.add_handlers(handlers)
    assert app.updater is not None
    async with AsyncExitStack() as stack:
        await app.initialize()
        stack.push_async_callback(app.shutdown)
        await app.start()
        stack.push_async_callback(app.stop)
        await app.updater.start_polling(poll_interval=0, timeout=1)
        stack.push_async_callback(app.updater.stop)
        yield app


@asynccontextmanager
async def plain_bot(fake: FakeTelegram, token: str | None = None) -> AsyncIterator[Bot]:
    """A PTB Bot without polling, for request/response checks."""
    bot = Bot(token or fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)
    async with bot:
        yield bot


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until a handler running in the Application has recorded its effect."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


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


async def test_parse_modes_produce_entities(tg: FakeTelegram) -> None:
    tg.private_chat(tg.user(ALICE_ID, "Alice"))
    async with plain_bot(tg) as bot:
        html = await bot.send_message(
            ALICE_ID, "<b>Done</b> in 3 s &amp; <a href='https://x.org'>more</a>", parse_mode="HTML"
        )
        markdown = await bot.send_message(ALICE_ID, r"*Style* 1\.5 \- try /stylize", "MarkdownV2")
        with pytest.raises(BadRequest, match='unsupported start tag "div"'):
            await bot.send_message(ALICE_ID, "<div>x</div>", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"character '\.' is reserved"):
            await bot.send_message(ALICE_ID, "v1.5", parse_mode="MarkdownV2")

    assert html.text == "Done in 3 s & more"
    assert [(e.type, e.offset, e.length) for e in html.entities] == [
        ("bold", 0, 4),
        ("text_link", 14, 4),
    ]
    assert markdown.text == "Style 1.5 - try /stylize"
    assert [(e.type, e.offset) for e in markdown.entities] == [("bold", 0), ("bot_command", 16)]
