"""Progress reports and an ETA that knows later scales cost more per step."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from PIL import Image


@dataclass(frozen=True)
class Progress:
    step: int
    total: int
    scale: int  # 1-based index of the current scale
    scales: int
    size: tuple[int, int]  # (width, height) being optimised
    losses: Mapping[str, float]
    elapsed: float
    eta: float | None  # seconds left, None until measurable
    preview: Image.Image | None = field(default=None, repr=False)

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 1.0


ProgressCallback = Callable[[Progress], None]
StopCheck = Callable[[], bool]


class EtaClock:
    """Estimates remaining time from the measured seconds per unit of work.

    A step at a scale costs about its pixel count, so work is counted in pixel-steps and
    the rate measured on small scales extrapolates to large ones.
    """

    def __init__(self, plan: Sequence[tuple[int, int]], *, started: float | None = None) -> None:
        """``plan``: (steps, pixels) for each scale, in order; ``started``: perf_counter()."""
        self.plan = list(plan)
        self.start = time.perf_counter() if started is None else started
        self.done_work = 0.0
        self.timed_work = 0.0
        self.timed_seconds = 0.0
        self.total_work = float(sum(s * p for s, p in self.plan))
        self._last = self.start

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def tick(self, pixels: int, *, timed: bool = True) -> None:
        """One step of ``pixels`` finished; untimed ticks (warm-up) skip the rate."""
        now = time.perf_counter()
        self.done_work += pixels
        if timed:
            self.timed_work += pixels
            self.timed_seconds += now - self._last
        self._last = now

    def restart_interval(self) -> None:
        """Exclude time spent outside steps (preparing a scale) from the rate."""
        self._last = time.perf_counter()

    def eta(self) -> float | None:
        if self.timed_work <= 0:
            return None
        rate = self.timed_seconds / self.timed_work
        return max(0.0, (self.total_work - self.done_work) * rate)


def report_every(cadence: int, step: int, total: int) -> bool:
    """Previews at every ``cadence`` steps and always at the last one."""
    return cadence > 0 and (step % cadence == 0 or step == total)
