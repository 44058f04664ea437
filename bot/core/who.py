"""Who is talking to the bot, and where: all the core needs to know of a platform event."""

from __future__ import annotations

from dataclasses import dataclass

from .jobs import Owner


@dataclass(frozen=True)
class Who:
    platform: str  # "telegram" | "discord"
    user_id: str
    chat_id: str  # the chat or channel the event came from
    group: bool  # a group chat or a server channel, where others read along
    #: the language the user's app reports (Telegram language_code, Discord locale)
    locale: str | None = None
    #: how to address them in a group (e.g. "@alice"), empty in private chats
    mention: str = ""
    #: whose defaults apply (a Telegram group, a Discord server); empty in private chats
    community: str = ""

    @property
    def owner(self) -> Owner:
        return Owner(self.platform, self.user_id)

    @property
    def chat(self) -> str:
        """The platform-qualified chat, for per-chat budgets and logs."""
        return f"{self.platform}:{self.chat_id}"

    @property
    def pair_key(self) -> tuple[str, str, str]:
        """Pending pairs are per user *and* chat: group users never mix."""
        return (self.platform, self.chat_id, self.user_id)
