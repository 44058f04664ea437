"""``python -m nst_engine``: stylize images, benchmark, render comparison panels.

The stylize options are generated from ``Settings`` so the CLI cannot drift from the
library: a new setting appears here with its help text and range automatically.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import NSTError
from .settings import Settings, literal_choices


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    hints = typing.get_type_hints(Settings)
    for f in dataclasses.fields(Settings):
        if not f.metadata.get("cli", True):
            continue
        flag = "--" + f.name.replace("_", "-")
        kind = unwrap(hints[f.name])
        help_text = f.metadata["help"]
        low, high = f.metadata.get("low"), f.metadata.get("high")
        if low is not None and high is not None:
            help_text += f" [{low:g}..{high:g}]"
        default = f.default
        help_text += "" if default is None else f" (default: {default})"
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                                help=help_text)
        elif typing.get_origin(kind) is tuple:
            parser.add_argument(flag, type=float, nargs="+", default=None, help=help_text)
        else:
            choices = literal_choices(f) or None
            parser.add_argument(flag, type=str if choices else kind, choices=choices,
                                default=None, help=help_text)


def unwrap(hint: Any) -> Any:
    """The inner type of ``X | None``; Literal types become str."""
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) and type(None) in args:
        hint = next(a for a in args if a is not type(None))
    if typing.get_origin(hint) is typing.Literal:
        hint = str
    return hint


def settings_from_args(args: argparse.Namespace, **overrides: Any) -> Settings:
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(Settings)
             if getattr(args, f.name, None) is not None}
    if "style_weights" in given:
        given["style_weights"] = tuple(given["style_weights"])
    return Settings(**{**given, **overrides})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nst_engine", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("stylize", help="paint a photo in the style of one or more paintings")
    run.add_argument("content", type=Path, help="the photo")
    run.add_argument("style", type=Path, nargs="+", help="painting(s); several are blended")
    run.add_argument("-o", "--output", type=Path, required=True,
                     help="output file (.png or .jpg)")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_settings_options(run)

    from . import bench, panels

    bench.add_arguments(sub.add_parser("bench", help=bench.__doc__.splitlines()[0]))
    bench.add_hd_arguments(sub.add_parser("hd", help="time and peak memory of large results "
                                          "(tiled refinement), each size in a child process"))
    panels.add_arguments(sub.add_parser("panels", help=panels.__doc__.splitlines()[0]))
    panels.add_arguments(sub.add_parser("quality", help="the numeric quality guard: new "
                                        "default against the previous one on the panel pairs"),
                         quality_only=True)
    return parser


def run_stylize(args: argparse.Namespace) -> int:
    from .pipeline import stylize
    from .progress_bar import ProgressBar

    fmt = "jpeg" if args.output.suffix.lower() in (".jpg", ".jpeg") else "png"
    settings = settings_from_args(args, format=fmt)
    with ProgressBar(enabled=not args.quiet) as bar:
        result = stylize(args.content, args.style, settings=settings, on_progress=bar.update)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(result.encode())
    print(f"wrote {args.output} ({result.image.width}×{result.image.height}, {result.steps} "
          f"steps, {result.seconds:.1f} s on {result.device} {result.precision})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "stylize":
            return run_stylize(args)
        return int(args.main(args))
    except NSTError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
