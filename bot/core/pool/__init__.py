"""The job pool: the one interface front ends, the core and the runner use, whatever
paints the pictures.

``local.LocalJobPool`` runs painters as processes on this host (the default);
``redis.RedisJobPool`` queues jobs in Redis for painters on any number of hosts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ...config import PoolConfig
from ..gallery import GalleryWarmUp
from ..jobs import JobHandle, JobSpec, Owner


@dataclass(frozen=True)
class PoolStats:
    running: int
    waiting: int
    workers: int
    max_queue: int


class JobPool(Protocol):
    """What front ends, the core and the runner use; each backend implements all of it."""

    #: why no painter can start, for logs and the health check (never shown to users)
    fatal: str | None

    async def start(self) -> None: ...

    async def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until painters have loaded their weights (tests, benchmarks)."""

    async def submit(self, spec: JobSpec) -> JobHandle: ...

    def cancel(self, handle: JobHandle) -> bool: ...

    def cancel_owner(self, owner: Owner) -> list[JobHandle]: ...

    def jobs_of(self, owner: Owner) -> list[JobHandle]: ...

    def position(self, handle: JobHandle) -> int | None: ...

    def stats(self) -> PoolStats: ...

    async def shutdown(self, grace: float) -> None: ...

    async def remember(self, handle: JobHandle, record: dict[str, Any]) -> None:
        """Keep how to deliver ``handle``'s outcome, for a bot that starts later (a no-op
        where jobs do not outlive the bot)."""

    async def undelivered(self) -> list[tuple[JobHandle, dict[str, Any]]]:
        """Jobs a previous bot process took whose outcome is not posted yet."""


def make_pool(config: PoolConfig, gallery: GalleryWarmUp | None = None) -> JobPool:
    """The configured backend; each is imported only when chosen (the local one spawns
    painter processes here, the Redis one needs none). ``gallery``: what local painters
    prepare between jobs."""
    if config.backend == "redis":
        from .redis import RedisJobPool

        return RedisJobPool(config)
    from .local import LocalJobPool

    return LocalJobPool(config, gallery)
