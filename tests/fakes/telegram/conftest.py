"""Fixtures and helpers of the fake Telegram's self-tests: a started fake, a real PTB
Application long-polling it, a plain PTB Bot, and small test images."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from PIL import Image
from telegram import Bot
from telegram.ext import Application, ApplicationBuilder, BaseHandler, ContextTypes

from fakes.telegram import FakeTelegram

Context = ContextTypes.DEFAULT_TYPE
ALICE_ID = 1001
BOB_ID = 1002


def make_png(width: int = 64, height: int = 48, tint: int = 0) -> bytes:
    """A small RGB gradient; ``tint`` makes distinct images."""
    ramp = Image.linear_gradient("L").resize((width, height))
    flat = Image.new("L", (width, height), tint)
    image = Image.merge("RGB", (ramp, ramp.transpose(Image.Transpose.FLIP_TOP_BOTTOM), flat))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@asynccontextmanager
async def polling_app(
    fake: FakeTelegram, *handlers: BaseHandler[Any, Any, Any]
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A real PTB Application long-polling the fake; always shut down in reverse order."""
    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    app.add_handlers(handlers)
    assert app.updater is not None
    async with AsyncExitStack() as stack:
        await app.initialize()
        stack.push_async_callback(app.shutdown)
        await app.start()
        stack.push_async_callback(app.stop)
        await app.updater.start_polling(poll_interval=0, timeout=1)
        stack.push_async_callback(app.updater.stop)
        yield app


@asynccontextmanager
async def plain_bot(fake: FakeTelegram, token: str | None = None) -> AsyncIterator[Bot]:
    """A PTB Bot without polling, for request/response checks."""
    bot = Bot(token or fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)
    async with bot:
        yield bot


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until a handler running in the Application has recorded its effect."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)
