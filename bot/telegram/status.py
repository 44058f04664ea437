"""One status message per job: a photo whose caption and picture are edited in place,
then the result posted as a reply to the user's message."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from PIL import Image
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    ReplyParameters,
)
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from ..core.jobdesk import JobStart, done_text, rerun_id, warning
from ..core.jobs import Failed, Finished, Progressed, Shown, failure_text
from ..core.status import (
    CANCELLED,
    FULL_RESOLUTION,
    RateLimited,
    SendingBudget,
    Undeliverable,
    Unreachable,
    status_text,
)
from ..i18n import Speech, _, render

log = logging.getLogger("stylebot.telegram")
T = TypeVar("T")

#: Telegram shows photos at most this large and recompresses them; bigger results are
#: also sent as a document, which keeps every pixel
PHOTO_MAX_SIDE = 1280
#: what sendPhoto accepts (Bot API): at most 10 MB, width + height ≤ 10000, ratio ≤ 20
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDES_SUM = 10000


def retry_seconds(exc: RetryAfter) -> float:
    """PTB 22 gives an int or a timedelta (``bot.telegram.app`` silences its warning)."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@contextlib.asynccontextmanager
async def telegram_call() -> AsyncIterator[None]:
    """Turn Telegram's flood answer into the core's RateLimited and a blocked chat into
    Unreachable; ignore no-op edits."""
    try:
        yield
    except RetryAfter as exc:
        raise RateLimited(retry_seconds(exc)) from exc
    except Forbidden as exc:
        raise Unreachable(exc.message) from exc
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


def photo_jpeg(png: bytes) -> bytes:
    """The result as a JPEG that sendPhoto accepts: RGB, sides summing to at most 10000,
    under 10 MB (Telegram re-encodes photos anyway)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if image.width + image.height > PHOTO_MAX_SIDES_SUM:
        scale = PHOTO_MAX_SIDES_SUM / (image.width + image.height)
        image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))),
                             Image.Resampling.LANCZOS)
    for quality in (90, 80, 70):
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=quality)
        if buf.tell() <= PHOTO_MAX_BYTES:
            break
    return buf.getvalue()


async def patiently(call: Callable[[], Awaitable[T]], *,
                    on_wait: Callable[[], None] = lambda: None, attempts: int = 4) -> T:
    """Send something that must arrive (the first status reply): wait out 429s, each
    reported to ``on_wait`` (the metrics)."""
    for _attempt in range(attempts - 1):
        try:
            return await call()
        except RetryAfter as exc:
            on_wait()
            await asyncio.sleep(retry_seconds(exc))
    return await call()


SHARE = _("↗️ Share")


def result_buttons(start: JobStart, *, share: bool) -> InlineKeyboardMarkup:
    """The re-runs, three a row, and (with inline mode on) Share: Telegram's chat picker,
    then inline mode lists the user's results there."""
    buttons = [InlineKeyboardButton(render(label, start.language),
                                    callback_data=rerun_id(start.token, change))
               for change, label in start.reruns]
    rows = [buttons[i:i + 3] for i in range(0, len(buttons), 3)]
    if share:
        rows.append([InlineKeyboardButton(render(SHARE, start.language),
                                          switch_inline_query="")])
    return InlineKeyboardMarkup(rows)


class TelegramStatusView:
    """One status message per job: a photo whose caption and picture are edited in place,
    in the requester's language; then the result, replying to their message."""

    def __init__(self, bot: Bot, chat_id: int, message_id: int, sending: SendingBudget,
                 start: JobStart, *, reply_to: int, caption: str | None = None,
                 on_posted: Callable[[str, str], Awaitable[None]] | None = None) -> None:
        self.bot = bot
        self.on_posted = on_posted  # (token, file_id): the result, kept for sharing
        self.chat_id = chat_id
        self.message_id = message_id  # the status message
        self.sending = sending  # the chat's budget, shared with every other job there
        self.start = start
        self.reply_to = reply_to
        self._result_sent = False
        self._document_sent = False
        self._way = 0  # how far down photo → JPEG → document the result has had to go
        self._caption = caption  # an unchanged caption is not sent again

    def record(self) -> dict[str, Any]:
        """What a later bot process needs to take this status over (``restore``)."""
        return {"chat_id": self.chat_id, "message_id": self.message_id,
                "reply_to": self.reply_to}

    @classmethod
    def restore(cls, bot: Bot, sending: SendingBudget, start: JobStart,
                saved: dict[str, Any]) -> TelegramStatusView:
        return cls(bot, int(saved["chat_id"]), int(saved["message_id"]), sending, start,
                   reply_to=int(saved["reply_to"]))

    def say(self, speech: Speech) -> str:
        return render(speech, self.start.language)

    async def show(self, event: Shown) -> None:
        caption = self.say(status_text(event))
        preview = event.preview_jpeg if isinstance(event, Progressed) else None
        if preview is None and caption == self._caption:
            return  # it would cost a message from the chat's budget to change nothing
        async with self.sending, telegram_call():
            if preview is not None:
                await self.bot.edit_message_media(
                    chat_id=self.chat_id, message_id=self.message_id,
                    media=InputMediaPhoto(preview, caption=caption))
            else:
                await self.bot.edit_message_caption(
                    chat_id=self.chat_id, message_id=self.message_id, caption=caption)
        self._caption = caption

    async def finished(self, event: Finished) -> None:
        reply = ReplyParameters(message_id=self.reply_to, allow_sending_without_reply=True)
        if not self._result_sent:  # a retry after a 429 must not post the result twice
            await self._send_result(event, reply)
            self._result_sent = True
        if max(event.width, event.height) > PHOTO_MAX_SIDE and not self._document_sent:
            try:
                async with self.sending, telegram_call():
                    await self.bot.send_document(
                        self.chat_id, event.png, reply_parameters=reply,
                        filename=f"stylebot-{event.width}x{event.height}.png",
                        caption=self.say(FULL_RESOLUTION))
            except BadRequest:  # the photo arrived; the full-size copy is a bonus
                log.warning("telegram refused the full-resolution file", exc_info=True,
                            extra={"chat": self.chat_id})
            self._document_sent = True
        await self._remove_status()

    async def _send_result(self, event: Finished, reply: ReplyParameters) -> None:
        """Photo, else a JPEG photo within Telegram's photo limits, else a file: Telegram
        refuses some photos (dimensions, size) that it takes as JPEGs or documents."""
        caption = self.say(done_text(self.start, event))
        buttons = result_buttons(self.start, share=self.bot.supports_inline_queries)
        ways = ("photo", "jpeg", "document")
        while self._way < len(ways):
            way = ways[self._way]
            try:
                sent = await self._send_as(way, event, caption, reply, buttons)
            except BadRequest as exc:
                log.warning("telegram refused the result; trying another way", extra={
                    "chat": self.chat_id, "way": way, "error": exc.message})
            else:
                if sent is not None:
                    await self._keep_for_sharing(sent)
                    return
            self._way += 1
        raise Undeliverable("photo, JPEG and document were all refused")

    async def _send_as(self, way: str, event: Finished, caption: str, reply: ReplyParameters,
                       buttons: InlineKeyboardMarkup) -> Message | None:
        """The result sent one ``way``; None where that way cannot apply (a PNG over the
        photo limit)."""
        if way == "photo" and len(event.png) > PHOTO_MAX_BYTES:
            return None
        async with self.sending, telegram_call():
            if way == "photo":
                return await self.bot.send_photo(self.chat_id, event.png, caption=caption,
                                                 reply_parameters=reply, reply_markup=buttons)
            if way == "jpeg":
                return await self.bot.send_photo(
                    self.chat_id, await asyncio.to_thread(photo_jpeg, event.png),
                    caption=caption, reply_parameters=reply, reply_markup=buttons)
            return await self.bot.send_document(
                self.chat_id, event.png, caption=caption, reply_parameters=reply,
                filename=f"stylebot-{event.width}x{event.height}.png", reply_markup=buttons)

    async def _keep_for_sharing(self, sent: Message) -> None:
        """Inline mode lists the user's results by Telegram's own copy: no re-upload. A
        result that arrived is never sent again for this to fail."""
        if self.on_posted is None or not sent.photo:
            return
        try:
            await self.on_posted(self.start.token, sent.photo[-1].file_id)
        except Exception:
            log.warning("could not keep a result for sharing", exc_info=True,
                        extra={"chat": self.chat_id})

    async def failed(self, event: Failed) -> None:
        await self._replace_status(self.say(warning(failure_text(event))))

    async def cancelled(self) -> None:
        await self._replace_status(self.say(CANCELLED))

    async def _replace_status(self, text: str) -> None:
        async with self.sending, telegram_call():
            try:
                await self.bot.edit_message_caption(
                    chat_id=self.chat_id, message_id=self.message_id, caption=text)
            except BadRequest:  # the status message is gone: say it in a new one
                await self.bot.send_message(
                    self.chat_id, text, reply_parameters=ReplyParameters(
                        message_id=self.reply_to, allow_sending_without_reply=True))

    async def _remove_status(self) -> None:
        try:
            async with self.sending:
                await self.bot.delete_message(self.chat_id, self.message_id)
        except TelegramError:
            log.info("could not delete a status message", extra={"chat": self.chat_id})
