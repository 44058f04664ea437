"""``nst-bot``: run the bot, check a config, or answer a container health check."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .config import SECRET_ENV, TOKEN_ENV, BotConfig, ConfigError, describe, load_config
from .frontend import StartupError
from .redaction import Redactor, install

log = logging.getLogger("stylebot")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nst-bot", description="Stylebot: Telegram and "
                                     "Discord style-transfer bot.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("run", "run every platform that has a token"),
                       ("check-config", "validate a config and print the effective settings "
                        "(secrets masked)")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--config", type=Path, help="TOML file (see config.example.toml); "
                         "tokens may come from STYLEBOT_TELEGRAM_TOKEN/STYLEBOT_DISCORD_TOKEN")
    health = sub.add_parser("health", help="exit 0 if the running bot's heartbeat is fresh")
    health.add_argument("--file", type=Path, required=True)
    health.add_argument("--max-age", type=float, default=90.0)
    return parser


def check_health(path: Path, max_age: float) -> int:
    try:
        beat = json.loads(path.read_text())
    except (OSError, ValueError):
        print(f"unhealthy: no heartbeat at {path}", file=sys.stderr)
        return 1
    age = time.time() - beat["time"]
    down = [name for name, ok in beat.get("frontends", {}).items() if not ok]
    if age > max_age or beat.get("fatal") or beat.get("workers", 0) < 1 or down:
        print(f"unhealthy: heartbeat {age:.0f} s old, {beat}", file=sys.stderr)
        return 1
    return 0


def forget_secret_environment() -> None:
    """Secrets are read once; child processes (painters) must not inherit them."""
    for var in [*TOKEN_ENV.values(), *SECRET_ENV.values()]:
        os.environ.pop(var, None)


def serve(config: BotConfig) -> int:
    from .logs import setup_logging
    from .runner import run

    redact = Redactor(config.secrets())
    setup_logging(config.log_level, config.log_format, redact)
    install(redact)
    try:
        asyncio.run(run(config))
    except StartupError as exc:
        print(f"nst-bot: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130
    except Exception:
        log.exception("nst-bot stopped on an unexpected error")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "health":
        return check_health(args.file, args.max_age)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    # From here on anything printed, logged or raised is redacted.
    install(Redactor(config.secrets()))
    forget_secret_environment()
    if args.command == "check-config":
        print(describe(config))
        return 0
    return serve(config)


if __name__ == "__main__":
    sys.exit(main())
