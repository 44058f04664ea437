"""Painting one job with the engine: what every painter runs, whatever carries its jobs
(a local worker process today; a painter on another host too).

Imports torch: only painter processes load this module, never the bot's front end.
"""

from __future__ import annotations

import io
import logging
import os
import traceback
from collections.abc import Callable

from nst_engine import InputImageError, Progress, SettingsError, WeightsError, stylize
from nst_engine.device import autocast_dtype, select_device, set_threads
from nst_engine.errors import Cancelled as StopRequested
from nst_engine.pipeline import adain_model, feature_extractor
from nst_engine.presets import DEFAULT, SEED
from nst_engine.weights import load_vgg_weights

from .jobs import Cancelled, Failed, Finished, JobSpec, Progressed
from .pool.messages import PainterOptions

log = logging.getLogger("stylebot.painter")


def warm_up(options: PainterOptions) -> dict[str, str]:
    """Load everything once, so the first job starts as fast as the rest."""
    set_threads(options.threads)
    device = select_device(options.device)
    weights = load_vgg_weights(options.weights)
    for recipe in (DEFAULT, SEED):
        feature_extractor(options.weights, max(recipe.content_layers + recipe.style_layers),
                          recipe.padding, device)
    adain_model(device, autocast_dtype(device, "auto"))
    return {"device": str(device), "weights": weights.origin, "pid": str(os.getpid())}


def paint(spec: JobSpec, *, on_progress: Callable[[Progressed], None],
          should_stop: Callable[[], bool]) -> Finished | Failed | Cancelled:
    """Run ``spec`` to its outcome; progress (with JPEG previews) goes to ``on_progress``."""

    def report(p: Progress) -> None:
        preview = None
        if p.preview is not None:  # the engine renders them only as often as the chat shows
            buf = io.BytesIO()
            p.preview.save(buf, format="JPEG", quality=85)
            preview = buf.getvalue()
        on_progress(Progressed(p.step, p.total, p.scale, p.scales, p.elapsed, p.eta, preview))

    try:
        result = stylize(spec.content.open(), spec.style.open(), settings=spec.settings,
                         on_progress=report, should_stop=should_stop)
    except StopRequested:
        return Cancelled()
    except (InputImageError, SettingsError) as exc:
        log.warning("job refused by the engine: %s", exc)
        return Failed("input")
    except WeightsError as exc:
        log.error("weights unavailable: %s", exc)
        return Failed("unavailable")
    except Exception:
        log.error("painting failed\n%s", traceback.format_exc())
        return Failed("error")
    return Finished(result.encode("png"), result.image.width, result.image.height,
                    result.seconds, result.steps, result.device, result.precision)
