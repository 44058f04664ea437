"""Fixtures shared by the bot's tests: which job-pool backend a test runs on."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from bot.config import BotConfig, Secret

Backend = Callable[[BotConfig], BotConfig]


@pytest.fixture(params=["local", "redis"])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Run the test on each backend: local painters, or Redis with two real painters."""
    if request.param == "local":
        return lambda config: config
    request.getfixturevalue("painters")
    url = request.getfixturevalue("clean_redis")

    def on_redis(config: BotConfig) -> BotConfig:
        return dataclasses.replace(config, pool=dataclasses.replace(
            config.pool, backend="redis", redis_url=Secret(url)))

    return on_redis
