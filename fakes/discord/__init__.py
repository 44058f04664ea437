"""A local fake of Discord (REST API, gateway websocket, attachment CDN) for bot tests.

The real discord.py client talks to it unmodified once ``discord.http.Route.BASE`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` point at :attr:`FakeDiscord.api_base_url`
and :attr:`FakeDiscord.gateway_url`. Tests build a small world (users, guilds, channels,
attachments), act as users (slash commands, button clicks, messages) and then assert on the
REST calls the bot made (:attr:`FakeDiscord.calls`) and on the resulting message state.

Behaviour follows Discord where a bot could notice the difference: snowflake ids, 3-second
initial-response deadline, "already acknowledged" errors, the first follow-up after a
"thinking" deferral completing the deferred message, upload limits by boost tier (413),
attachment keep/replace semantics on edits, privileged MESSAGE_CONTENT gating and
intent-filtered gateway events. Everything listens on 127.0.0.1 only.

:class:`FakeDiscord` (``server``) is assembled from one mixin per concern, all on the shared
state of ``state``: ``rest`` (routes, authentication, recorded calls), ``gateway`` (the
websocket protocol; ``connection`` is one bot's socket), ``interactions`` (slash commands,
buttons, autocomplete, responses and follow-ups), ``application`` (application info,
registered commands), ``messages`` and ``attachments`` (messages, files and the CDN) and
``guilds`` (guilds, channels, users, members, permissions).
"""

from fakes.discord.model import (
    API_VERSION,
    CALLBACK_AUTOCOMPLETE_RESULT,
    CALLBACK_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_UPDATE_MESSAGE,
    CALLBACK_UPDATE_MESSAGE,
    FILESIZE_LIMITS,
    FLAG_COMPONENTS_V2,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    FLAG_SUPPRESS_NOTIFICATIONS,
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MEMBERS,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILDS,
    INTENT_MESSAGE_CONTENT,
    JSON,
    MIB,
    PERM_ADMINISTRATOR,
    PERM_MANAGE_GUILD,
    ApiError,
    Call,
    Interaction,
    public_attachment,
    public_message,
)
from fakes.discord.server import FakeDiscord

__all__ = [
    "API_VERSION",
    "CALLBACK_AUTOCOMPLETE_RESULT",
    "CALLBACK_CHANNEL_MESSAGE",
    "CALLBACK_DEFERRED_CHANNEL_MESSAGE",
    "CALLBACK_DEFERRED_UPDATE_MESSAGE",
    "CALLBACK_UPDATE_MESSAGE",
    "FILESIZE_LIMITS",
    "FLAG_COMPONENTS_V2",
    "FLAG_EPHEMERAL",
    "FLAG_LOADING",
    "FLAG_SUPPRESS_EMBEDS",
    "FLAG_SUPPRESS_NOTIFICATIONS",
    "INTENT_DIRECT_MESSAGES",
    "INTENT_GUILDS",
    "INTENT_GUILD_MEMBERS",
    "INTENT_GUILD_MESSAGES",
    "INTENT_MESSAGE_CONTENT",
    "JSON",
    "MIB",
    "PERM_ADMINISTRATOR",
    "PERM_MANAGE_GUILD",
    "ApiError",
    "Call",
    "FakeDiscord",
    "Interaction",
    "public_attachment",
    "public_message",
]
