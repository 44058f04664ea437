"""What operators watch: jobs by outcome, queue depth, job durations, 429s, event-loop
lag and refused uploads — as a Prometheus endpoint and as words for ``/stats``.

Each bot has its own registry (not prometheus_client's global one), so several bots in
one process (the tests) never collide. The endpoint is off unless ``[metrics] port`` is
set, and binds 127.0.0.1 by default: the numbers are for the operator, not the world.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from ..i18n import Speech, _, lines

log = logging.getLogger("stylebot.metrics")

#: seconds between event-loop lag samples
LAG_EVERY = 0.5
#: how many recent samples /stats summarises
RECENT = 200


@dataclass(frozen=True)
class Snapshot:
    """The numbers behind ``/stats``."""

    outcomes: dict[str, int]
    running: int
    waiting: int
    painters: int
    median_job_seconds: float | None
    rate_limited: dict[str, int]
    loop_lag_p99: float | None
    refusals: dict[str, int]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.jobs = Counter("stylebot_jobs", "Jobs by outcome (finished, cancelled, or the "
                            "failure reason)", ["outcome"], registry=self.registry)
        self.job_seconds = Histogram(
            "stylebot_job_seconds", "Seconds from start to result, by preset and size",
            ["preset", "size"], registry=self.registry,
            buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600))
        self.queue_depth = Gauge("stylebot_queue_depth", "Jobs waiting for a painter",
                                 registry=self.registry)
        self.running = Gauge("stylebot_jobs_running", "Jobs being painted",
                             registry=self.registry)
        self.painters = Gauge("stylebot_painters", "Painters alive", registry=self.registry)
        self.rate_limited = Counter("stylebot_rate_limited", "429 answers from a platform",
                                    ["platform"], registry=self.registry)
        self.loop_lag = Histogram(
            "stylebot_event_loop_lag_seconds", "How late the event loop runs a timer",
            registry=self.registry, buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 5))
        self.refusals = Counter("stylebot_decode_refusals", "Uploads refused, by reason",
                                ["reason"], registry=self.registry)
        self._durations: collections.deque[float] = collections.deque(maxlen=RECENT)
        self._lags: collections.deque[float] = collections.deque(maxlen=RECENT)
        self._server: Any = None

    # ----- recording -------------------------------------------------------------------
    def job_ended(self, outcome: str, *, preset: str, size: int, seconds: float | None) -> None:
        self.jobs.labels(outcome).inc()
        if seconds is not None:
            self.job_seconds.labels(preset, str(size)).observe(seconds)
            self._durations.append(seconds)

    def throttled(self, platform: str) -> None:
        self.rate_limited.labels(platform).inc()

    def refused(self, reason: str) -> None:
        self.refusals.labels(reason).inc()

    def track_pool(self, stats: Callable[[], Any]) -> None:
        """Read the queue from the pool at scrape time rather than mirroring it."""
        self.queue_depth.set_function(lambda: stats().waiting)
        self.running.set_function(lambda: stats().running)
        self.painters.set_function(lambda: stats().workers)

    async def sample_loop_lag(self) -> None:
        """Runs for the bot's lifetime: how late a LAG_EVERY timer fires is the loop's lag."""
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(LAG_EVERY)
            lag = max(0.0, loop.time() - before - LAG_EVERY)
            self.loop_lag.observe(lag)
            self._lags.append(lag)

    # ----- reading ---------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        def by_label(metric: Counter) -> dict[str, int]:
            found = {}
            for family in metric.collect():
                for sample in family.samples:
                    if sample.name.endswith("_total") and sample.value:
                        found[next(iter(sample.labels.values()))] = int(sample.value)
            return found

        lags = sorted(self._lags)
        return Snapshot(
            outcomes=by_label(self.jobs),
            running=int(_gauge(self.running)),
            waiting=int(_gauge(self.queue_depth)),
            painters=int(_gauge(self.painters)),
            median_job_seconds=statistics.median(self._durations) if self._durations else None,
            rate_limited=by_label(self.rate_limited),
            loop_lag_p99=lags[min(len(lags) - 1, int(len(lags) * 0.99))] if lags else None,
            refusals=by_label(self.refusals))

    # ----- the endpoint ----------------------------------------------------------------
    def serve(self, listen: str, port: int) -> None:
        self._server, _ = start_http_server(port, listen, registry=self.registry)
        log.info("metrics endpoint", extra={"listen": f"{listen}:{port}"})

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _gauge(gauge: Gauge) -> float:
    for family in gauge.collect():
        for sample in family.samples:
            return sample.value
    return 0.0


class RateLimitLogCounter(logging.Filter):
    """discord.py handles Discord's 429s itself and only logs them; this counts those
    log records (attached to the ``discord.http`` logger) without changing them."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__()
        self.metrics = metrics

    def filter(self, record: logging.LogRecord) -> bool:
        if "rate limited" in str(record.msg).lower():
            self.metrics.throttled("discord")
        return True


def describe(snapshot: Snapshot, started: float) -> Speech:
    """``/stats`` for the bot's owners: the endpoint's numbers in words."""
    def listed(counts: dict[str, int]) -> Speech:
        if not counts:
            return _("none")
        return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))

    up = int(time.time() - started)
    median = (_("{seconds} s", seconds=f"{snapshot.median_job_seconds:.1f}")
              if snapshot.median_job_seconds is not None else _("no jobs yet"))
    lag = (_("{ms} ms", ms=f"{snapshot.loop_lag_p99 * 1000:.1f}")
           if snapshot.loop_lag_p99 is not None else _("not measured yet"))
    return lines(
        _("📊 Up {hours} h {minutes} min.", hours=up // 3600, minutes=f"{up % 3600 // 60:02d}"),
        _("Now: {running} painting, {waiting} waiting, {painters} painters alive.",
          running=snapshot.running, waiting=snapshot.waiting, painters=snapshot.painters),
        _("Jobs: {outcomes}.", outcomes=listed(snapshot.outcomes)),
        _("Median job time (last {count}): {median}.", count=RECENT, median=median),
        _("Rate limited (429s): {counts}.", counts=listed(snapshot.rate_limited)),
        _("Event-loop lag p99 (last {count} samples): {lag}.", count=RECENT, lag=lag),
        _("Refused uploads: {counts}.", counts=listed(snapshot.refusals)),
    )
