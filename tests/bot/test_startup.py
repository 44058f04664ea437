"""A start that the platform refuses ends in one clear line and a non-zero exit, with no
secret printed; a gateway that dies later turns the health check red."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from bot.cli import check_health
from fakes.discord import FakeDiscord
from fakes.telegram import FakeTelegram
from tests.bot.harness import running_bot, small_config

WRONG_TELEGRAM = "987654321:TEST-revoked-never-printed"  # fake, and too short to be real
WRONG_DISCORD = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhIjKl.revoked-signature-0123"


async def nst_bot_run(tmp_path: Path, config: str, env: dict[str, str]) -> tuple[int, str]:
    path = tmp_path / "config.toml"
    path.write_text(f'database = "{tmp_path / "db.sqlite3"}"\n{config}')
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(path),
        env={"PATH": "/usr/bin:/bin", **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, (out + err).decode()


def assert_no_secret(output: str, secret: str) -> None:
    for spelling in (secret, secret.replace(":", "%3A"), secret.rsplit(":", maxsplit=1)[-1],
                     secret.rsplit(".", maxsplit=1)[-1]):
        assert spelling not in output


@pytest.mark.parametrize("path", ["/bot", "/api/typo/bot"])
async def test_a_rejected_telegram_token_or_address_is_one_clear_line(
        tmp_path: Path, path: str) -> None:
    async with FakeTelegram() as fake:
        base = fake.base_url.removesuffix("/bot") + path
        code, output = await nst_bot_run(
            tmp_path, f'[telegram]\nbase_url = "{base}"\n',
            {"STYLEBOT_TELEGRAM_TOKEN": WRONG_TELEGRAM})
    assert code == 3, output
    assert ("nst-bot: Telegram rejected the token or the server address: check [telegram] "
            "token / base_url") in output
    assert "Traceback" not in output
    assert_no_secret(output, WRONG_TELEGRAM)


async def test_a_rejected_discord_token_is_one_clear_line(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        code, output = await nst_bot_run(
            tmp_path, f'[discord]\napi_base_url = "{fake.api_base_url}"\n'
            f'gateway_url = "{fake.gateway_url}"\n', {"STYLEBOT_DISCORD_TOKEN": WRONG_DISCORD})
    assert code == 3, output
    assert "nst-bot: Discord rejected the token: check [discord] token" in output
    assert_no_secret(output, WRONG_DISCORD)


async def test_a_refused_privileged_intent_at_start_is_explained(tmp_path: Path) -> None:
    async with FakeDiscord(message_content_enabled=False) as fake:
        code, output = await nst_bot_run(
            tmp_path, f'[discord]\napi_base_url = "{fake.api_base_url}"\n'
            f'gateway_url = "{fake.gateway_url}"\nmessage_content = true\n',
            {"STYLEBOT_DISCORD_TOKEN": fake.token})
    assert code == 3, output
    assert "Discord refused the Message Content intent" in output
    assert fake.token not in output


async def test_health_turns_red_when_the_discord_gateway_dies(
        tmp_path: Path, random_weights_path: Path) -> None:
    async with FakeDiscord() as fake, running_bot(
            small_config(tmp_path, str(random_weights_path)), discord=fake) as bot:
        assert bot.discord is not None and bot.discord.healthy()
        fake.message_content_enabled = False
        await fake.drop_connection(code=4014)  # e.g. the intent was revoked in the portal
        for _ in range(200):
            if not bot.discord.healthy():
                break
            await asyncio.sleep(0.05)
        assert not bot.discord.healthy()
        assert bot.discord.problem and "Message Content intent" in bot.discord.problem


def test_health_check_reads_every_front_end(tmp_path: Path) -> None:
    import json
    import time

    beat = tmp_path / "health.json"
    base = {"time": time.time(), "workers": 1, "fatal": False}
    beat.write_text(json.dumps({**base, "frontends": {"telegram": True, "discord": True}}))
    assert check_health(beat, 90) == 0
    beat.write_text(json.dumps({**base, "frontends": {"telegram": True, "discord": False}}))
    assert check_health(beat, 90) == 1
