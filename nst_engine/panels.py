"""Render comparison panels (content | style | seed | default | fast) for image pairs.

For looking at quality, not for publishing: each panel is labelled with the preset,
time and steps so a reader knows what produced it.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from PIL import Image, ImageDraw

from .images import load_image, resize
from .pipeline import stylize
from .settings import Settings

SHARED_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"
DEFAULT_PAIRS = (("tubingen", "starry_night"), ("golden_gate", "the_scream"),
                 ("chicago", "wave"), ("sailboat", "composition_vii"),
                 ("cornell", "woman_with_hat_matisse"), ("flowers", "udnie"),
                 ("hoovertowernight", "shipwreck"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pairs", nargs="*", help="CONTENT:STYLE paths (default: seven pairs "
                        "from ../shared/images)")
    parser.add_argument("--out", type=Path, default=Path("panels"), help="output folder")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--seed-steps", type=int, default=1000)
    parser.add_argument("--seed-precision", default="fp32",
                        help="the seed as written is fp32; bf16 halves its time on CPU")
    parser.add_argument("--presets", default="seed,default,fast")
    parser.add_argument("--strength", type=float, default=5.0)
    parser.set_defaults(main=run)


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


def run(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    for content_path, style_path in pairs_from(args):
        content, style = load_image(content_path), load_image(style_path)
        height = resize(content, args.size).height
        tiles = [labelled(content, f"content {content_path.name}", height),
                 labelled(style, f"style {style_path.name}", height)]
        for preset in args.presets.split(","):
            extra = ({"steps": args.seed_steps, "precision": args.seed_precision}
                     if preset == "seed" else {})
            settings = Settings(preset=preset, size=args.size, strength=args.strength, **extra)  # type: ignore[arg-type]
            result = stylize(content, style, settings=settings)
            tiles.append(labelled(result.image, f"{preset}: {result.seconds:.1f}s, "
                                  f"{result.steps} steps, {result.precision}", height))
            print(f"{content_path.stem} × {style_path.stem}: {preset} {result.seconds:.1f} s")
        panel = Image.new("RGB", (sum(t.width for t in tiles), height), "white")
        offsets = itertools.accumulate([0] + [t.width for t in tiles])
        for tile, x in zip(tiles, offsets, strict=False):
            panel.paste(tile, (x, 0))
        out = args.out / f"{content_path.stem}__{style_path.stem}.jpg"
        panel.save(out, quality=90)
        print(f"wrote {out}")
    return 0
