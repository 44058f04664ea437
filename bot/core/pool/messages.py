"""What the pool and a painter process say to each other, as typed messages.

Parent → painter: ``Paint`` a job, or ``Stop``. Painter → parent: ``Ready`` once the
weights are loaded, ``CannotStart`` if they cannot be, then a ``Report`` per progress
step and one with the job's outcome, and ``Warmed`` once the gallery's targets, made
between jobs, are all there. Cancellation does not go through the pipe: the
parent writes the job's sequence number into a shared integer the painter polls.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..gallery import GalleryWarmUp
from ..jobs import Cancelled, Failed, Finished, JobSpec, Progressed


@dataclass(frozen=True)
class PainterOptions:
    """How a painter loads the engine: from ``[pool]``; what it prepares of the gallery."""

    weights: str
    device: str
    threads: int | None
    gallery: GalleryWarmUp | None = None


@dataclass(frozen=True)
class Paint:
    seq: int
    spec: JobSpec


@dataclass(frozen=True)
class Stop:
    pass


@dataclass(frozen=True)
class Ready:
    info: dict[str, str]  # device, weights origin, pid: for the log


@dataclass(frozen=True)
class CannotStart:
    error: str  # for the log and the health check, never for users


@dataclass(frozen=True)
class Warmed:
    paintings: int  # how many gallery paintings' targets are kept
    seconds: float  # from Ready, jobs in between included
    error: str = ""  # why warming stopped early: for the log, never for users


@dataclass(frozen=True)
class Report:
    seq: int
    event: Progressed | Finished | Failed | Cancelled


ToPainter = Paint | Stop
FromPainter = Ready | CannotStart | Warmed | Report
