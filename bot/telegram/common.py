"""What every Telegram handler needs: the core, who is talking, answering within the
chat's budget in the user's language, and the status message of a job."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from telegram import CallbackQuery, Chat, Message, ReplyParameters, User
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from ..config import TelegramConfig
from ..core.jobdesk import JobStart, ViewFactory, warning
from ..core.keyed import KeyedLocks
from ..core.service import Stylebot
from ..core.who import Who
from ..i18n import Speech, _, render
from .status import TelegramStatusView, patiently

log = logging.getLogger("stylebot.telegram")
PLATFORM = "telegram"
T = TypeVar("T")


@dataclass
class TelegramState:
    """Per-application state kept in ``bot_data``."""

    core: Stylebot
    config: TelegramConfig
    #: for downloads with a byte cap (python-telegram-bot's own reads whole files)
    downloads: httpx.AsyncClient
    #: per (platform, chat, user): keeps a user's pictures and commands in sending order
    locks: KeyedLocks[tuple[str, str, str]]
    #: the gallery's thumbnails as Telegram keeps them (file_id by key): /styles uploads
    #: them once
    gallery_photos: dict[str, str] = field(default_factory=dict)


def state(context: ContextTypes.DEFAULT_TYPE) -> TelegramState:
    return context.bot_data["stylebot"]


def is_group(chat: Chat) -> bool:
    return chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


def mention(user: User) -> str:
    return f"@{user.username}" if user.username else user.first_name


def who_of(user: User, chat: Chat) -> Who:
    group = is_group(chat)
    return Who(PLATFORM, str(user.id), str(chat.id), group, locale=user.language_code,
               mention=mention(user) if group else "", community=str(chat.id) if group else "")


def asker(user: User) -> Who:
    """Who typed an inline query (there is no chat yet: their private one stands in)."""
    return Who(PLATFORM, str(user.id), str(user.id), False, locale=user.language_code)


def sender(message: Message) -> Who:
    """Who sent ``message`` (a handler's first line: messages without a sender are
    channel posts, which the bot ignores)."""
    assert message.from_user is not None
    return who_of(message.from_user, message.chat)


def throttled(context: ContextTypes.DEFAULT_TYPE) -> Callable[[], None]:
    """Counts a 429 from Telegram in the metrics."""
    return lambda: state(context).core.metrics.throttled(PLATFORM)


async def reply(context: ContextTypes.DEFAULT_TYPE, message: Message, speech: Speech, *,
                who: Who | None = None, **kwargs: Any) -> Message | None:
    """Answer ``message`` in its sender's language (or ``who``'s), within the chat's
    budget, waiting out 429s; other refusals from Telegram (the user blocked the bot, the
    chat is gone) are logged, not raised."""
    who = who or sender(message)
    core = state(context).core
    text = await core.say(who, speech)
    try:
        async with core.sending(who):
            return await patiently(lambda: message.reply_text(
                text, reply_parameters=ReplyParameters(message.message_id,
                                                       allow_sending_without_reply=True),
                **kwargs), on_wait=throttled(context))
    except TelegramError:
        log.warning("could not reply", exc_info=True, extra={"chat": message.chat_id})
        return None


async def notice(context: ContextTypes.DEFAULT_TYPE, message: Message, speech: Speech) -> None:
    """Explain a refusal, but only a few times per user per half minute (flood guard)."""
    if state(context).core.notice_allowed(sender(message)):
        await reply(context, message, speech)


def status_view(context: ContextTypes.DEFAULT_TYPE, message: Message) -> ViewFactory:
    """A job's status: a photo replying to ``message`` (or to the job's ``reply_to``),
    edited with progress and previews, then the result."""

    async def make(start: JobStart) -> TelegramStatusView:
        reply_to = start.reply_to or message.message_id
        budget = state(context).core.sending(start.who)
        async with budget:
            status = await patiently(lambda: message.reply_photo(
                start.thumbnail, caption=render(start.first, start.language),
                reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True)),
                on_wait=throttled(context))
        return TelegramStatusView(context.bot, status.chat_id, status.message_id, budget, start,
                                  reply_to=reply_to, caption=status.caption,
                                  on_posted=state(context).core.posted)

    return make


async def submission(action: Awaitable[T]) -> T | Speech:
    """Await a core action that may start a job: its answer, or, when Telegram refused
    the status message, what to tell the user."""
    try:
        return await action
    except TelegramError:
        log.warning("could not post a status message", exc_info=True)
        return warning(_("Telegram didn't let me answer just now. Please send the pictures "
                         "again in a minute."))


async def answer_press(context: ContextTypes.DEFAULT_TYPE, query: CallbackQuery, who: Who,
                       action: Awaitable[tuple[Speech, bool]]) -> None:
    """A button's core action (a re-run, a pick), answered to the presser: a short note
    when a job started, an alert saying why when not."""
    done = await submission(action)
    text, started = done if isinstance(done, tuple) else (done, False)
    await query.answer(await state(context).core.say(who, text), show_alert=not started)
