from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fakes.telegram import FakeTelegram
from tests.bot.conftest import Backend
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


@pytest.fixture
async def tgbot_any(
    fake: FakeTelegram, tmp_path: Path, random_weights_path: Path, backend: Backend
) -> AsyncIterator[TelegramBot]:
    """Like ``tgbot``, once on each job-pool backend (the pool's contract, end to end)."""
    config = backend(small_config(tmp_path, str(random_weights_path)))
    async with telegram_bot(fake, config) as bot:
        yield bot
