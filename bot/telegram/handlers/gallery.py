"""The gallery on Telegram: a lone photo gets a reply with a button per painting (paged),
a pick starts the job at once, and /styles shows the paintings as an album.

Only the person whose photo it is can pick or page (in groups the reply names them);
the buttons carry the kept photo's token, so they work after a restart too.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Message, Update
from telegram.ext import ContextTypes

from ...core.gallery import (
    Gallery,
    GalleryOffer,
    Painting,
    page_id,
    parse_page_id,
    parse_pick_id,
    pick_id,
)
from ...core.who import Who
from ...i18n import Speech, _
from ..common import answer_press, reply, sender, state, status_view, throttled, who_of
from ..status import patiently, telegram_call

#: paintings per page of buttons, two a row
PER_PAGE = 8
#: Telegram's albums hold 2 to 10 pictures
ALBUM = 10
STYLES_HINT = _("Send me a photo, then pick one of these paintings with the buttons — or "
                "send your own painting.")
NO_GALLERY = _("There is no gallery here: send a photo, then the painting whose style you "
               "want.")


def gallery_keyboard(gallery: Gallery, token: str, page: int) -> InlineKeyboardMarkup:
    """A button per painting on ``page`` (titles: names, not translated), then ◀ n/N ▶."""
    paintings, page, pages = gallery.page(page, PER_PAGE)
    buttons = [InlineKeyboardButton(p.title, callback_data=pick_id(token, p.key))
               for p in paintings]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    if pages > 1:
        rows.append([
            InlineKeyboardButton("◀", callback_data=page_id(token, (page - 1) % pages)),
            InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=page_id(token, page)),
            InlineKeyboardButton("▶", callback_data=page_id(token, (page + 1) % pages))])
    return InlineKeyboardMarkup(rows)


async def respond(context: ContextTypes.DEFAULT_TYPE, message: Message,
                  answer: Speech | GalleryOffer, *, who: Who | None = None) -> None:
    """Answer ``message``; a gallery offer comes with its buttons."""
    if isinstance(answer, GalleryOffer):
        await reply(context, message, answer.text, who=who, reply_markup=gallery_keyboard(
            state(context).core.gallery, answer.token, 0))
    else:
        await reply(context, message, answer, who=who)


async def pick_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A painting picked: the job starts at once, its status replying to the photo."""
    query = update.callback_query
    if query is None or query.data is None or not isinstance(query.message, Message):
        return
    parsed = parse_pick_id(query.data)
    if parsed is None:
        return
    who = who_of(query.from_user, query.message.chat)
    await answer_press(context, query, who, state(context).core.pairs.pick(
        who, *parsed, status_view(context, query.message)))


async def page_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """◀ / ▶: the same message shows another page of paintings."""
    query = update.callback_query
    if query is None or query.data is None or not isinstance(query.message, Message):
        return
    parsed = parse_page_id(query.data)
    if parsed is None:
        return
    token, page = parsed
    who = who_of(query.from_user, query.message.chat)
    core = state(context).core
    refused = await core.pairs.pick_refusal(who, token)
    if refused is not None:
        await query.answer(await core.say(who, refused), show_alert=True)
        return
    await query.answer()
    async with core.sending(who), telegram_call():
        await query.message.edit_reply_markup(gallery_keyboard(core.gallery, token, page))


async def styles_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/styles: the paintings as albums of thumbnails, numbered, then how to pick one."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    gallery = state(context).core.gallery
    if not gallery:
        await reply(context, message, NO_GALLERY)
        return
    for first in range(0, len(gallery), ALBUM):
        await send_album(context, message, gallery, gallery.paintings[first:first + ALBUM])
    await reply(context, message, STYLES_HINT)


async def send_album(context: ContextTypes.DEFAULT_TYPE, message: Message, gallery: Gallery,
                     paintings: Sequence[Painting]) -> None:
    """One album (a lone photo when one is left over); each thumbnail is uploaded once,
    then sent by the file_id Telegram gave it."""
    st = state(context)
    photos = [st.gallery_photos.get(p.key, p.picture.thumbnail) for p in paintings]
    captions = [f"{gallery.number(p)}. {p.credit}" for p in paintings]
    async with st.core.sending(sender(message)):
        if len(paintings) == 1:
            sent = [await patiently(lambda: message.reply_photo(photos[0], caption=captions[0]),
                                    on_wait=throttled(context))]
        else:
            sent = list(await patiently(lambda: message.reply_media_group(
                [InputMediaPhoto(photo, caption=caption)
                 for photo, caption in zip(photos, captions, strict=True)]),
                on_wait=throttled(context)))
    for painting, posted in zip(paintings, sent, strict=True):
        if posted.photo:
            st.gallery_photos[painting.key] = posted.photo[-1].file_id
