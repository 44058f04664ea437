"""Users, chats and membership, and the Bot API methods about them and about the bot itself
(getMe, getChat, getChatMember, getChatAdministrators, the command menu, close/logOut)."""

from __future__ import annotations

import copy
import json
import re

from fakes.telegram.model import JSON, ApiError, ChatRef, Uploads, int_param
from fakes.telegram.state import TelegramState

_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
}


class ChatsMixin(TelegramState):
    """Who exists, who is in which chat and who administers it; blocked users."""

    @property
    def bot_user(self) -> JSON:
        """The bot as a User dict, e.g. for ``set_admin(chat, tg.bot_user)``."""
        return dict(self._bot_user)

    def user(self, user_id: int, first_name: str, username: str | None = None, *,
             language_code: str = "en") -> JSON:
        """Register a human user and return it as a Bot API User; ``language_code`` is
        their app's language, as Telegram reports it (an IETF tag such as "ru", "pt-br")."""
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        user["language_code"] = language_code
        self._users[user_id] = user
        return dict(user)

    def private_chat(self, user: JSON) -> JSON:
        """The private chat between ``user`` and the bot (its id is the user's id)."""
        known = self._user_of(user)
        chat: JSON = {"id": known["id"], "type": "private", "first_name": known["first_name"]}
        if "username" in known:
            chat["username"] = known["username"]
        self._chats[chat["id"]] = chat
        self._members[chat["id"]].update({known["id"], self.bot_id})
        return dict(chat)

    def group_chat(self, chat_id: int, title: str, *, supergroup: bool = True) -> JSON:
        """A group the bot is a member of.

        A positive ``chat_id`` is turned into Telegram's form: ``-100<id>`` for supergroups,
        ``-<id>`` for basic groups; negative ids are used as given.
        """
        if chat_id > 0:
            chat_id = int(f"-100{chat_id}") if supergroup else -chat_id
        chat: JSON = {"id": chat_id, "type": "supergroup" if supergroup else "group"}
        chat["title"] = title
        self._chats[chat_id] = chat
        self._members[chat_id].add(self.bot_id)
        return dict(chat)

    def set_admin(self, chat: ChatRef, user: JSON, admin: bool = True) -> None:
        """Make ``user`` (possibly ``bot_user``) an administrator of ``chat``, or not.

        As on Telegram, a bot that is an administrator receives every group message even in
        privacy mode.
        """
        chat_id = self._chat_of(chat)["id"]
        user_id = self._user_of(user)["id"]
        self._members[chat_id].add(user_id)
        if admin:
            self._admins[chat_id].add(user_id)
        else:
            self._admins[chat_id].discard(user_id)

    def block_bot(self, user: JSON, blocked: bool = True) -> None:
        """Simulate the user blocking the bot: sends to them answer 403."""
        user_id = self._user_of(user)["id"]
        if blocked:
            self._blocked.add(user_id)
        else:
            self._blocked.discard(user_id)

    def _true(self, _params: JSON, _uploads: Uploads) -> bool:
        return True

    def _get_me(self, _params: JSON, _uploads: Uploads) -> JSON:
        return {
            **self._bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": self.inline_mode,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _get_chat(self, params: JSON, _uploads: Uploads) -> JSON:
        chat = self._resolve_chat(params.get("chat_id"))
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys((*gifts, "gifts_from_channels"), False),
        }

    def _get_chat_member(self, params: JSON, _uploads: Uploads) -> JSON:
        chat = self._resolve_chat(params.get("chat_id"))
        user = self._users.get(int_param(params, "user_id"))
        if user is None:
            raise ApiError(400, "Bad Request: user not found")
        return self._chat_member(chat["id"], user)

    def _get_chat_administrators(self, params: JSON, _uploads: Uploads) -> list[JSON]:
        chat = self._resolve_chat(params.get("chat_id"))
        if chat["type"] == "private":
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        return [
            self._chat_member(chat["id"], self._users[user_id])
            for user_id in sorted(self._admins[chat["id"]])
        ]

    def _chat_member(self, chat_id: int, user: JSON) -> JSON:
        if user["id"] in self._admins[chat_id]:
            return {"status": "administrator", "user": dict(user), **_ADMIN_RIGHTS}
        status = "member" if user["id"] in self._members[chat_id] else "left"
        return {"status": status, "user": dict(user)}

    def _set_my_commands(self, params: JSON, _uploads: Uploads) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: commands is empty")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self._commands[_commands_key(params)] = commands
        return True

    def _get_my_commands(self, params: JSON, _uploads: Uploads) -> list[JSON]:
        return copy.deepcopy(self._commands.get(_commands_key(params), []))

    def commands_for(self, language_code: str = "") -> list[JSON]:
        """The command menu the bot set for users of ``language_code`` (default scope)."""
        return copy.deepcopy(self._commands.get(_commands_key(
            {"language_code": language_code}), []))

    def _set_my_description(self, params: JSON, _uploads: Uploads) -> bool:
        text = str(params.get("description") or "")
        if len(text) > 512:
            raise ApiError(400, "Bad Request: description is too long")
        self.descriptions[str(params.get("language_code") or "")] = text
        return True

    def _set_my_short_description(self, params: JSON, _uploads: Uploads) -> bool:
        text = str(params.get("short_description") or "")
        if len(text) > 120:
            raise ApiError(400, "Bad Request: short description is too long")
        self.short_descriptions[str(params.get("language_code") or "")] = text
        return True

    def _delete_my_commands(self, params: JSON, _uploads: Uploads) -> bool:
        self._commands.pop(_commands_key(params), None)
        return True


def _commands_key(params: JSON) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")
