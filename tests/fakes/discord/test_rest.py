"""REST basics: unknown routes and a wrong bot token answer as Discord does."""

from __future__ import annotations

import aiohttp
import discord
import pytest

from fakes.discord import FakeDiscord


async def test_unknown_route_and_bad_token(fake: FakeDiscord) -> None:
    headers = {"Authorization": f"Bot {fake.token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(fake.api_base_url + "/nope", headers=headers) as response,
    ):
        assert response.status == 404
        assert await response.json() == {"message": "404: Not Found", "code": 0}
    client = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.LoginFailure):
        await client.login("wrong-token")
    await client.close()
