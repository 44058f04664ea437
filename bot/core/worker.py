"""The worker process: loads VGG19 once, then runs one job at a time for the pool.

Protocol over a duplex pipe (parent → worker): ``("job", seq, JobSpec)``, ``("stop",)``.
Worker → parent: ``("ready", info)``, ``("fatal", message)``, ``("progress", seq, Progressed)``,
``("done", seq, Finished)``, ``("failed", seq, message, reason)``, ``("cancelled", seq)``.
Cancellation does not use the pipe: the parent writes the job's sequence number into a
shared integer that ``should_stop`` polls every step.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized

from nst_engine import (
    Cancelled,
    InputImageError,
    Progress,
    SettingsError,
    WeightsError,
    stylize,
)
from nst_engine.device import autocast_dtype, select_device, set_threads
from nst_engine.pipeline import adain_model, feature_extractor
from nst_engine.presets import DEFAULT, SEED
from nst_engine.weights import load_vgg_weights

from .jobs import Finished, JobSpec, Progressed

log = logging.getLogger("stylebot.worker")

UNAVAILABLE_MESSAGE = ("The painting model could not be loaded, so I can't paint right now. "
                       "The admins can see why in the bot's log.")
CRASH_MESSAGE = ("Something went wrong while painting your picture. Please try again; if it "
                 "keeps happening, try a smaller size with /weights size 512.")


@dataclass(frozen=True)
class WorkerOptions:
    weights: str
    device: str
    threads: int | None


def warm_up(options: WorkerOptions) -> dict[str, str]:
    """Load everything once, so the first job starts as fast as the rest."""
    set_threads(options.threads)
    device = select_device(options.device)
    weights = load_vgg_weights(options.weights)
    for recipe in (DEFAULT, SEED):
        feature_extractor(options.weights, max(recipe.content_layers + recipe.style_layers),
                          recipe.padding, device)
    adain_model(device, autocast_dtype(device, "auto"))
    return {"device": str(device), "weights": weights.origin, "pid": str(os.getpid())}


def worker_main(conn: Connection, cancel_seq: Synchronized, options: WorkerOptions) -> None:
    # Ctrl-C and systemd's SIGTERM go to the whole process group; the parent decides when
    # workers stop (it lets running jobs finish first), and a stray signal must not look
    # like a crash to the user whose picture is being painted.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    parent = os.getppid()
    try:
        conn.send(("ready", warm_up(options)))
    except Exception as exc:  # any warm-up failure: the pool reports it and backs off
        conn.send(("fatal", f"{type(exc).__name__}: {exc}"))
        return
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if message[0] == "stop":
            return
        _, seq, spec = message
        try:
            conn.send(run_job(conn, cancel_seq, seq, spec, parent))
        except (BrokenPipeError, OSError):
            return


def run_job(conn: Connection, cancel_seq: Synchronized, seq: int, spec: JobSpec,
            parent: int) -> tuple:
    def should_stop() -> bool:
        return cancel_seq.value == seq or os.getppid() != parent

    def on_progress(p: Progress) -> None:
        preview = None
        if p.preview is not None:  # the engine renders them only as often as the chat shows
            buf = io.BytesIO()
            p.preview.save(buf, format="JPEG", quality=85)
            preview = buf.getvalue()
        conn.send(("progress", seq, Progressed(p.step, p.total, p.scale, p.scales, p.elapsed,
                                               p.eta, preview)))

    try:
        result = stylize(spec.content.open(), spec.style.open(), settings=spec.settings,
                         on_progress=on_progress, should_stop=should_stop)
    except Cancelled:
        return ("cancelled", seq)
    except (InputImageError, SettingsError) as exc:
        return ("failed", seq, str(exc), "input")
    except WeightsError as exc:
        log.error("weights unavailable: %s", exc)
        return ("failed", seq, UNAVAILABLE_MESSAGE, "unavailable")
    except Exception:
        traceback.print_exc()
        return ("failed", seq, CRASH_MESSAGE, "error")
    return ("done", seq, Finished(result.encode("png"), result.image.width, result.image.height,
                                  result.seconds, result.steps, result.device, result.precision))
