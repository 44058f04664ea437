from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fakes.telegram import FakeTelegram
from tests.bot.harness import TelegramBot, small_config, telegram_bot


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as tg:
        yield tg


@pytest.fixture
async def tgbot(
    fake: FakeTelegram, tmp_path: Path, random_weights_path: Path
) -> AsyncIterator[TelegramBot]:
    """The bot on seeded RANDOM weights (fast; these tests are about the chat flows)."""
    async with telegram_bot(fake, small_config(tmp_path, str(random_weights_path))) as bot:
        yield bot
