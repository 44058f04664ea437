"""/cancel, /queue and /swap: the user's own job and pending pair."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from ..common import owner_of, pending_key, reply, state


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    st, key = state(context), pending_key(message)
    async with st.locks(key):  # after the pictures sent before it
        cancelled = st.core.pool.cancel_owner(owner_of(message.from_user))
        dropped = st.core.pending.pop(key) is not None
    if cancelled:
        await reply(context, message, f"✖️ Cancelled {len(cancelled)} picture(s).")
    elif dropped:
        await reply(context, message, "✖️ Forgot the picture you sent; start again whenever "
                    "you like.")
    else:
        await reply(context, message, "You have nothing running or waiting.")


async def queue_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    core = state(context).core
    stats = core.pool.stats()
    lines = [f"Queue: {stats.running} painting now, {stats.waiting} waiting "
             f"(room for {stats.max_queue})."]
    for handle in core.pool.jobs_of(owner_of(message.from_user)):
        position = core.pool.position(handle)
        lines.append("Yours: being painted now." if position == 0 else
                     f"Yours: number {position} in line.")
    pair = core.pending.get(pending_key(message))
    if pair is not None and pair.missing:
        lines.append(f"I'm holding your {'photo' if pair.missing == 'style' else 'painting'}; "
                     f"send the {'painting' if pair.missing == 'style' else 'photo'} to start.")
    await reply(context, message, "\n".join(lines))


async def swap_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    st, key = state(context), pending_key(message)
    async with st.locks(key):  # after the pictures sent before it
        pair = st.core.pending.swap(key)
    if pair is None:
        await reply(context, message, "Nothing to swap: send a picture first.")
    else:
        now = "the photo" if pair.content is not None else "the painting"
        await reply(context, message, f"🔁 Swapped: the picture you sent is now {now}. Send the "
                    "other one.")
