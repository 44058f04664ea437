"""What every Telegram handler needs: the core, ids, per-user locks, and starting a job."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from telegram import Chat, Message, ReplyParameters, User
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from ..config import TelegramConfig
from ..core.choices import Choices
from ..core.jobs import JobHandle, Owner, PoolError
from ..core.keyed import KeyedLocks
from ..core.pictures import Picture
from ..core.service import Stylebot, Submission
from ..core.status import SendingBudget, status_text
from .status import TelegramStatusView, patiently

log = logging.getLogger("stylebot.telegram")
PLATFORM = "telegram"


@dataclass
class TelegramState:
    """Per-application state kept in ``bot_data``."""

    core: Stylebot
    config: TelegramConfig
    #: for downloads with a byte cap (python-telegram-bot's own reads whole files)
    downloads: httpx.AsyncClient
    #: per (platform, chat, user): keeps a user's pictures and commands in sending order
    locks: KeyedLocks[tuple[str, str, str]]


def state(context: ContextTypes.DEFAULT_TYPE) -> TelegramState:
    return context.bot_data["stylebot"]


def owner_of(user: User) -> Owner:
    return Owner(PLATFORM, str(user.id))


def chat_key(chat: Chat) -> str:
    return f"{PLATFORM}:{chat.id}"


def is_group(chat: Chat) -> bool:
    return chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


def pending_key(message: Message) -> tuple[str, str, str]:
    assert message.from_user is not None
    return (PLATFORM, str(message.chat_id), str(message.from_user.id))


def mention(user: User) -> str:
    return f"@{user.username}" if user.username else user.first_name


async def choices_for(context: ContextTypes.DEFAULT_TYPE, user: User, chat: Chat) -> Choices:
    chat_id = chat.id if is_group(chat) else None
    return await state(context).core.choices(owner_of(user), chat_id)


def throttled(context: ContextTypes.DEFAULT_TYPE) -> Callable[[], None]:
    """Counts a 429 from Telegram in the metrics."""
    return lambda: state(context).core.metrics.throttled(PLATFORM)


def sending(context: ContextTypes.DEFAULT_TYPE, chat: Chat) -> SendingBudget:
    """The chat's sending budget: every message and edit to the chat goes through it."""
    return state(context).core.limits.sending(chat_key(chat), is_group(chat))


async def reply(context: ContextTypes.DEFAULT_TYPE, message: Message, text: str,
                **kwargs: Any) -> Message | None:
    """Answer ``message`` within the chat's budget, waiting out 429s; other refusals from
    Telegram (the user blocked the bot, the chat is gone) are logged, not raised."""
    try:
        async with sending(context, message.chat):
            return await patiently(lambda: message.reply_text(
                text, reply_parameters=ReplyParameters(message.message_id,
                                                       allow_sending_without_reply=True),
                **kwargs), on_wait=throttled(context))
    except TelegramError:
        log.warning("could not reply", exc_info=True, extra={"chat": message.chat_id})
        return None


async def notice(context: ContextTypes.DEFAULT_TYPE, message: Message, text: str) -> None:
    """Explain a refusal, but only a few times per user per half minute (flood guard)."""
    user = message.from_user
    key = f"{PLATFORM}:{user.id if user else message.chat_id}"
    if state(context).core.notices.allow(key):
        await reply(context, message, text)


async def start_job(context: ContextTypes.DEFAULT_TYPE, message: Message, user: User,
                    content: Picture, style: Picture, *,
                    choices: Choices | None = None, reply_to: int | None = None
                    ) -> JobHandle | None:
    """Queue a job; its status and result answer ``reply_to`` (default: ``message``)."""
    reply_to = reply_to or message.message_id
    core = state(context).core
    choices = choices or await choices_for(context, user, message.chat)
    submission = Submission(owner_of(user), chat_key(message.chat), is_group(message.chat),
                            content, style, choices)

    async def make_view(handle: JobHandle, token: str) -> TelegramStatusView:
        budget = sending(context, message.chat)
        async with budget:
            status = await patiently(lambda: message.reply_photo(
                content.thumbnail, caption=status_text(core.initial_status(handle)),
                reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True)),
                on_wait=throttled(context))
        return TelegramStatusView(context.bot, status, budget, reply_to=reply_to,
                                  choices=choices, token=token,
                                  requester=mention(user) if is_group(message.chat) else None)

    try:
        handle = await core.start(submission, make_view)
    except PoolError as exc:
        await reply(context, message, f"⚠️ {exc}")
        return None
    except TelegramError:
        log.warning("could not post a status message", exc_info=True,
                    extra={"chat": message.chat_id})
        await reply(context, message, "⚠️ Telegram didn't let me answer just now. Please send the "
                    "pictures again in a minute.")
        return None
    log.info("job submitted", extra={"job": handle.id, "user": user.id, "chat": message.chat_id,
                                     "preset": choices.preset, "size": choices.size})
    return handle
