"""Render comparison panels (content | style | previous default | default | fast) for
image pairs, with the numeric quality guard.

For looking at quality, not for publishing: each panel is labelled with the recipe,
time and steps so a reader knows what produced it. ``previous`` is the default before
this revision (``presets.PREVIOUS_DEFAULT``), or, with ``--previous DIR``, images the
committed previous engine wrote there as ``CONTENT__STYLE.png``.

The guard (also ``python -m nst_engine quality``, without the panels) scores the final
images of ``previous`` and ``default`` with ``quality.measure``: content loss at relu4_2
and Gram style loss, both relative, fp32. The new default must not be worse than the
previous one by more than 5 % on average over the pairs, in either.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from .images import load_image, resize
from .pipeline import stylize
from .presets import REFERENCE_RECIPES
from .quality import measure
from .settings import Settings

SHARED_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"
DEFAULT_PAIRS = (("tubingen", "starry_night"), ("golden_gate", "the_scream"),
                 ("chicago", "wave"), ("sailboat", "composition_vii"),
                 ("cornell", "woman_with_hat_matisse"), ("flowers", "udnie"),
                 ("hoovertowernight", "shipwreck"))
#: Largest allowed average worsening of either guard loss.
GUARD_TOLERANCE = 1.05


def add_arguments(parser: argparse.ArgumentParser, *, quality_only: bool = False) -> None:
    parser.add_argument("pairs", nargs="*", help="CONTENT:STYLE paths (default: seven pairs "
                        "from ../shared/images)")
    parser.add_argument("--out", type=Path, default=Path("panels"), help="output folder")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--strength", type=float, default=5.0)
    parser.add_argument("--previous", type=Path, help="folder of previous-default results "
                        "(CONTENT__STYLE.png) to use instead of recomputing them")
    parser.add_argument("--json", action="store_true", help="print the guard as JSON")
    if quality_only:
        parser.set_defaults(main=run, presets="previous,default", seed_steps=1000,
                            seed_precision="fp32", images=False)
        return
    parser.add_argument("--seed-steps", type=int, default=1000)
    parser.add_argument("--seed-precision", default="fp32",
                        help="the seed as written is fp32; bf16 halves its time on CPU")
    parser.add_argument("--presets", default="previous,default,fast",
                        help="comma-separated: previous, default, seed, fast")
    parser.set_defaults(main=run, images=True)


def pairs_from(args: argparse.Namespace) -> list[tuple[Path, Path]]:
    if args.pairs:
        return [tuple(Path(p) for p in pair.split(":", 1)) for pair in args.pairs]  # type: ignore[misc]
    return [(SHARED_IMAGES / "content" / f"{c}.jpg", SHARED_IMAGES / "style" / f"{s}.jpg")
            for c, s in DEFAULT_PAIRS]


def labelled(img: Image.Image, text: str, height: int) -> Image.Image:
    tile = img.resize((round(img.width * height / img.height), height), Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(tile)
    draw.rectangle((0, 0, tile.width, 16), fill=(0, 0, 0))
    draw.text((4, 2), text, fill=(255, 255, 255))
    return tile


def paint(name: str, content: Image.Image, style: Image.Image, stem: str,
          args: argparse.Namespace) -> tuple[Image.Image, str]:
    """One result and its label."""
    if name == "previous" and args.previous is not None:
        image = load_image(args.previous / f"{stem}.png")
        return image, "previous default (committed engine)"
    extra: dict[str, Any] = {}
    if name == "seed":
        extra = {"steps": args.seed_steps, "precision": args.seed_precision}
    preset = "default" if name in REFERENCE_RECIPES else name
    settings = Settings(preset=preset, size=args.size, strength=args.strength, **extra)  # type: ignore[arg-type]
    result = stylize(content, style, settings=settings, recipe=REFERENCE_RECIPES.get(name))
    label = "previous default" if name == "previous" else name
    return result.image, (f"{label}: {result.seconds:.1f}s, {result.steps} steps, "
                          f"{result.precision}")


def run(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for content_path, style_path in pairs_from(args):
        content, style = load_image(content_path), load_image(style_path)
        stem = f"{content_path.stem}__{style_path.stem}"
        height = resize(content, args.size).height
        tiles = [labelled(content, f"content {content_path.name}", height),
                 labelled(style, f"style {style_path.name}", height)]
        results: dict[str, Image.Image] = {}
        for name in args.presets.split(","):
            started = time.perf_counter()
            image, label = paint(name, content, style, stem, args)
            results[name] = image
            (args.out / name).mkdir(exist_ok=True)  # reusable as ``--previous OUT/previous``
            image.save(args.out / name / f"{stem}.png")
            tiles.append(labelled(image, label, height))
            print(f"{stem}: {label} ({time.perf_counter() - started:.1f} s)", flush=True)
        if "previous" in results and "default" in results:
            rows.append(guard_row(stem, results, content_path, style_path))
        if args.images:
            panel = Image.new("RGB", (sum(t.width for t in tiles), height), "white")
            offsets = itertools.accumulate([0] + [t.width for t in tiles])
            for tile, x in zip(tiles, offsets, strict=False):
                panel.paste(tile, (x, 0))
            out = args.out / f"{stem}.jpg"
            panel.save(out, quality=90)
            print(f"wrote {out}", flush=True)
    if rows:
        report = guard_report(rows)
        (args.out / "guard.json").write_text(json.dumps(report, indent=1))
        print(json.dumps(report) if args.json else format_guard(report))
        return 0 if report["passed"] else 1
    return 0


def guard_row(stem: str, results: dict[str, Image.Image], content: Path, style: Path
              ) -> dict[str, Any]:
    before = measure(results["previous"], content, style)
    after = measure(results["default"], content, style)
    return {"pair": stem, "previous_content": before.content, "default_content": after.content,
            "previous_style": before.style, "default_style": after.style,
            "content_ratio": after.content / before.content,
            "style_ratio": after.style / before.style}


def guard_report(rows: list[dict[str, Any]]) -> dict[str, Any]:
    content = statistics.mean(r["content_ratio"] for r in rows)
    style = statistics.mean(r["style_ratio"] for r in rows)
    return {"pairs": rows, "mean_content_ratio": content, "mean_style_ratio": style,
            "tolerance": GUARD_TOLERANCE,
            "passed": content <= GUARD_TOLERANCE and style <= GUARD_TOLERANCE}


def format_guard(report: dict[str, Any]) -> str:
    lines = ["pair                                   content prev → new (ratio)   "
             "style prev → new (ratio)"]
    for r in report["pairs"]:
        lines.append(f"{r['pair']:<38} {r['previous_content']:.4f} → {r['default_content']:.4f} "
                     f"({r['content_ratio']:.3f})   {r['previous_style']:.4f} → "
                     f"{r['default_style']:.4f} ({r['style_ratio']:.3f})")
    verdict = "passed" if report["passed"] else "FAILED"
    lines.append(f"mean ratio: content {report['mean_content_ratio']:.3f}, style "
                 f"{report['mean_style_ratio']:.3f} (at most {report['tolerance']}): {verdict}")
    return "\n".join(lines)
