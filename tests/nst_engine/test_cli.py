"""The CLI end to end, as a user runs it, at a tiny size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

from nst_engine.cli import build_parser, settings_from_args
from tests.conftest import gradient_image, png_bytes, stripes_image


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nst_engine", *args], capture_output=True,
                          text=True, timeout=240, check=False)


def test_stylize_writes_the_image(tmp_path: Path, random_weights_path: Path) -> None:
    content, style = tmp_path / "photo.png", tmp_path / "painting.png"
    content.write_bytes(png_bytes(gradient_image(80, 60)))
    style.write_bytes(png_bytes(stripes_image(64, 64)))
    out = tmp_path / "out" / "result.jpg"
    proc = run_cli("stylize", str(content), str(style), "-o", str(out), "--size", "64",
                   "--steps", "3", "--weights", str(random_weights_path), "--preserve-colors")
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout
    img = Image.open(out)
    assert img.format == "JPEG" and img.size == (64, 48)


def test_bad_input_exits_2_with_a_readable_message(tmp_path: Path) -> None:
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    proc = run_cli("stylize", str(bad), str(bad), "-o", str(tmp_path / "x.png"), "--preset", "fast")
    assert proc.returncode == 2
    assert "error: The content image is not an image I can read" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_out_of_range_option_is_explained(tmp_path: Path) -> None:
    proc = run_cli("stylize", "a.png", "b.png", "-o", str(tmp_path / "x.png"), "--strength", "99")
    assert proc.returncode == 2 and "strength must be between 0 and 10" in proc.stderr


def test_options_come_from_settings() -> None:
    args = build_parser().parse_args(["stylize", "c.png", "s1.png", "s2.png", "-o", "o.png",
                                      "--preset", "seed", "--size", "300", "--steps", "7",
                                      "--strength", "2.5", "--preserve-colors", "--weights",
                                      "torchvision", "--device", "cpu", "--style-weights",
                                      "2", "1"])
    s = settings_from_args(args)
    assert (s.preset, s.size, s.steps, s.strength, s.preserve_colors, s.weights, s.device,
            s.style_weights) == ("seed", 300, 7, 2.5, True, "torchvision", "cpu", (2.0, 1.0))
    assert len(args.style) == 2
