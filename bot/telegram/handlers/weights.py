"""/weights: show and change the user's settings (or, for group admins, the chat's).

``/weights`` shows them with buttons for the common changes; ``/weights strength 7``,
``/weights size 768``, ``/weights steps 400``, ``/weights colors keep``,
``/weights preset fast`` and ``/weights reset`` change them;
``/weights group <setting> <value>`` and ``/weights group reset`` set chat defaults.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from ...core.choices import STRENGTH_STEP, ChoiceError, Choices, parse_change
from ..common import PLATFORM, choices_for, is_group, reply, sending, state
from ..status import telegram_call

USAGE = ("Change a setting with e.g. /weights strength 7, /weights size 768, /weights steps "
         "400, /weights colors keep, /weights preset fast, or /weights reset.")


def keyboard(choices: Choices) -> InlineKeyboardMarkup:
    lower = max(0.0, choices.strength - STRENGTH_STEP)
    higher = min(10.0, choices.strength + STRENGTH_STEP)
    colours = "style" if choices.keep_colors else "keep"
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(f"Strength {lower:g}", callback_data=f"w:strength:{lower:g}"),
         InlineKeyboardButton(f"Strength {higher:g}", callback_data=f"w:strength:{higher:g}")],
        [InlineKeyboardButton(f"{size}px", callback_data=f"w:size:{size}")
         for size in (384, 512, 768, 1024)],
        [InlineKeyboardButton(f"Preset {p}", callback_data=f"w:preset:{p}")
         for p in ("default", "fast", "seed") if p != choices.preset],
        [InlineKeyboardButton("Keep photo colours" if colours == "keep" else "Painting colours",
                              callback_data=f"w:colors:{colours}"),
         InlineKeyboardButton("Reset", callback_data="w:reset:")],
    ])


def describe(choices: Choices, *, scope: str) -> str:
    return f"⚙️ {scope}:\n{choices.describe()}\n\n{USAGE}"


async def is_admin(context: ContextTypes.DEFAULT_TYPE, chat_id: int, user: User) -> bool:
    try:
        member = await context.bot.get_chat_member(chat_id, user.id)
    except TelegramError:
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def weights_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    args = list(context.args or [])
    if args and args[0].lower() == "group":
        await change_group(context, message, args[1:])
        return
    store, user = state(context).core.store, message.from_user
    try:
        if not args:
            pass
        elif args[0].lower() == "reset":
            await store.update_user(PLATFORM, user.id, None)
        elif len(args) == 2:
            changes = parse_change(args[0], args[1], state(context).core.config.limits)
            await store.update_user(PLATFORM, user.id, changes)
        else:
            raise ChoiceError(USAGE)
    except ChoiceError as exc:
        await reply(context, message, f"⚠️ {exc}")
        return
    choices = await choices_for(context, user, message.chat)
    await reply(context, message, describe(choices, scope="Your settings"),
                reply_markup=keyboard(choices))


async def change_group(context: ContextTypes.DEFAULT_TYPE, message: Message,
                       args: list[str]) -> None:
    if not is_group(message.chat):
        await reply(context, message, "/weights group … sets a group's defaults; use it in a "
                    "group.")
        return
    if not await is_admin(context, message.chat_id, message.from_user):
        await reply(context, message, "Only group admins can change the group's defaults. Your own "
                    "settings: /weights strength 7 and so on.")
        return
    store = state(context).core.store
    try:
        if args and args[0].lower() == "reset":
            await store.update_chat(PLATFORM, message.chat_id, None)
        elif len(args) == 2:
            limits = state(context).core.config.limits
            await store.update_chat(PLATFORM, message.chat_id,
                                    parse_change(args[0], args[1], limits))
        else:
            raise ChoiceError("Use e.g. /weights group strength 6, or /weights group reset.")
    except ChoiceError as exc:
        await reply(context, message, f"⚠️ {exc}")
        return
    defaults = state(context).core.defaults.merged(
        await store.chat_changes(PLATFORM, message.chat_id))
    await reply(context, message, describe(defaults, scope="This group's defaults"))


async def weights_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A settings button: it changes the settings of whoever presses it."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    _, knob, value = query.data.split(":", 2)
    store, user = state(context).core.store, query.from_user
    try:
        if knob == "reset":
            await store.update_user(PLATFORM, user.id, None)
        else:
            await store.update_user(PLATFORM, user.id,
                                    parse_change(knob, value, state(context).core.config.limits))
    except ChoiceError as exc:
        await query.answer(str(exc), show_alert=True)
        return
    message = query.message
    chat = message.chat if message is not None else None
    choices = (await choices_for(context, user, chat) if chat is not None
               else state(context).core.defaults)
    await query.answer(f"Saved: {choices.summary()}")
    if isinstance(message, Message) and message.reply_to_message is not None and \
            message.reply_to_message.from_user is not None and \
            message.reply_to_message.from_user.id == user.id:
        async with sending(context, message.chat), telegram_call():  # refresh the owner's panel
            await message.edit_text(describe(choices, scope="Your settings"),
                                    reply_markup=keyboard(choices))
