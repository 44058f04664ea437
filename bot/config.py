"""Bot configuration: a TOML file plus environment tokens, validated into frozen dataclasses.

Every problem becomes one ``ConfigError`` saying which key to fix; ``nst-bot`` turns it
into exit code 2. Tokens are wrapped in ``Secret`` so they cannot reach a log or a
``check-config`` printout by accident.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from nst_engine.settings import Settings

from .core.settings import SETTINGS, Limits, UserSettings
from .logs import FORMATS, LEVELS
from .redaction import url_secrets

TOKEN_ENV = {"telegram": "STYLEBOT_TELEGRAM_TOKEN", "discord": "STYLEBOT_DISCORD_TOKEN"}
#: other secrets that may come from the environment: (table, key) -> variable
SECRET_ENV = {("telegram", "secret_token"): "STYLEBOT_TELEGRAM_WEBHOOK_SECRET",
              ("pool", "redis_url"): "STYLEBOT_REDIS_URL"}
#: the Redis password on its own (as Redis images and compose files pass it): it goes
#: into the Redis URL, so the URL itself can be written down without one
REDIS_PASSWORD_ENV = "STYLEBOT_REDIS_PASSWORD"
#: weights specs that are not paths (see ``nst_engine.weights``)
WEIGHT_SOURCES = ("auto", "normalised", "torchvision")
DEVICE_SPEC = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


class ConfigError(Exception):
    """A configuration problem, phrased as what to fix."""


class Secret:
    """A token that prints as ``***`` everywhere; ``reveal()`` is the one way to read it.

    Deliberately not a ``str`` subclass: f-strings and %-formatting of a str subclass
    bypass ``__str__`` and would print the value.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def masked(self) -> str:
        return f"*** ({len(self._value)} characters)"

    def __str__(self) -> str:
        return self.masked()

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return self.masked()

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class TelegramConfig:
    token: Secret | None = None
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    #: a self-hosted Bot API server started with --local serves files from its disk
    local_mode: bool = False
    #: seconds to wait for the rest of an album after its first item arrives
    album_wait: float = 1.2
    #: public HTTPS URL Telegram posts updates to (webhook mode); empty: long polling
    webhook_url: str = ""
    #: where the webhook server listens, behind the TLS reverse proxy of ``webhook_url``
    listen: str = "127.0.0.1"
    port: int = 8443
    #: sent by Telegram with every webhook request; requests without it get 403
    secret_token: Secret | None = None
    #: Telegram user ids of the bot's owners: they may use /stats
    admin_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class DiscordConfig:
    token: Secret | None = None
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg/"
    #: sync slash commands to this guild only (instant, for development); 0 = globally
    sync_guild_id: int = 0
    #: ask for the privileged message-content intent (enable it in the developer portal)
    #: so the mention-with-attachments flow can read messages; slash commands never need it
    message_content: bool = False
    #: Discord user ids of the bot's owners: they may use /stats
    admin_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class PoolConfig:
    #: "local": painter processes on this host (no server needed); "redis": jobs go to a
    #: Redis queue that painters on any number of hosts take from (``nst-bot worker``)
    backend: Literal["local", "redis"] = "local"
    #: redis://host:port/db or rediss:// (TLS), the password from STYLEBOT_REDIS_PASSWORD
    #: (or written in the URL); a secret
    redis_url: Secret | None = None
    #: local painter processes (the local backend only)
    workers: int = 1
    max_queue: int = 16
    per_user_running: int = 1
    per_user_waiting: int = 1
    #: seconds a job may run before it is stopped
    job_timeout: float = 600.0
    #: seconds running jobs get to finish on shutdown; with the steps after it, shutdown
    #: stays inside Docker's default 10 s stop timeout
    shutdown_grace: float = 6.0
    #: PyTorch threads per worker process (0: PyTorch's default)
    threads: int = 0
    device: str = "auto"
    weights: str = "auto"
    #: Redis backend: a painter that has not reported for this long is taken for dead, and
    #: its job is given to another painter (at most ``attempts`` times in all)
    heartbeat: int = 20
    attempts: int = 3
    #: seconds pictures, previews and results are kept in Redis
    payload_ttl: int = 86400
    #: the most bytes read back from Redis for one picture or result (a compromised painter
    #: host must not be able to exhaust the bot's memory)
    max_payload_mb: float = 64.0


@dataclass(frozen=True)
class LimitsConfig:
    max_upload_mb: float = 20.0
    max_megapixels: float = 40.0
    #: the largest result size users may ask for (long side, pixels)
    max_size: int = 1024
    max_steps: int = 1000
    #: seconds an unpaired image waits for its partner
    pending_ttl: float = 900.0
    #: submissions per user per minute (a flood guard; queued jobs also count)
    submissions_per_minute: int = 4
    #: how long the pair behind a result is kept on disk for its buttons, and the most
    #: megabytes all kept pairs may take (oldest first out)
    rerun_hours: float = 72.0
    rerun_store_mb: float = 1024.0


@dataclass(frozen=True)
class GalleryConfig:
    """The paintings users pick from (``core.gallery``)."""

    #: the public-domain paintings shipped with the bot
    builtin: bool = True
    #: an operator's own paintings: a folder of images and a manifest describing them
    #: (default: ``gallery.toml`` in the folder); a shipped key there replaces that painting
    folder: Path | None = None
    manifest: Path | None = None
    #: result sizes whose gallery targets painters compute between jobs; empty: [defaults] size
    warm_sizes: tuple[int, ...] = ()


@dataclass(frozen=True)
class MetricsConfig:
    #: Prometheus endpoint port; 0: no endpoint
    port: int = 0
    #: the endpoint is for the operator: loopback unless told otherwise
    listen: str = "127.0.0.1"


@dataclass(frozen=True)
class BotConfig:
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    discord: DiscordConfig = field(default_factory=DiscordConfig)
    pool: PoolConfig = field(default_factory=PoolConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    #: what users get until they change it with /weights (declared in core.settings)
    defaults: UserSettings = field(default_factory=UserSettings)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    gallery: GalleryConfig = field(default_factory=GalleryConfig)
    #: seconds between progress edits of one chat's status messages
    progress_interval: float = 3.0
    #: Telegram allows ~20 messages a minute in a group: edits there are spaced wider
    group_progress_interval: float = 4.0
    database: Path = Path("stylebot.sqlite3")
    log_level: str = "INFO"
    log_format: str = "json"

    @property
    def platforms(self) -> list[str]:
        return [name for name in ("telegram", "discord") if getattr(self, name).token]

    def secrets(self) -> list[str]:
        """Every configured secret for redaction, and the password inside any secret URL
        (the password of a Redis URL) on its own."""
        found = []
        for value in walk(self):
            if isinstance(value, Secret) and value:
                found += [value.reveal(), *url_secrets(value.reveal())]
        return found


def walk(obj: Any) -> typing.Iterator[Any]:
    """Every leaf value of a config, depth first."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from walk(value)
        else:
            yield value


def load_config(path: Path | None, env: typing.Mapping[str, str] | None = None, *,
                painter: bool = False) -> BotConfig:
    """Read ``path`` (optional) and fill secrets from the environment. A ``painter``
    (``nst-bot worker``) needs no platform token, only ``[pool]``."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"Config file {path} not found. Copy config.example.toml "
                              "and edit it.") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}.") from None
    for platform, var in TOKEN_ENV.items():
        if env.get(var):
            raw.setdefault(platform, {})["token"] = env[var]
    for (table, key), var in SECRET_ENV.items():
        if env.get(var):
            raw.setdefault(table, {})[key] = env[var]
    pool = raw.get("pool")
    if env.get(REDIS_PASSWORD_ENV) and isinstance(pool, dict) and isinstance(
            pool.get("redis_url"), str):
        pool["redis_url"] = with_password(pool["redis_url"], env[REDIS_PASSWORD_ENV])
    config = build(BotConfig, raw, "")
    if not config.platforms and not painter:
        raise ConfigError("No platform has a token: set [telegram] token or "
                          f"{TOKEN_ENV['telegram']}, and/or [discord] token or "
                          f"{TOKEN_ENV['discord']}.")
    validate(config)
    return config


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` (percent-encoded) as its password; one written in the URL
    as well is a contradiction, not something to pick from."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ConfigError(f"{REDIS_PASSWORD_ENV} needs a redis:// or rediss:// URL in "
                          "pool.redis_url.")
    if parts.password is not None:
        raise ConfigError(f"pool.redis_url holds a password and {REDIS_PASSWORD_ENV} is set "
                          "too: keep one of them.")
    user = quote(parts.username, safe="") if parts.username else ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}").geturl()


def build(cls: type, raw: Any, prefix: str) -> Any:
    """Instantiate dataclass ``cls`` from a TOML table, rejecting unknown keys and bad types."""
    where = prefix.rstrip(".") or "the top level"
    if not isinstance(raw, dict):
        raise ConfigError(f"[{where}] must be a table.")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"Unknown setting {prefix}{key} in {where}.{hint}")
    values = {}
    for name, value in raw.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            values[name] = build(hint, value, f"{prefix}{name}.")
        else:
            values[name] = convert(value, hint, f"{prefix}{name}")
    return cls(**values)


def convert(value: Any, hint: Any, key: str) -> Any:
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        if value is None or value == "":
            return None
        hint = next(a for a in args if a is not type(None))
        args = typing.get_args(hint)
    if typing.get_origin(hint) is typing.Literal:
        if value not in args:
            raise ConfigError(f"{key} must be one of {', '.join(map(repr, args))} "
                              f"(got {value!r}).")
        return value
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{key} must be a list, e.g. [1, 2].")
        return tuple(convert(item, args[0], f"{key}[{i}]") for i, item in enumerate(value))
    if hint is Secret:
        if not isinstance(value, str):
            raise ConfigError(f"{key} must be a string.")
        return Secret(value.strip())
    if hint is Path:
        if not isinstance(value, str):
            raise ConfigError(f"{key} must be a path string.")
        return Path(value).expanduser()
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ConfigError(f"{key} must be {hint.__name__} (got {value!r}).")
    return value


def engine_limit(name: str) -> int:
    """The engine's own upper bound for a setting (``Settings`` metadata)."""
    field_ = next(f for f in dataclasses.fields(Settings) if f.name == name)
    return int(field_.metadata["high"])


def webhook_checks(telegram: TelegramConfig) -> list[tuple[bool, str]]:
    if not telegram.webhook_url:
        return []
    url = urlsplit(telegram.webhook_url)
    local = url.hostname in ("127.0.0.1", "localhost", "::1")
    secret = telegram.secret_token.reveal() if telegram.secret_token else ""
    return [
        (url.scheme == "https" or (url.scheme == "http" and local),
         "telegram.webhook_url must be an https:// URL (Telegram only posts to HTTPS)."),
        (re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret) is not None,
         "telegram.secret_token (or STYLEBOT_TELEGRAM_WEBHOOK_SECRET) must be set with "
         "webhook_url: 16 to 256 of A-Z, a-z, 0-9, _ and -."),
        (1 <= telegram.port <= 65535, "telegram.port must be 1..65535."),
    ]


def default_checks(config: BotConfig) -> list[tuple[bool, str]]:
    """``[defaults]`` within the same ranges users are held to (``core.settings``)."""
    limits = Limits(config.limits.max_size, config.limits.max_steps)
    checks = []
    for setting in SETTINGS:
        value = getattr(config.defaults, setting.name)
        if setting.choices():
            allowed = setting.choices() + (("",) if setting.name == "language" else ())
            checks.append((value in allowed, f"defaults.{setting.name} must be one of "
                           f"{', '.join(map(repr, allowed))} (got {value!r})."))
        elif not (setting.name == "steps" and value == 0):
            low, high = setting.bounds(limits)
            checks.append((low <= value <= high, f"defaults.{setting.name} must be "
                           f"{low:g}..{high:g} (got {value})."))
    return checks


def validate(config: BotConfig) -> None:
    """Everything ``run`` relies on, so ``check-config`` accepts exactly what ``run`` does."""
    max_size, max_steps = engine_limit("size"), engine_limit("steps")
    weights = config.pool.weights
    checks = [
        (config.pool.workers >= 1, "pool.workers must be at least 1."),
        (config.pool.backend == "local" or bool(config.pool.redis_url),
         "pool.redis_url (or STYLEBOT_REDIS_URL) must be set with pool.backend = \"redis\"."),
        (not config.pool.redis_url or urlsplit(config.pool.redis_url.reveal()).scheme
         in ("redis", "rediss", "unix"),
         "pool.redis_url must be a redis://, rediss:// or unix:// URL."),
        (config.pool.heartbeat >= 5, "pool.heartbeat must be at least 5 seconds."),
        (config.pool.attempts >= 1, "pool.attempts must be at least 1."),
        (config.pool.payload_ttl >= 600, "pool.payload_ttl must be at least 600 seconds."),
        (config.pool.max_payload_mb > 0, "pool.max_payload_mb must be positive."),
        (config.pool.max_queue >= 1, "pool.max_queue must be at least 1."),
        (config.pool.per_user_running >= 1, "pool.per_user_running must be at least 1."),
        (config.pool.per_user_waiting >= 0, "pool.per_user_waiting must be 0 or more."),
        (config.pool.job_timeout > 0, "pool.job_timeout must be positive."),
        (config.pool.shutdown_grace >= 0, "pool.shutdown_grace must be 0 or more seconds."),
        (config.pool.threads >= 0, "pool.threads must be 0 (default) or more."),
        (DEVICE_SPEC.fullmatch(config.pool.device) is not None,
         f"pool.device must be auto, cpu, cuda, cuda:N or mps (got {config.pool.device!r})."),
        (weights in WEIGHT_SOURCES or Path(weights).expanduser().is_file(),
         f"pool.weights must be {', '.join(WEIGHT_SOURCES)} or an existing file "
         f"(no file at {weights!r})."),
        (64 <= config.limits.max_size <= max_size, f"limits.max_size must be 64..{max_size}."),
        (1 <= config.limits.max_steps <= max_steps,
         f"limits.max_steps must be 1..{max_steps} (the engine's limit)."),
        (config.limits.max_upload_mb > 0, "limits.max_upload_mb must be positive."),
        (config.limits.max_megapixels > 0, "limits.max_megapixels must be positive."),
        (config.limits.pending_ttl > 0, "limits.pending_ttl must be positive."),
        (config.limits.submissions_per_minute >= 1,
         "limits.submissions_per_minute must be at least 1."),
        *default_checks(config),
        (config.telegram.album_wait >= 0, "telegram.album_wait must be 0 or more seconds."),
        *webhook_checks(config.telegram),
        (config.progress_interval >= 1.0, "progress_interval must be at least 1 second."),
        (config.group_progress_interval >= 3.0,
         "group_progress_interval must be at least 3 seconds (Telegram: 20 messages/minute)."),
        (config.log_level.upper() in LEVELS,
         f"log_level must be one of {', '.join(LEVELS)} (got {config.log_level!r})."),
        (config.log_format in FORMATS, "log_format must be 'json' or 'text'."),
        (0 <= config.metrics.port <= 65535, "metrics.port must be 0 (off) or 1..65535."),
        (config.limits.rerun_hours >= 24, "limits.rerun_hours must be at least 24."),
        (config.limits.rerun_store_mb > 0, "limits.rerun_store_mb must be positive."),
        (all(64 <= s <= config.limits.max_size for s in config.gallery.warm_sizes),
         "gallery.warm_sizes must each be 64..limits.max_size."),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    gallery_check(config)


def gallery_check(config: BotConfig) -> None:
    """Every gallery entry is read and decoded here: a broken or missing one stops
    check-config and run, never a user's click."""
    from .core.gallery import GalleryError, load_gallery

    try:
        load_gallery(config.gallery)
    except GalleryError as exc:
        raise ConfigError(f"{exc} (see [gallery] folder / manifest).") from None


def toml_value(value: object) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (str, Path)):
        return repr(str(value))
    if isinstance(value, tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


def describe(config: BotConfig) -> str:
    """The effective settings as TOML-like text, secrets masked, for ``check-config``."""
    lines: list[str] = []

    def emit(obj: Any, table: str) -> None:
        nested = []
        if table:
            lines.append(f"\n[{table}]")
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                nested.append((value, f.name))
            elif isinstance(value, Secret):
                lines.append(f"{f.name} = {value.masked()}")
            else:
                lines.append(f"{f.name} = {toml_value(value)}")
        for value, name in nested:
            emit(value, name)

    emit(config, "")
    lines.append(f"\n# platforms that will run: {', '.join(config.platforms)}")
    return "\n".join(lines).lstrip("\n")
