"""What the Redis backend keeps in Redis, and how: key names, JSON (never pickle: a Redis
that a painter host can write must not become code execution in the bot), and reads that
never return more than a set number of bytes.

Pictures travel by reference: a job's arguments name blob keys (``stylebot:blob:<sha256>``,
shared by every job of the same picture), previews are keys with a sequence number, and a
result is one key; all of them expire.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from redis.asyncio import Redis

from nst_engine import Settings

from ..jobs import JobSpec, Owner
from ..pictures import Picture

PREFIX = "stylebot"
#: the SAQ queue painters take jobs from
QUEUE = "stylebot"
#: the job function painters register
FUNCTION = "paint"


class PayloadTooLarge(Exception):
    """A value in Redis was bigger than the reader allows: refused, not read."""


def blob_key(digest: str) -> str:
    return f"{PREFIX}:blob:{digest}"


def preview_key(job: str, seq: int) -> str:
    return f"{PREFIX}:preview:{job}:{seq}"


def result_key(job: str) -> str:
    return f"{PREFIX}:result:{job}"


def delivery_key(job: str) -> str:
    """How to deliver a job's outcome: written by the bot that took the job."""
    return f"{PREFIX}:delivery:{job}"


def claim_key(job: str) -> str:
    """Set (NX) by the bot that posts a job's outcome: it is posted once."""
    return f"{PREFIX}:delivered:{job}"


def owner_key(owner: Owner) -> str:
    """The owner's unfinished jobs, for per-user limits across every bot replica."""
    return f"{PREFIX}:owner:{owner.platform}:{owner.user_id}"


UNDELIVERED = f"{PREFIX}:undelivered"


async def put_blob(redis: Redis, picture: Picture, ttl: int) -> str:
    """Store a picture's bytes once per content (re-runs and popular paintings share)."""
    key = blob_key(picture.digest)
    if not await redis.set(key, picture.data, ex=ttl, nx=True):
        await redis.expire(key, ttl)
    return key


async def get_capped(redis: Redis, key: str, limit: int) -> bytes | None:
    """The value at ``key`` if it exists and holds at most ``limit`` bytes; GETRANGE never
    transfers more than that, whatever was written there."""
    data: bytes = await redis.getrange(key, 0, limit)
    if len(data) > limit:
        raise PayloadTooLarge(f"{key} holds more than {limit} bytes")
    if not data and not await redis.exists(key):
        return None
    return data


def spec_arguments(spec: JobSpec, content: str, style: str) -> dict[str, Any]:
    """A job's arguments as JSON: who, where, the pictures' keys and the settings."""
    return {"owner": [spec.owner.platform, spec.owner.user_id], "chat": spec.chat,
            "content": [content, spec.content.width, spec.content.height],
            "style": [style, spec.style.width, spec.style.height],
            "settings": dataclasses.asdict(spec.settings)}


def settings_from(values: dict[str, Any]) -> Settings:
    """Engine settings from JSON (tuples come back as lists); validated by ``Settings``."""
    known = {f.name for f in dataclasses.fields(Settings)}
    given = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in known}
    return Settings(**given)


async def spec_from(redis: Redis, arguments: dict[str, Any], limit: int) -> JobSpec:
    """The job a painter received, with its pictures read back (capped)."""
    pictures = []
    for name in ("content", "style"):
        key, width, height = arguments[name]
        data = await get_capped(redis, key, limit)
        if data is None:
            raise LookupError(f"{key} has expired")
        pictures.append(Picture(data=data, width=int(width), height=int(height), thumbnail=b""))
    platform, user_id = arguments["owner"]
    return JobSpec(Owner(platform, user_id), arguments["chat"], pictures[0], pictures[1],
                   settings_from(arguments["settings"]))
