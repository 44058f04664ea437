"""``FakeTelegram``: the fake's concerns (one mixin each) assembled into one server, with the
method table and the server's lifecycle."""

from __future__ import annotations

import asyncio
import socket
from types import TracebackType
from typing import Self

from aiohttp import web

from fakes.telegram.api import ApiMixin
from fakes.telegram.chats import ChatsMixin
from fakes.telegram.editing import EditingMixin
from fakes.telegram.inline import InlineMixin
from fakes.telegram.model import MAX_UPLOAD_SIZE
from fakes.telegram.observation import ObservationMixin
from fakes.telegram.users import UsersMixin
from fakes.telegram.webhook import WebhookMixin


class FakeTelegram(
    ApiMixin, ChatsMixin, InlineMixin, UsersMixin, EditingMixin, WebhookMixin, ObservationMixin
):
    """An aiohttp server that answers python-telegram-bot like api.telegram.org would."""

    def __init__(
        self,
        *,
        token: str = "123456789:TEST-fake-token-for-tests-only",
        bot_id: int = 123456789,
        username: str = "StylebotTestBot",
        privacy_mode: bool = True,
        enforce_limits: bool = False,
        inline_mode: bool = False,
    ) -> None:
        super().__init__(
            token=token,
            bot_id=bot_id,
            username=username,
            privacy_mode=privacy_mode,
            enforce_limits=enforce_limits,
            inline_mode=inline_mode,
        )
        self._methods = {
            "getme": self._get_me,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getupdates": self._get_updates,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "setmydescription": self._set_my_description,
            "setmyshortdescription": self._set_my_short_description,
            "deletemycommands": self._delete_my_commands,
            "getfile": self._get_file,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "sendmediagroup": self._send_media_group,
            "sendchataction": self._send_chat_action,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagemedia": self._edit_message_media,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "answerinlinequery": self._answer_inline_query,
            "deletemessage": self._delete_message,
            "getchatmember": self._get_chat_member,
            "getchatadministrators": self._get_chat_administrators,
            "getchat": self._get_chat,
            "close": self._true,
            "logout": self._true,
        }

    async def start(self) -> None:
        """Serve on a free port of 127.0.0.1."""
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._handle)
        # handler_cancellation: a long poll the client gave up on must not linger until timeout.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))
            await web.SockSite(runner, sock).start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = sock.getsockname()[1]
        self._closing = False

    async def close(self) -> None:
        """Stop serving; pending long polls return empty at once."""
        self._closing = True
        self._notify()
        if self._pusher is not None:
            self._pusher.cancel()
            await asyncio.gather(self._pusher, return_exceptions=True)
            self._pusher = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """What to pass to ``ApplicationBuilder.base_url`` (PTB appends the token)."""
        return f"http://127.0.0.1:{self._require_port()}/bot"

    @property
    def base_file_url(self) -> str:
        """What to pass to ``ApplicationBuilder.base_file_url``."""
        return f"http://127.0.0.1:{self._require_port()}/file/bot"

    def _require_port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started; use `async with FakeTelegram()`")
        return self._port
