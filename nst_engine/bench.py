"""Benchmark the seed recipe against ours, side by side in one process on the same images.

What it measures (all on this machine, in this run, so the ratios are fair even on a
noisy shared host):

(a) the seed recipe (fp32, as the founding document wrote it): its loss after
    ``--seed-steps`` steps and the time taken, then the same recipe in our precision;
(b) the time our default optimiser and schedule (multi-scale, from the AdaIN start, and
    again from the content image) take to reach that loss *on the seed's objective* at
    the same size; and our optimiser single-scale from the AdaIN start, because on this
    objective (raw Grams dominated by conv1_1) upsampling a coarse result costs more
    than the coarse scales save. Ours from the AdaIN start runs ``--repeats`` times,
    spread over the run (after (a), after (a'), after (e)), and ``speedup`` uses the
    median: the seed's minutes-long run averages out the host's swings in speed, a
    10-second run lands on one of them (the same 76 steps took 8.7 s and 15.1 s in one
    run). Every run of ours analyses the painting itself (cold style cache), as the
    seed's does;
(c) seconds per step of the default objective at 256 and 512 px, fp32 and ours, and
    at 512² on a square crop of the photo;
(d) the AdaIN preview at 512 px; (e) the default preset end to end at 512 px, on the
    photo and on its square crop, also as full-size fp32 steps' worth of time
    (``default_512_step_equivalents``: seconds / ``seconds_per_step["512_fp32"]``, and
    the square's against ``512_fp32_square``);
(f) peak memory.

``python -m nst_engine hd`` times large results (tiled refinement) and reports each
one's peak RSS, measured in a child process of its own.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from .adain import adain_model
from .device import autocast_dtype, select_device, set_threads
from .errors import Cancelled
from .images import load_image, resize
from .objective import STYLE_CACHE, Objective, StyleImage, digest, style_targets
from .optimize import Scale, optimise, plan_scales
from .pipeline import adain_transfer, feature_extractor, optimise_scales, precision_name, stylize
from .presets import DEFAULT, SEED, Recipe
from .settings import Settings
from .tensors import to_tensor

SHARED_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", type=int, default=256, help="square size for (a) and (b)")
    parser.add_argument("--seed-steps", type=int, default=1000, help="steps of the seed run")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of ours from the AdaIN start, spread over the benchmark; "
                        "speedup uses their median")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--content", type=Path, help="photo (default: tubingen.jpg from "
                        "../shared/images, else a generated test pattern)")
    parser.add_argument("--style", type=Path, help="painting (default: starry_night.jpg)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto", help="ours: auto, fp32, bf16, fp16")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--max-steps", type=int, default=3000,
                        help="give up on (b) after this many steps")
    parser.set_defaults(main=run)


def bench_images(args: argparse.Namespace) -> tuple[Image.Image, Image.Image, str]:
    content = args.content or SHARED_IMAGES / "content" / "tubingen.jpg"
    style = args.style or SHARED_IMAGES / "style" / "starry_night.jpg"
    if content.is_file() and style.is_file():
        return load_image(content), load_image(style), f"{content.name} × {style.name}"
    return synthetic_content(), synthetic_style(), "generated test pattern (no photos found)"


def synthetic_content() -> Image.Image:
    """Smooth gradients with hard-edged shapes: structure for the content loss to hold."""
    g = torch.Generator().manual_seed(1)
    y, x = torch.meshgrid(torch.linspace(0, 1, 512), torch.linspace(0, 1, 512), indexing="ij")
    img = torch.stack([x, y, 1 - x * y])
    for _ in range(12):
        cx, cy, r = torch.rand(3, generator=g)
        mask = ((x - cx) ** 2 + (y - cy) ** 2) < (0.05 + 0.15 * r) ** 2
        img[:, mask] = torch.rand(3, 1, generator=g)
    return Image.fromarray((img.permute(1, 2, 0) * 255).byte().numpy())


def synthetic_style() -> Image.Image:
    """Oriented stripes and blobs: a texture with strong Gram statistics."""
    g = torch.Generator().manual_seed(2)
    y, x = torch.meshgrid(torch.linspace(0, 6.28, 512), torch.linspace(0, 6.28, 512), indexing="ij")
    img = torch.stack([torch.sin(8 * x + 3 * torch.sin(2 * y)), torch.cos(5 * y + 2 * x),
                       torch.sin(11 * (x + y))]) * 0.5 + 0.5
    img = img * (0.6 + 0.4 * torch.rand(3, 512, 512, generator=g))
    return Image.fromarray((img.permute(1, 2, 0).clamp(0, 1) * 255).byte().numpy())


@dataclasses.dataclass
class Run:
    seconds: float
    loss: float
    steps: int
    reached: bool = True


def median_run(runs: list[Run]) -> Run:
    """The run with the median time; of an even count, the slower middle one (the
    bench should not round in our favour)."""
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


def center_square(img: Image.Image) -> Image.Image:
    """The largest centred square of ``img``: the bench's square photo."""
    side = min(img.size)
    left, top = (img.width - side) // 2, (img.height - side) // 2
    return img.crop((left, top, left + side, top + side))


def loadavg() -> list[float]:
    """The 1, 5 and 15 minute load averages: the figures are only as quiet as the host."""
    try:
        return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def host(cpuinfo: Path = Path("/proc/cpuinfo")) -> dict[str, Any]:
    """The CPU the figures come from: bf16 speeds differ by host, not only by load (the
    default's step at 256² took 0.08 s in bf16 and 0.31 s in fp32 on an AMX Xeon, 0.14
    and 0.34-0.41 s on the no-AMX EPYC), so a ratio means little without it."""
    info: dict[str, Any] = {"cpu": platform.processor() or platform.machine(),
                            "cores": os.cpu_count()}
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        return info
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = set(fields.get("flags", "").split())
    info["cpu"] = fields.get("model name", info["cpu"])
    info.update(avx512_bf16="avx512_bf16" in flags, amx="amx_bf16" in flags)
    return info


def square(img: Image.Image, size: int) -> torch.Tensor:
    """Both images at size×size, as in the founding measurement."""
    return to_tensor(img.resize((size, size), Image.Resampling.LANCZOS))


def run_seed(content: torch.Tensor, style: torch.Tensor, *, steps: int, device: torch.device,
             dtype: torch.dtype | None, target: float | None = None) -> Run:
    """The seed recipe for ``steps`` steps; with ``target``, when it first reaches it."""
    extractor, origin = feature_extractor("auto", max(SEED.style_layers), SEED.padding, device)
    started = time.perf_counter()
    grams = style_targets(extractor, SEED, [StyleImage(style, digest(style))], [1.0],
                          max(style.shape[-2:]), weights_origin=origin, dtype=dtype,
                          device=device)
    objective = Objective(extractor, SEED, content=content, style_grams=grams,
                          style_weight=SEED.style_weight, dtype=dtype)
    state = {"step": 0, "loss": float("inf"), "reached_at": None}

    def on_step(x: torch.Tensor, parts: dict[str, torch.Tensor]) -> None:
        state["step"] += 1
        state["loss"] = sum(v.item() for v in parts.values())
        if target is not None and state["loss"] <= target and state["reached_at"] is None:
            state["reached_at"] = time.perf_counter() - started
            raise Cancelled()

    try:
        optimise(content.to(device), objective, SEED, steps, on_step)
    except Cancelled:
        return Run(state["reached_at"], state["loss"], state["step"])
    return Run(time.perf_counter() - started, state["loss"], state["step"],
               reached=target is None)


#: What "our optimiser and schedule" means on the seed's objective: everything in the
#: default recipe that is not part of the objective (layers, weights, TV, padding).
OPTIMISER_FIELDS = ("optimizer", "lr", "history", "first_step", "pyramid", "pyramid_decay",
                    "scale_ratio", "step_decay", "step_shares")


def run_ours_on_seed_objective(content: torch.Tensor, style: torch.Tensor, *, target: float,
                               init: str, device: torch.device, dtype: torch.dtype | None,
                               max_steps: int, multiscale: bool = True) -> Run:
    """Our optimiser (and coarse-to-fine schedule), scored on the seed's objective."""
    recipe: Recipe = dataclasses.replace(
        SEED, **{name: getattr(DEFAULT, name) for name in OPTIMISER_FIELDS},
        min_scale=DEFAULT.min_scale if multiscale else 0, init=init)  # type: ignore[arg-type]
    h, w = content.shape[-2:]
    coarse = plan_scales(h, w, recipe, DEFAULT.steps)[:-1]
    plan = [*coarse, Scale(h, w, max_steps)]
    settings = Settings(preset="seed", init=init, size=max(h, w), preview_every=0)  # type: ignore[arg-type]
    state: dict[str, Any] = {"reached_at": None, "loss": float("inf"), "step": 0}
    started = time.perf_counter()

    def on_progress(p: Any) -> None:
        if "total" not in p.losses:  # step 0: the starting image, not yet scored
            return
        state["step"], state["loss"] = p.step, p.losses["total"]
        if p.scale == p.scales and p.losses["total"] <= target and state["reached_at"] is None:
            state["reached_at"] = time.perf_counter() - started

    styles = [StyleImage(style, digest(style))]
    try:
        optimise_scales(content.to(device), styles, [1.0], settings=settings, recipe=recipe,
                        plan=plan, device=device, dtype=dtype, on_progress=on_progress,
                        stop=lambda: state["reached_at"] is not None, cache=STYLE_CACHE,
                        started=started)
    except Cancelled:
        return Run(state["reached_at"], state["loss"], state["step"])
    return Run(time.perf_counter() - started, state["loss"], state["step"], reached=False)


def seconds_per_step(content: Image.Image, style: Image.Image, *, size: int,
                     device: torch.device, dtype: torch.dtype | None, steps: int = 5) -> float:
    c = to_tensor(resize(content, size)).to(device)
    s = to_tensor(resize(style, size)).to(device)
    depth = max(DEFAULT.style_layers + DEFAULT.content_layers)
    extractor, origin = feature_extractor("auto", depth, DEFAULT.padding, device)
    grams = style_targets(extractor, DEFAULT, [StyleImage(s, digest(s))], [1.0], size,
                          weights_origin=origin, dtype=dtype, device=device)
    objective = Objective(extractor, DEFAULT, content=c, style_grams=grams, style_weight=1.0,
                          dtype=dtype)
    times = []
    x = c.clone().requires_grad_(True)
    for _ in range(steps + 1):
        sync(device)
        t = time.perf_counter()
        loss, _ = objective(x)
        loss.backward()
        sync(device)
        times.append(time.perf_counter() - t)
    return min(times[1:])


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], Any], device: torch.device, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        t = time.perf_counter()
        fn()
        sync(device)
        best = min(best, time.perf_counter() - t)
    return best


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run(args: argparse.Namespace) -> int:
    set_threads(args.threads)
    device = select_device(args.device)
    dtype = autocast_dtype(device, args.precision)
    content_img, style_img, label = bench_images(args)
    content = square(content_img, args.size).to(device)
    style = square(style_img, args.size).to(device)
    say = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))
    say(f"bench: {label}, {args.size}², device {device}, ours in {precision_name(dtype)}")

    say(f"(a) seed recipe, fp32, {args.seed_steps} steps …")
    seed = run_seed(content, style, steps=args.seed_steps, device=device, dtype=None)
    say(f"    loss {seed.loss:.4g} in {seed.seconds:.1f} s")
    # Models load once per process (the bot's painters load them at start), as the seed's
    # extractor was built before its clock started: not part of a run's time.
    adain_model(device, dtype)

    def ours(init: str, *, multiscale: bool = True) -> Run:
        STYLE_CACHE.clear()
        say(f"(b) ours from the {init} start, {'multi' if multiscale else 'single'}-scale, "
            "to the seed's loss …")
        run = run_ours_on_seed_objective(content, style, target=seed.loss, init=init,
                                         device=device, dtype=dtype, max_steps=args.max_steps,
                                         multiscale=multiscale)
        say(f"    {'reached' if run.reached else 'did not reach'} in {run.seconds:.2f} s, "
            f"{run.steps} steps")
        return run

    repeats = [ours("adain")]
    seed_same = seed
    if dtype is not None:
        say(f"(a') seed recipe in {precision_name(dtype)}, until it reaches {seed.loss:.4g} …")
        seed_same = run_seed(content, style, steps=args.seed_steps, device=device, dtype=dtype,
                             target=seed.loss)
        say(f"    {'reached' if seed_same.reached else 'did not reach'} it: loss "
            f"{seed_same.loss:.4g} after {seed_same.steps} steps, {seed_same.seconds:.1f} s")
    if args.repeats > 1:
        repeats.append(ours("adain"))
    from_content = ours("content")
    single_scale = ours("adain", multiscale=False)

    say("(c) seconds per step of the default objective …")
    square_img = center_square(content_img)
    per_step = {f"{s}_{precision_name(d)}": seconds_per_step(content_img, style_img, size=s,
                                                             device=device, dtype=d)
                for s in (256, 512) for d in dict.fromkeys((None, dtype))}
    per_step.update({f"512_{precision_name(d)}_square": seconds_per_step(
        square_img, style_img, size=512, device=device, dtype=d)
        for d in dict.fromkeys((None, dtype))})
    say("    " + ", ".join(f"{k}: {v:.3f}" for k, v in per_step.items()))

    say("(d) AdaIN preview at 512 px, a new painting and a cached one …")
    c512 = to_tensor(resize(content_img, 512)).to(device)
    s512 = to_tensor(resize(style_img, 512)).to(device)
    settings = Settings(preset="fast")
    styles = [StyleImage(s512, digest(s512))]

    def preview() -> None:
        adain_transfer(c512, styles, [1.0], settings=settings, device=device, dtype=dtype)

    def preview_new_painting() -> None:
        STYLE_CACHE.clear()
        preview()

    preview()  # the model loads once per process; not part of a preview's time
    adain_s = timed(preview_new_painting, device)
    adain_cached_s = timed(preview, device)
    say(f"    {adain_s:.3f} s, {adain_cached_s:.3f} s with the painting's statistics cached")

    say("(e) default preset end to end at 512 px, the photo and a square crop of it …")
    default_settings = Settings(size=512, device=args.device, precision=args.precision)
    default_run = stylize(content_img, style_img, settings=default_settings)
    square_run = stylize(square_img, style_img, settings=default_settings)
    equivalents = default_run.seconds / per_step["512_fp32"]
    square_equivalents = square_run.seconds / per_step["512_fp32_square"]
    say(f"    {default_run.seconds:.1f} s, {default_run.steps} steps: {equivalents:.1f} "
        f"full-size fp32 steps' worth; square {square_run.seconds:.1f} s: "
        f"{square_equivalents:.1f}")

    repeats += [ours("adain") for _ in range(args.repeats - len(repeats))]
    best = median_run(repeats)
    report = {
        "size": args.size, "seed_steps": args.seed_steps, "images": label,
        "device": str(device), "host": host(), "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "precision": precision_name(dtype),
        "seed_loss": seed.loss, "seed_seconds": seed.seconds,
        "seed_same_precision_seconds": seed_same.seconds,
        "seed_same_precision_reached": seed_same.reached,
        "ours_seconds_to_seed_loss": best.seconds, "ours_steps": best.steps,
        "ours_seconds_runs": [r.seconds for r in repeats],
        "ours_reached": best.reached,
        "ours_from_content_seconds": from_content.seconds,
        "ours_from_content_steps": from_content.steps,
        "ours_from_content_reached": from_content.reached,
        "speedup": seed.seconds / best.seconds,
        "speedup_same_precision": seed_same.seconds / best.seconds,
        "adain_start_speedup": from_content.seconds / best.seconds,
        "ours_single_scale_seconds": single_scale.seconds,
        "ours_single_scale_steps": single_scale.steps,
        "speedup_single_scale": seed.seconds / single_scale.seconds,
        "seconds_per_step": per_step,
        "adain_seconds": adain_s, "adain_cached_style_seconds": adain_cached_s,
        "adain_size": list(c512.shape[-2:][::-1]),
        "default_512_seconds": default_run.seconds, "default_512_steps": default_run.steps,
        "default_512_size": list(default_run.image.size),
        "default_512_step_equivalents": equivalents,
        "default_512_square_seconds": square_run.seconds,
        "default_512_square_step_equivalents": square_equivalents,
        "peak_memory_mb": peak_memory_mb(device), "loadavg": loadavg(),
    }
    if args.json:
        print(json.dumps(report))
    else:
        width = max(len(k) for k in report)
        for key, value in report.items():
            shown = f"{value:.4g}" if isinstance(value, float) else value
            print(f"{key:<{width}}  {shown}")
    return 0


HD_CHILD = """
import json, resource, sys, time
from PIL import Image
from nst_engine import Settings, stylize
spec = json.loads(sys.argv[1])
content = Image.open(spec["content"]).convert("RGB")
scale = spec["size"] / max(content.size)
content = content.resize((round(content.width * scale), round(content.height * scale)),
                         Image.Resampling.LANCZOS)
started = time.perf_counter()
result = stylize(content, spec["style"], settings=Settings(size=spec["size"],
                 **spec["settings"]))
seconds = time.perf_counter() - started
if spec.get("out"):
    result.image.save(spec["out"])
status = open("/proc/self/status").read()
hwm = [line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")]
print(json.dumps({"size": list(result.image.size), "seconds": seconds,
                  "steps": result.steps, "scales": result.scales,
                  "peak_rss_mb": (int(hwm[0]) if hwm else
                                  resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024}))
"""


def add_hd_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096])
    parser.add_argument("--content", type=Path, help="photo, enlarged to each size (default: "
                        "tubingen.jpg from ../shared/images)")
    parser.add_argument("--style", type=Path, help="painting (default: starry_night.jpg)")
    parser.add_argument("--out", type=Path, help="folder for the results, to look at seams")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--tile-steps", type=int, help="refinement steps per tile")
    parser.set_defaults(main=run_hd)


def run_hd(args: argparse.Namespace) -> int:
    """Each size in a fresh child process, so its peak RSS (VmHWM) is its own."""
    import subprocess

    content = args.content or SHARED_IMAGES / "content" / "tubingen.jpg"
    style = args.style or SHARED_IMAGES / "style" / "starry_night.jpg"
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    runs = []
    for size in args.sizes:
        spec = {"size": size, "content": str(content), "style": str(style),
                "settings": {"tile_steps": args.tile_steps} if args.tile_steps else {},
                "out": str(args.out / f"hd_{size}.png") if args.out else None}
        load_before = loadavg()
        proc = subprocess.run([sys.executable, "-c", HD_CHILD, json.dumps(spec)],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        run = {**json.loads(proc.stdout.strip().splitlines()[-1]),
               "loadavg_before": load_before, "loadavg_after": loadavg()}
        runs.append(run)
        if not args.json:
            print(f"{size}: {run['size'][0]}×{run['size'][1]} in {run['seconds']:.1f} s, "
                  f"{run['steps']} steps, peak RSS {run['peak_rss_mb']:.0f} MB "
                  f"(load {run['loadavg_after'][0]:.2f})", flush=True)
    if args.json:
        print(json.dumps({"host": host(), "torch": torch.__version__,
                          "threads": torch.get_num_threads(), "runs": runs}))
    return 0
