"""Jobs and the events they emit: the vocabulary between the pool and the front ends."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from nst_engine import Settings

from ..i18n import Text, _
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
    """Why a job ended without a picture; ``failure_text`` says it to the user."""

    reason: str  # a key of FAILURES


@dataclass(frozen=True)
class Cancelled:
    pass


@dataclass(frozen=True)
class Retrying:
    """A painter stopped (died, or lost its host) while painting: the job is queued again
    for another one."""

    attempt: int  # the attempt about to start (2 = the first retry)


#: what a status message shows while a job is on its way
Shown = Queued | Started | Progressed | Retrying
JobEvent = Shown | Finished | Failed | Cancelled
TERMINAL = (Finished, Failed, Cancelled)

_ids = itertools.count(1)


async def _always() -> bool:
    return True


async def _nothing() -> None:
    return None


class JobHandle:
    """A submitted job: its id, its owner, and a stream of events ending in a terminal one.

    ``claim`` is awaited before the outcome is posted: a pool shared by several bot
    processes (or a bot that restarted) lets only one of them post it; ``delivered`` is
    awaited once it was posted.
    """

    def __init__(self, owner: Owner, chat: str, *, spec: JobSpec | None = None,
                 key: str | None = None, claim: Callable[[], Awaitable[bool]] = _always,
                 delivered: Callable[[], Awaitable[None]] = _nothing) -> None:
        self.seq = next(_ids)
        self.id = key or f"j{self.seq:05d}"
        self.owner = owner
        self.chat = chat  # for logs and per-chat throttling
        #: what to paint, where the pool still needs it (not for a job taken over after a
        #: restart: its painter has it)
        self.spec = spec
        self.claim = claim
        self.delivered = delivered
        self._events: asyncio.Queue[JobEvent] = asyncio.Queue()
        self.outcome: JobEvent | None = None
        self.last_queued: tuple[int, int] | None = None  # (position, waiting) last announced

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


#: what a user is told for each way a job can fail: the one place for these texts
FAILURES: dict[str, Text] = {
    "input": _("I couldn't paint with those pictures. Please send them again, or as other "
               "files."),
    "crash": _("The painter process stopped unexpectedly (perhaps out of memory) while "
               "working on your picture. Please try again, maybe with a smaller /weights "
               "size."),
    "error": _("Something went wrong while painting your picture. Please try again; if it "
               "keeps happening, try a smaller size with /weights size 512."),
    "timeout": _("Your picture took too long and was stopped. Try fewer steps or a smaller "
                 "size."),
    "shutdown": _("The bot is restarting, so your picture was not started. Please send it "
                  "again in a minute."),
    "cut_off": _("The bot restarted while painting your picture, so it was stopped. Please "
                 "send it again in a minute."),
    "unavailable": _("The painter is not available right now, so I can't paint your "
                     "picture. The admins have been told; please try again later."),
    "delivery": _("Your picture is finished, but the chat would not accept it as a photo or "
                  "as a file. Please try again with a smaller /weights size."),
}


def failure_text(failed: Failed) -> Text:
    return FAILURES.get(failed.reason, FAILURES["error"])


class PoolError(Exception):
    """A submission the pool refused; ``text`` tells the user why."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.msgid)
        self.text = text


class QueueFull(PoolError):
    pass


class UserBusy(PoolError):
    pass


class PoolClosed(PoolError):
    pass
