from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fakes.discord import FakeDiscord
from tests.bot.conftest import Backend
from tests.bot.harness import RunningBot, running_bot, small_config


@dataclass
class World:
    fake: FakeDiscord
    guild: dict
    channel: dict
    alice: dict
    bob: dict
    admin: dict


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Art Club")
        alice, bob, admin = fake.add_user("alice"), fake.add_user("bob"), fake.add_user("mod")
        fake.add_member(guild, alice)
        fake.add_member(guild, bob)
        fake.add_member(guild, admin, manage_guild=True)
        yield World(fake, guild, guild["channels"][0], alice, bob, admin)


@pytest.fixture
async def dcbot(
    world: World, tmp_path: Path, random_weights_path: Path
) -> AsyncIterator[RunningBot]:
    """The bot on seeded RANDOM weights (fast; these tests are about the Discord flows)."""
    async with running_bot(
        small_config(tmp_path, str(random_weights_path)), discord=world.fake
    ) as bot:
        yield bot


@pytest.fixture
async def dcbot_any(
    world: World, tmp_path: Path, random_weights_path: Path, backend: Backend
) -> AsyncIterator[RunningBot]:
    """Like ``dcbot``, once on each job-pool backend."""
    config = backend(small_config(tmp_path, str(random_weights_path)))
    async with running_bot(config, discord=world.fake) as bot:
        yield bot
