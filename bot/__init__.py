"""Stylebot: Telegram and Discord front ends on one platform-free core (``bot.core``)."""
