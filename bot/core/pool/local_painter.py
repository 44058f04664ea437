"""A local painter process: loads VGG19 once, then paints one job at a time for the pool,
talking to it in the typed messages of ``messages``."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized

from ..jobs import Progressed
from .messages import (
    CannotStart,
    Paint,
    PainterOptions,
    Ready,
    Report,
    Stop,
    ToPainter,
    Warmed,
)


def painter_main(conn: Connection, cancel_seq: Synchronized, options: PainterOptions) -> None:
    from ..painting import gallery_warming, paint, warm_up  # torch: in painters only

    # Ctrl-C and systemd's SIGTERM go to the whole process group; the parent decides when
    # workers stop (it lets running jobs finish first), and a stray signal must not look
    # like a crash to the user whose picture is being painted.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    parent = os.getppid()
    try:
        conn.send(Ready(warm_up(options)))
    except Exception as exc:  # any warm-up failure: the pool reports it and backs off
        conn.send(CannotStart(f"{type(exc).__name__}: {exc}"))
        return
    warming: Iterator[int] | None = gallery_warming(options)
    since, warmed = time.monotonic(), 0
    while True:
        if warming is not None and not conn.poll():  # idle: one more gallery painting
            try:
                warmed = next(warming)
                continue
            except StopIteration:
                conn.send(Warmed(warmed, time.monotonic() - since))
            except Exception as exc:  # a job would meet it again, and say so to its user
                conn.send(Warmed(warmed, time.monotonic() - since,
                                 f"{type(exc).__name__}: {exc}"))
            warming = None
        try:
            message: ToPainter = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if isinstance(message, Stop):
            return
        assert isinstance(message, Paint)
        seq = message.seq

        def should_stop(seq: int = seq) -> bool:
            return cancel_seq.value == seq or os.getppid() != parent

        def on_progress(event: Progressed, seq: int = seq) -> None:
            conn.send(Report(seq, event))

        try:
            conn.send(Report(seq, paint(message.spec, on_progress=on_progress,
                                        should_stop=should_stop)))
        except (BrokenPipeError, OSError):
            return
