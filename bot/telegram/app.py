"""The Telegram front end: python-telegram-bot wired to the platform-free core."""

from __future__ import annotations

import logging
import warnings
from typing import Any
from urllib.parse import urlsplit

import httpx
from telegram import BotCommand, Update
from telegram.error import InvalidToken, NetworkError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBDeprecationWarning

from ..config import TelegramConfig
from ..core.jobdesk import JobStart
from ..core.keyed import KeyedLocks
from ..core.service import Stylebot
from ..core.status import StatusView
from ..frontend import StartupError
from ..i18n import LANGUAGES, SOURCE, _, render
from .common import TelegramState
from .handlers.gallery import page_button, pick_button, styles_command
from .handlers.help import show_help
from .handlers.images import on_album, on_image
from .handlers.jobs import cancel_command, queue_command, swap_command
from .handlers.rerun import rerun_button
from .handlers.settings import weights_button, weights_command
from .handlers.share import inline_query
from .handlers.stats import stats_command
from .handlers.stylize import stylize_command
from .handlers.unsupported import not_an_image, plain_text, unknown_command
from .media import AlbumCollector
from .status import TelegramStatusView

log = logging.getLogger("stylebot.telegram")

REJECTED = ("Telegram rejected the token or the server address: check [telegram] token / "
            "base_url")
UNREACHABLE = "Telegram could not be reached at {}: check [telegram] base_url and the network"

COMMANDS = (
    ("stylize", _("paint a photo in the style of a painting")),
    ("styles", _("the paintings you can pick from")),
    ("weights", _("show or change your settings")),
    ("queue", _("your place in line")),
    ("cancel", _("stop your picture")),
    ("swap", _("swap the photo and the painting")),
    ("help", _("how it works")),
)
#: shown in an empty chat with the bot (at most 512 characters) and on its profile (120)
DESCRIPTION = _("🎨 I paint your photo in the style of a painting. Send me a photo and pick a "
                "famous painting — or send your own. I show my progress and send you the "
                "result. Works in groups too: /stylize.")
SHORT_DESCRIPTION = _("Turns your photos into paintings: pick a famous one, or send your own.")

IMAGES = filters.PHOTO | filters.Document.IMAGE


def build_application(config: TelegramConfig, core: Stylebot) -> Application:
    assert config.token is not None
    # PTB 22 warns on every read of RetryAfter.retry_after unless the PTB_TIMEDELTA
    # environment variable opts in; ``retry_seconds`` reads either form.
    warnings.filterwarnings("ignore", message=r".*`retry_after`",
                            category=PTBDeprecationWarning)
    app = (ApplicationBuilder().token(config.token.reveal())
           .base_url(config.base_url).base_file_url(config.base_file_url)
           .local_mode(config.local_mode)
           # Handlers download and decode; they must not queue behind each other.
           .concurrent_updates(256)
           .build())
    app.bot_data["stylebot"] = TelegramState(
        core, config, locks=KeyedLocks(),
        downloads=httpx.AsyncClient(timeout=httpx.Timeout(30.0)))
    app.bot_data["albums"] = AlbumCollector(
        config.album_wait, lambda items: on_album(items, CallbackContext(app)))
    app.add_handler(CommandHandler(["start", "help"], show_help))
    app.add_handler(CommandHandler("stylize", stylize_command))
    app.add_handler(MessageHandler(IMAGES & filters.CaptionRegex(r"^/stylize(@\w+)?\b"),
                                   stylize_command))
    app.add_handler(CommandHandler("styles", styles_command))
    app.add_handler(CommandHandler("weights", weights_command))
    app.add_handler(CommandHandler("cancel", cancel_command))
    app.add_handler(CommandHandler("queue", queue_command))
    app.add_handler(CommandHandler("swap", swap_command))
    app.add_handler(CommandHandler("stats", stats_command))  # owners only: not in the menu
    app.add_handler(MessageHandler(IMAGES, on_image))
    app.add_handler(CallbackQueryHandler(weights_button, pattern=r"^w:"))
    app.add_handler(CallbackQueryHandler(rerun_button, pattern=r"^rr:"))
    app.add_handler(CallbackQueryHandler(pick_button, pattern=r"^g:"))
    app.add_handler(CallbackQueryHandler(page_button, pattern=r"^gp:"))
    app.add_handler(InlineQueryHandler(inline_query))
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(
        filters.Sticker.ALL | filters.VIDEO | filters.ANIMATION | filters.VOICE
        | filters.AUDIO | filters.VIDEO_NOTE | filters.Document.ALL, not_an_image))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.TEXT, plain_text))
    app.add_error_handler(on_error)
    return app


async def on_error(update: object, context: CallbackContext) -> None:
    log.error("handler failed", exc_info=context.error,
              extra={"update_id": getattr(update, "update_id", None)})


class TelegramFrontend:
    """Starts and stops python-telegram-bot inside the bot's own event loop."""

    name = "telegram"

    def __init__(self, config: TelegramConfig, core: Stylebot) -> None:
        self.config = config
        self.app = build_application(config, core)

    async def start(self) -> None:
        try:
            await self.app.initialize()
        except InvalidToken:
            await self._release()
            raise StartupError(REJECTED) from None
        except NetworkError:
            await self._release()
            raise StartupError(UNREACHABLE.format(self.config.base_url)) from None
        await self.introduce()
        await self.app.start()
        assert self.app.updater is not None
        if self.config.webhook_url:
            await self.start_webhook()
        else:
            await self.app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            log.info("telegram polling", extra={"bot": self.app.bot.username})

    async def introduce(self) -> None:
        """The command menu and the bot's descriptions, in every shipped language (Telegram
        shows each user the one for their app's language, English otherwise)."""
        bot = self.app.bot
        if not bot.supports_inline_queries:
            log.warning("inline mode is off, so results come without a Share button: "
                        "enable it for the bot with @BotFather (/setinline)")
        for language in LANGUAGES:
            code = None if language == SOURCE else language.split("_")[0]  # ISO 639-1
            await bot.set_my_commands([BotCommand(name, render(text, language))
                                       for name, text in COMMANDS], language_code=code)
            await bot.set_my_description(render(DESCRIPTION, language), language_code=code)
            await bot.set_my_short_description(render(SHORT_DESCRIPTION, language),
                                               language_code=code)

    async def start_webhook(self) -> None:
        """python-telegram-bot's own webhook server; it answers 403 to any request without
        the secret token, before the update is parsed."""
        assert self.app.updater is not None and self.config.secret_token is not None
        try:
            await self.app.updater.start_webhook(
                listen=self.config.listen, port=self.config.port,
                url_path=urlsplit(self.config.webhook_url).path.lstrip("/"),
                webhook_url=self.config.webhook_url, allowed_updates=Update.ALL_TYPES,
                secret_token=self.config.secret_token.reveal())
        except OSError as exc:
            await self.app.stop()
            await self.app.shutdown()
            await self._release()
            raise StartupError(f"The Telegram webhook server cannot listen on "
                               f"{self.config.listen}:{self.config.port} ({exc.strerror}): "
                               "check [telegram] listen / port") from None
        log.info("telegram webhook", extra={"bot": self.app.bot.username,
                                            "listen": f"{self.config.listen}:{self.config.port}"})

    async def restore_view(self, start: JobStart, saved: dict[str, Any]) -> StatusView:
        core = self.app.bot_data["stylebot"].core
        return TelegramStatusView.restore(self.app.bot, core.sending(start.who), start, saved)

    def healthy(self) -> bool:
        return bool(self.app.running and self.app.updater and self.app.updater.running)

    async def stop_receiving(self) -> None:
        """Stop taking updates; the bot can still send (results, shutdown notes)."""
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()

    async def stop(self) -> None:
        await self.stop_receiving()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        await self._release()

    async def _release(self) -> None:
        """Close what a failed start or a stop leaves open (the app itself may never have
        been initialised)."""
        await self.app.bot.shutdown()
        await self.app.bot_data["stylebot"].downloads.aclose()
