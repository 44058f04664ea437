"""Users' and chats' settings (``/weights``) and the language each user is answered in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from ..config import BotConfig
from ..i18n import Speech, _, best_language, lines, render
from .keyed import ExpiringMap
from .settings import Limits, SettingError, UserSettings, parse_change
from .store import SettingsStore
from .who import Who

Scope = Literal["user", "chat"]
USAGE = _("Change a setting with e.g. /weights strength 7, /weights size 768, /weights steps "
          "400, /weights colors keep, /weights preset fast, /weights language de, or "
          "/weights reset.")


class Preferences:
    def __init__(self, config: BotConfig, store: SettingsStore) -> None:
        self.defaults = config.defaults
        self.limits = Limits(config.limits.max_size, config.limits.max_steps)
        self.store = store
        # Every message is rendered in its reader's language: the stored choice is read
        # once per hour of activity, not once per message.
        self._languages: ExpiringMap[tuple[str, str], str] = ExpiringMap(str, max_idle=3600)

    async def of(self, who: Who) -> UserSettings:
        """``who``'s effective settings: config ← the chat's defaults (in groups) ← theirs,
        inside today's limits."""
        chat = (await self.store.chat_changes(who.platform, who.community)
                if who.community else {})
        mine = await self.store.user_changes(who.platform, who.user_id)
        return self.defaults.merged(chat, mine).within(self.limits)

    async def language(self, who: Who) -> str:
        """The user's own choice (/weights language), else their app's, else English."""
        key = (who.platform, who.user_id)
        chosen = self._languages.peek(key)
        if chosen is None:
            chosen = str((await self.store.user_changes(who.platform, who.user_id))
                         .get("language", ""))
        self._languages.put(key, chosen)
        return chosen or best_language(who.locale)

    async def say(self, who: Who, speech: Speech) -> str:
        """``speech`` in ``who``'s language."""
        return render(speech, await self.language(who))

    async def show(self, who: Who, scope: Scope = "user", *, saved: bool = False) -> Speech:
        if scope == "chat":
            chat = await self.store.chat_changes(who.platform, who.community)
            title = _("⚙️ This group's defaults:")
            return lines(title, self.defaults.merged(chat).within(self.limits).describe())
        title = _("⚙️ Saved. Your settings:") if saved else _("⚙️ Your settings:")
        return lines(title, (await self.of(who)).describe(), "", USAGE)

    async def change(self, who: Who, typed: Mapping[str, str], scope: Scope = "user",
                     *, admin: bool = False) -> Speech:
        """Settings as users type them (``{"strength": "7"}``); the answer says what
        changed, or what would fit."""
        try:
            changes = self.parse(typed)
        except SettingError as exc:
            return _("⚠️ {problem}", problem=exc.text)
        return await self.update(who, changes, scope, admin=admin)

    def parse(self, typed: Mapping[str, str]) -> dict[str, Any]:
        """Typed values of settings as users type them; ``SettingError`` says what fits."""
        changes: dict[str, Any] = {}
        for name, value in typed.items():
            changes |= parse_change(name, value, self.limits)
        return changes

    async def update(self, who: Who, changes: Mapping[str, Any] | None, scope: Scope = "user",
                     *, admin: bool = False) -> Speech:
        """Store typed changes (None: back to the defaults) and show the result."""
        if scope == "chat":
            if not who.community:
                return _("Defaults for everyone are set in a group or a server.")
            if not admin:
                return _("Only admins can change the defaults here. Your own settings: "
                         "/weights.")
            await self.store.update_chat(who.platform, who.community,
                                         dict(changes) if changes is not None else None)
            return await self.show(who, "chat")
        await self.store.update_user(who.platform, who.user_id,
                                     dict(changes) if changes is not None else None)
        self._languages.discard((who.platform, who.user_id))
        return await self.show(who, saved=True)
