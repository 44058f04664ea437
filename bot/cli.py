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

from .config import (
    REDIS_PASSWORD_ENV,
    SECRET_ENV,
    TOKEN_ENV,
    BotConfig,
    ConfigError,
    describe,
    load_config,
)
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
    worker = sub.add_parser("worker", help="run one painter for the Redis backend "
                            "([pool] backend = \"redis\"): as many as you like, on any host")
    worker.add_argument("--config", type=Path, help="TOML file; reads [pool] (redis_url, "
                        "device, weights, threads); the URL may come from STYLEBOT_REDIS_URL")
    worker.add_argument("--device", help="override [pool] device, e.g. cuda:1 (one painter "
                        "per GPU)")
    health = sub.add_parser("health", help="exit 0 if the running bot's heartbeat is fresh; "
                            "with --config and the Redis backend, also check Redis and count "
                            "live painters")
    health.add_argument("--file", type=Path)
    health.add_argument("--config", type=Path)
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
    for var in [*TOKEN_ENV.values(), *SECRET_ENV.values(), REDIS_PASSWORD_ENV]:
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


def check_painters(config: BotConfig) -> int:
    """Redis reachable, and how many painters registered with the queue lately."""
    from .core.pool.redis import count_painters

    try:
        painters = asyncio.run(count_painters(config.pool))
    except Exception as exc:
        print(f"unhealthy: Redis unreachable ({type(exc).__name__})", file=sys.stderr)
        return 1
    print(f"redis reachable, {painters} painter(s) live")
    return 0 if painters else 1


def paint(config: BotConfig, device: str | None) -> int:
    """``nst-bot worker``: one painter, until SIGTERM (its job finished or handed back)."""
    from .core.gallery import GalleryWarmUp
    from .core.pool.remote_painter import run_painter
    from .logs import setup_logging

    setup_logging(config.log_level, config.log_format, Redactor(config.secrets()))
    if config.pool.backend != "redis":
        print("nst-bot worker needs [pool] backend = \"redis\" and a redis_url",
              file=sys.stderr)
        return 2
    try:
        run_painter(config.pool, device, GalleryWarmUp.of(config))
    except KeyboardInterrupt:
        return 0
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "health" and args.config is None:
        if args.file is None:
            print("health needs --file (the bot's heartbeat) and/or --config", file=sys.stderr)
            return 2
        return check_health(args.file, args.max_age)
    try:
        config = load_config(args.config, painter=args.command == "worker")
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    # From here on anything printed, logged or raised is redacted.
    install(Redactor(config.secrets()))
    forget_secret_environment()
    if args.command == "check-config":
        print(describe(config))
        return 0
    if args.command == "worker":
        return paint(config, args.device)
    if args.command == "health":
        alive = check_health(args.file, args.max_age) if args.file else 0
        redis = check_painters(config) if config.pool.backend == "redis" else 0
        return alive or redis
    return serve(config)


if __name__ == "__main__":
    sys.exit(main())
