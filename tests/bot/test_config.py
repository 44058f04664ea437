"""Config: one clear message and exit code 2 for every mistake; secrets never printed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.config import ConfigError, Secret, describe, load_config

TOKEN = "123456789:AAE-fake-token-for-the-test"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_example_config_is_valid_and_documented() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    config = load_config(example, env={"STYLEBOT_TELEGRAM_TOKEN": TOKEN})
    assert config.platforms == ["telegram"]
    assert config.telegram.base_url == "https://api.telegram.org/bot"
    assert config.discord.gateway_url == "wss://gateway.discord.gg/"
    lines = [
        line
        for line in example.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    ]
    assert len(lines) > 30


def test_tokens_from_environment_and_masked_everywhere(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""), env={"STYLEBOT_DISCORD_TOKEN": TOKEN})
    assert config.discord.token.reveal() == TOKEN
    shown = describe(config) + repr(config) + str(config) + f"{config.discord.token}"
    assert TOKEN not in shown and f"*** ({len(TOKEN)} characters)" in shown


@pytest.mark.parametrize(
    "text,message",
    [
        ("[pool]\nwokers = 2\n", "Unknown setting pool.wokers in pool. Did you mean 'workers'?"),
        ("[pool]\nworkers = 'two'\n", "pool.workers must be int"),
        ("[defaults]\npreset = 'turbo'\n", "defaults.preset must be one of"),
        ("[pool]\nworkers = 0\n", "pool.workers must be at least 1"),
        ("[telegram\n", "is not valid TOML"),
        ("progress_interval = 0.1\n", "progress_interval must be at least 1 second"),
        ("log_level = 'LOUD'\n", "log_level must be one of DEBUG, INFO"),
        ("[pool]\ndevice = 'gpu7'\n", "pool.device must be auto, cpu, cuda, cuda:N or mps"),
        ("[pool]\nweights = '/nowhere/vgg.pth'\n", "pool.weights must be auto"),
        ("[pool]\nshutdown_grace = -1\n", "pool.shutdown_grace must be 0 or more"),
        ("[limits]\npending_ttl = -5\n", "limits.pending_ttl must be positive"),
        ("[limits]\nmax_steps = 15000\n", "limits.max_steps must be 1..10000"),
        ("[telegram]\nwebhook_url = 'https://bot.example.org/hook'\n",
         "must be set with webhook_url"),
        ("[telegram]\nwebhook_url = 'http://bot.example.org/hook'\nsecret_token = "
         "'0123456789abcdef0'\n", "telegram.webhook_url must be an https:// URL"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("'", ".")):
        load_config(write(tmp_path, text), env={"STYLEBOT_TELEGRAM_TOKEN": TOKEN})


def test_a_broken_gallery_entry_is_reported_by_check_config(tmp_path: Path) -> None:
    """Not at a user's click: check-config (and run) decode every painting first."""
    (tmp_path / "gallery.toml").write_text(
        '[[painting]]\nkey = "sunset"\nfile = "sunset.jpg"\ntitle = "Sunset"\n'
        'artist = "Me"\n')
    checked = nst_bot("check-config", "--config", str(write(
        tmp_path, f"[gallery]\nfolder = '{tmp_path}'\n")), env={"STYLEBOT_TELEGRAM_TOKEN": TOKEN})
    assert checked.returncode == 2 and "gallery painting 'sunset'" in checked.stderr
    assert "sunset.jpg" in checked.stderr and "[gallery]" in checked.stderr
    with pytest.raises(ConfigError, match=r"gallery\.warm_sizes must each be 64"):
        load_config(write(tmp_path, "[gallery]\nwarm_sizes = [4096]\n"),
                    env={"STYLEBOT_TELEGRAM_TOKEN": TOKEN})
    with pytest.raises(ConfigError, match=r"limits\.rerun_hours must be at least 24"):
        load_config(write(tmp_path, "[limits]\nrerun_hours = 1\n"),
                    env={"STYLEBOT_TELEGRAM_TOKEN": TOKEN})


def test_no_token_at_all(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No platform has a token"):
        load_config(write(tmp_path, ""), env={})


def nst_bot(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
        timeout=60,
        check=False,
    )


def test_cli_exit_codes(tmp_path: Path) -> None:
    bad = nst_bot(
        "check-config",
        "--config",
        str(write(tmp_path, "[pool]\nwokers = 2\n")),
        env={"STYLEBOT_TELEGRAM_TOKEN": TOKEN},
    )
    assert bad.returncode == 2 and bad.stderr.startswith("config error: Unknown setting")
    good = nst_bot(
        "check-config", "--config", str(write(tmp_path, "")), env={"STYLEBOT_TELEGRAM_TOKEN": TOKEN}
    )
    assert good.returncode == 0 and "[telegram]" in good.stdout and TOKEN not in good.stdout
    missing = nst_bot("run", "--config", str(tmp_path / "nope.toml"), env={})
    assert missing.returncode == 2 and "not found" in missing.stderr
    # check-config and run share one validation: what one refuses, so does the other
    for command in ("check-config", "run"):
        loud = nst_bot(command, "--config", str(write(tmp_path, "log_level = 'LOUD'\n")),
                       env={"STYLEBOT_TELEGRAM_TOKEN": TOKEN})
        assert loud.returncode == 2 and "log_level must be one of" in loud.stderr


def test_redis_password_from_its_own_variable_goes_into_the_url(tmp_path: Path) -> None:
    env = {"STYLEBOT_TELEGRAM_TOKEN": TOKEN, "STYLEBOT_REDIS_URL": "redis://cache:6379/0",
           "STYLEBOT_REDIS_PASSWORD": "p@ss/word-xyz"}
    config = load_config(write(tmp_path, '[pool]\nbackend = "redis"\n'), env=env)
    assert config.pool.redis_url is not None
    url = urlsplit(config.pool.redis_url.reveal())
    assert (url.scheme, url.hostname, url.port, url.path) == ("redis", "cache", 6379, "/0")
    assert url.password == "p%40ss%2Fword-xyz"  # percent-encoded, as a URL carries it
    assert "p@ss/word-xyz" in config.secrets() and "p@ss/word-xyz" not in describe(config)
    with pytest.raises(ConfigError, match="keep one of them"):
        load_config(write(tmp_path, ""), env={**env, "STYLEBOT_REDIS_URL": "redis://:pw@cache"})
    with pytest.raises(ConfigError, match="needs a redis://"):
        load_config(write(tmp_path, ""), env={**env, "STYLEBOT_REDIS_URL": "unix:///tmp/r.sock"})


def test_secret_is_not_a_string() -> None:
    secret = Secret("abc")
    assert "abc" not in "%s %r" % (secret, secret)  # noqa: UP031 - %-formatting is the point
    assert secret == Secret("abc") and bool(secret) and not Secret("")
