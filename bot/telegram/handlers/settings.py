"""/weights: show and change the user's settings (or, for group admins, the chat's).

``/weights`` shows them with buttons for the common changes; ``/weights strength 7``,
``/weights size 768``, ``/weights colors keep``, ``/weights language de`` and
``/weights reset`` change them; ``/weights group <setting> <value>`` and
``/weights group reset`` set a group's defaults.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from ...core.preferences import USAGE, Scope
from ...core.settings import SIZES, STRENGTH_STEP, SettingError, UserSettings
from ...core.who import Who
from ...i18n import Speech, _, render
from ..common import reply, sender, state, who_of
from ..status import telegram_call


def keyboard(settings: UserSettings, language: str, max_size: int) -> InlineKeyboardMarkup:
    lower = max(0.0, settings.strength - STRENGTH_STEP)
    higher = min(10.0, settings.strength + STRENGTH_STEP)
    other = "style" if settings.colors == "keep" else "keep"

    def button(label: Speech, data: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(render(label, language), callback_data=data)

    return InlineKeyboardMarkup([
        [button(_("Strength {value}", value=f"{lower:g}"), f"w:strength:{lower:g}"),
         button(_("Strength {value}", value=f"{higher:g}"), f"w:strength:{higher:g}")],
        [button(f"{size}px", f"w:size:{size}") for size in SIZES if size <= max_size],
        [button(_("Preset {preset}", preset=p), f"w:preset:{p}")
         for p in ("default", "fast", "seed") if p != settings.preset],
        [button(_("Keep photo colours") if other == "keep" else _("Painting colours"),
                f"w:colors:{other}"),
         button(_("Reset"), "w:reset:")],
    ])


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
    who = sender(message)
    args = [a.lower() for a in context.args or []]
    scope: Scope = "user"
    if args[:1] == ["group"]:
        scope, args = "chat", args[1:]
        if not who.group:
            await reply(context, message, _("/weights group … sets a group's defaults; use "
                                            "it in a group."))
            return
    admin = scope == "chat" and await is_admin(context, message.chat_id, message.from_user)
    preferences = state(context).core.preferences
    if not args and scope == "user":
        await show_panel(context, message, who, await preferences.show(who))
        return
    if args == ["reset"]:
        answer = await preferences.update(who, None, scope, admin=admin)
    elif len(args) == 2:
        answer = await preferences.change(who, {args[0]: args[1]}, scope, admin=admin)
    else:
        answer = _("⚠️ {problem}", problem=USAGE if scope == "user" else _(
            "Use e.g. /weights group strength 6, or /weights group reset."))
    await reply(context, message, answer)


async def show_panel(context: ContextTypes.DEFAULT_TYPE, message: Message, who: Who,
                     text: Speech) -> None:
    core = state(context).core
    await reply(context, message, text, reply_markup=keyboard(
        await core.preferences.of(who), await core.preferences.language(who),
        core.preferences.limits.max_size))


async def weights_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A settings button: it changes the settings of whoever presses it."""
    query = update.callback_query
    if query is None or query.data is None or not isinstance(query.message, Message):
        return
    _prefix, name, value = query.data.split(":", 2)
    message = query.message
    who = who_of(query.from_user, message.chat)
    preferences = state(context).core.preferences
    try:
        changes = None if name == "reset" else preferences.parse({name: value})
    except SettingError as exc:
        await query.answer(await preferences.say(who, exc.text), show_alert=True)
        return
    answer = await preferences.update(who, changes)
    language = await preferences.language(who)
    settings = await preferences.of(who)
    await query.answer(render(_("Saved: {settings}", settings=settings.summary()), language))
    owner = message.reply_to_message
    if owner is not None and owner.from_user is not None and \
            str(owner.from_user.id) == who.user_id:  # refresh the owner's own panel
        async with state(context).core.sending(who), telegram_call():
            await message.edit_text(render(answer, language), reply_markup=keyboard(
                settings, language, preferences.limits.max_size))
