"""Jobs and the events they emit: the vocabulary between the pool and the front ends."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from nst_engine import Settings

from .pictures import Picture


@dataclass(frozen=True)
class Owner:
    """Who a job belongs to: per-user limits and /cancel work on this."""

    platform: str
    user_id: str


@dataclass(frozen=True)
class JobSpec:
    owner: Owner
    chat: str  # for logs and per-chat throttling
    content: Picture  # decoded in the sandbox: upright RGB, at most the largest result size
    style: Picture
    settings: Settings


@dataclass(frozen=True)
class Queued:
    position: int  # 1 = next to start
    waiting: int  # jobs waiting in total


@dataclass(frozen=True)
class Started:
    pass


@dataclass(frozen=True)
class Progressed:
    step: int
    total: int
    scale: int
    scales: int
    elapsed: float
    eta: float | None
    preview_jpeg: bytes | None = field(default=None, repr=False)

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 1.0


@dataclass(frozen=True)
class Finished:
    png: bytes = field(repr=False)
    width: int
    height: int
    seconds: float
    steps: int
    device: str
    precision: str


@dataclass(frozen=True)
class Failed:
    message: str  # shown to the user as is
    reason: str  # input | crash | timeout | shutdown | error | unavailable


@dataclass(frozen=True)
class Cancelled:
    pass


JobEvent = Queued | Started | Progressed | Finished | Failed | Cancelled
TERMINAL = (Finished, Failed, Cancelled)

_ids = itertools.count(1)


class JobHandle:
    """A submitted job: its id, its owner, and a stream of events ending in a terminal one."""

    def __init__(self, spec: JobSpec) -> None:
        self.seq = next(_ids)
        self.id = f"j{self.seq:05d}"
        self.spec = spec
        self._events: asyncio.Queue[JobEvent] = asyncio.Queue()
        self.outcome: JobEvent | None = None
        self.last_queued: tuple[int, int] | None = None  # (position, waiting) last announced

    @property
    def owner(self) -> Owner:
        return self.spec.owner

    @property
    def done(self) -> bool:
        return self.outcome is not None

    def emit(self, event: JobEvent) -> bool:
        """Queue an event; after a terminal one, later events are dropped. True if kept."""
        if self.outcome is not None:
            return False
        if isinstance(event, TERMINAL):
            self.outcome = event
        self._events.put_nowait(event)
        return True

    async def events(self) -> AsyncIterator[JobEvent]:
        while True:
            event = await self._events.get()
            yield event
            if isinstance(event, TERMINAL):
                return


class PoolError(Exception):
    """A submission the pool refused; the message is for the user."""


class QueueFull(PoolError):
    pass


class UserBusy(PoolError):
    pass


class PoolClosed(PoolError):
    pass
