"""What a painter runs: it prepares the gallery once ready, so a pick needs no analysis."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from bot.config import GalleryConfig
from bot.core.gallery import GalleryWarmUp, load_gallery
from bot.core.jobs import Finished, JobSpec, Owner, Progressed
from bot.core.painting import TARGETS, gallery_warming, paint, warm_up
from bot.core.pictures import Picture
from bot.core.pool.messages import PainterOptions
from bot.core.settings import UserSettings
from tests.conftest import gradient_image, stripes_image


def job(style: Picture, weights: Path, size: int, preset: str = "default") -> JobSpec:
    photo = Picture.from_image(gradient_image(160, 120))
    settings = UserSettings(preset=preset, size=size, steps=4).engine_settings(  # type: ignore[arg-type]
        weights=str(weights), device="cpu", threads=1, preview_seconds=1.0)
    return JobSpec(Owner("test", "1"), "test:1", photo, style, settings)


def test_a_gallery_pick_needs_no_analysis_after_warm_up(random_weights_path: Path) -> None:
    warm = GalleryWarmUp(GalleryConfig(), sizes=(96,), preset="default")
    options = PainterOptions(str(random_weights_path), "cpu", 1, gallery=warm)
    warm_up(options)
    assert list(gallery_warming(options)) == [1, 2, 3, 4, 5, 6, 7, 8]  # one per step
    wave = load_gallery(GalleryConfig()).get("wave")
    assert wave is not None
    before = TARGETS.misses
    shown: list[Progressed] = []
    outcome = paint(job(wave.picture, random_weights_path, 96), on_progress=shown.append,
                    should_stop=lambda: False)
    assert isinstance(outcome, Finished) and max(outcome.width, outcome.height) == 96
    assert TARGETS.misses == before  # every target it needed was kept beforehand
    # The first look (the starting image at preview size) comes before the engine's own.
    assert shown[0].step == 0 and shown[0].preview_jpeg is not None
    assert Image.open(io.BytesIO(shown[0].preview_jpeg)).size == (96, 72)  # preview_size caps
    assert [p.step for p in shown[1:]][:1] == [0]
    # An uploaded painting is still analysed (and cached) as before.
    upload = Picture.from_image(stripes_image(90, 70))
    assert isinstance(paint(job(upload, random_weights_path, 96), on_progress=lambda _: None,
                            should_stop=lambda: False), Finished)
    assert TARGETS.misses > before


def test_kept_targets_survive_a_flood_of_other_paintings(random_weights_path: Path) -> None:
    options = PainterOptions(str(random_weights_path), "cpu", 1, gallery=GalleryWarmUp(
        GalleryConfig(), sizes=(64,), preset="fast"))
    warm_up(options)
    for _ in gallery_warming(options):
        pass
    kept = len(TARGETS.kept)
    for key in range(TARGETS.max_entries + 5):
        TARGETS.put(("upload", key), {})
    assert len(TARGETS.kept) == kept > 0
    udnie = load_gallery(GalleryConfig()).get("udnie")
    assert udnie is not None
    before = TARGETS.misses
    assert isinstance(paint(job(udnie.picture, random_weights_path, 64, "fast"),
                            on_progress=lambda _: None, should_stop=lambda: False), Finished)
    assert TARGETS.misses == before
