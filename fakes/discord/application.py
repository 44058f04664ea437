"""The bot's application: its info (``applications/@me``) and its application commands,
global or per guild, overwritten in bulk as discord.py's ``CommandTree.sync()`` does."""

from __future__ import annotations

from fakes.discord.model import JSON, invalid_form, unknown
from fakes.discord.rest import ApiRequest
from fakes.discord.state import DiscordState


class ApplicationMixin(DiscordState):
    """Application info and registered commands (``commands``, by scope)."""

    def _application(self) -> JSON:
        return {
            "id": self.application_id,
            "name": self.bot_user["username"],
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot": self.bot_user,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            # GATEWAY_MESSAGE_CONTENT_LIMITED | APPLICATION_COMMAND_BADGE
            "flags": (1 << 19) | (1 << 23),
            "owner": self._app_owner,
            "team": None,
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": len(self._guilds),
        }

    def _check_app(self, app_id: str) -> None:
        if app_id != self.application_id:
            raise unknown("Application", 10002)

    def _command_scope(self, request: ApiRequest) -> str:
        self._check_app(request.params["app_id"])
        guild_id = request.params.get("guild_id")
        if guild_id is None:
            return "global"
        return self._guild(guild_id)["id"]

    def _get_commands(self, request: ApiRequest) -> list[JSON]:
        return self.commands.get(self._command_scope(request), [])

    def _put_commands(self, request: ApiRequest) -> list[JSON]:
        """Bulk overwrite; a command keeps its id when one with its name and type existed."""
        scope = self._command_scope(request)
        if not isinstance(request.json, list):
            raise invalid_form()
        old = {(c["name"], c.get("type", 1)): c["id"] for c in self.commands.get(scope, [])}
        stored = []
        for body in request.json:
            command = {
                "id": old.get((body["name"], body.get("type", 1))) or self._snowflake(),
                "application_id": self.application_id,
                "version": self._snowflake(),
                "type": 1,
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                "name_localizations": None,
                "description_localizations": None,
                **body,
            }
            if scope != "global":
                command["guild_id"] = scope
            stored.append(command)
        self.commands[scope] = stored
        return stored
