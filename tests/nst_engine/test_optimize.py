"""The optimiser (our L-BFGS, pyramid variables), the quality guard and bench helpers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from PIL import Image
from torch import nn

from nst_engine import Progress, Settings, stylize
from nst_engine.bench import Run, center_square, host, median_run
from nst_engine.optimize import Curvature, Pixels, Pyramid, optimise, plan_scales
from nst_engine.panels import guard_report
from nst_engine.presets import DEFAULT, PREVIOUS_DEFAULT
from nst_engine.quality import measure
from tests.conftest import gradient_image, png_bytes, stripes_image


class Quadratic(nn.Module):
    """An ill-conditioned quadratic bowl around ``goal``, returning (loss, parts)."""

    def __init__(self, goal: torch.Tensor) -> None:
        super().__init__()
        self.goal = goal
        self.scale = torch.linspace(1, 30, goal.numel()).view_as(goal)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        loss = ((x - self.goal).pow(2) * self.scale).mean()
        return loss, {"quadratic": loss}


@pytest.mark.parametrize("pyramid", [1, 4])
def test_lbfgs_minimises_a_quadratic_one_evaluation_per_step(pyramid: int) -> None:
    goal = torch.rand(1, 3, 24, 20, generator=torch.Generator().manual_seed(0))
    objective = Quadratic(goal)
    recipe = dataclasses.replace(DEFAULT, pyramid=pyramid)
    losses: list[float] = []
    x = optimise(torch.zeros_like(goal), objective, recipe, 12,
                 lambda _, parts: losses.append(parts["quadratic"].item()))
    assert len(losses) == 12
    assert losses[-1] < 1e-2 * losses[0]
    assert objective(x)[0].item() < losses[-1]  # the last, unevaluated step also helps


def test_first_step_moves_the_largest_pixel_by_first_step() -> None:
    goal = torch.full((1, 3, 8, 8), 0.5)
    seen: list[torch.Tensor] = []
    optimise(torch.zeros_like(goal), Quadratic(goal), DEFAULT, 2,
             lambda x, _: seen.append(x.detach().clone()))
    assert (seen[1] - seen[0]).abs().max().item() == pytest.approx(DEFAULT.first_step, rel=1e-4)


def test_an_overshoot_is_rejected_and_the_step_halved() -> None:
    goal = torch.rand(1, 3, 12, 12, generator=torch.Generator().manual_seed(2))
    objective = Quadratic(goal)
    recipe = dataclasses.replace(DEFAULT, pyramid=1, first_step=50.0)  # far too long
    seen: list[torch.Tensor] = []
    losses: list[float] = []

    def on_step(x: torch.Tensor, parts: dict[str, torch.Tensor]) -> None:
        seen.append(x.detach().clone())
        losses.append(parts["quadratic"].item())

    x = optimise(torch.zeros_like(goal), objective, recipe, 8, on_step)
    assert losses[1] > losses[0]
    # The third point starts from the first again, not from the overshoot.
    assert (seen[2] - seen[0]).abs().max() < (seen[1] - seen[0]).abs().max()
    assert objective(x)[0].item() < losses[0]


def test_curvature_is_carried_to_the_next_scale() -> None:
    goal = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    curvature = Curvature()
    optimise(torch.zeros_like(goal), Quadratic(goal), DEFAULT, 5, lambda *_: None,
             curvature=curvature)
    assert curvature.gamma_per_pixel is not None and curvature.gamma_per_pixel > 0


def test_pyramid_variables_reproduce_the_image() -> None:
    image = torch.rand(1, 3, 37, 50)
    for param in (Pixels(), Pyramid(4, 0.5)):
        z = param.encode(image)
        assert z.dim() == 1
        assert torch.allclose(param.decode(z), image, atol=1e-6)


def test_non_finite_loss_rolls_back_to_the_best_iterate() -> None:
    class Explodes(Quadratic):
        calls = 0

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
            self.calls += 1
            loss, parts = super().forward(x)
            if self.calls > 3:
                loss = loss * float("nan")
            return loss, parts

    goal = torch.full((1, 3, 8, 8), 0.5)
    out = optimise(torch.zeros_like(goal), Explodes(goal), DEFAULT, 10, lambda *_: None)
    assert torch.isfinite(out).all()


def test_default_schedule_is_three_scales_with_most_steps_coarse() -> None:
    plan = plan_scales(384, 512, DEFAULT, DEFAULT.steps)
    assert [max(s.height, s.width) for s in plan] == [128, 256, 512]
    assert [s.steps for s in plan] == [30, 14, 12]


def test_previous_default_is_kept_for_comparison(random_weights_path: Path) -> None:
    seen: list[Progress] = []
    settings = Settings(size=64, steps=6, weights=str(random_weights_path), precision="fp32")
    result = stylize(png_bytes(gradient_image(64, 48)), png_bytes(stripes_image(64, 64)),
                     settings=settings, recipe=PREVIOUS_DEFAULT, on_progress=seen.append)
    assert PREVIOUS_DEFAULT.optimizer == "lbfgs_torch"
    assert result.image.size == (64, 48) and seen[-1].step == 6


def test_quality_guard_scores_the_photo_itself_as_perfect_content(
        random_weights_path: Path) -> None:
    photo = gradient_image(96, 64)
    painting = stripes_image(64, 64)
    same = measure(photo, png_bytes(photo), png_bytes(painting), weights=str(random_weights_path))
    other = measure(painting.resize((96, 64)), png_bytes(photo), png_bytes(painting),
                    weights=str(random_weights_path))
    assert same.content < 1e-6 < other.content
    assert set(same.layers) == {str(i) for i in DEFAULT.style_layers}


def test_guard_averages_ratios_and_applies_the_tolerance() -> None:
    rows = [{"content_ratio": 1.02, "style_ratio": 0.9},
            {"content_ratio": 1.06, "style_ratio": 1.0}]
    report = guard_report(rows)
    assert report["mean_content_ratio"] == pytest.approx(1.04) and report["passed"]
    assert not guard_report([{"content_ratio": 1.2, "style_ratio": 0.9}])["passed"]


def test_bench_square_is_the_centre_of_the_photo() -> None:
    img = Image.new("RGB", (300, 200))
    assert center_square(img).size == (200, 200)


def test_bench_speedup_uses_the_median_run_of_ours() -> None:
    runs = [Run(13.2, 5.8e4, 76), Run(8.7, 5.8e4, 76), Run(15.1, 5.8e4, 76)]
    assert median_run(runs).seconds == 13.2
    assert median_run(runs[:2]).seconds == 13.2  # of two, the slower
    assert median_run(runs[:1]).seconds == 13.2


def test_bench_names_the_host_and_its_bf16_hardware(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9R14\n"
                       "flags\t\t: fpu avx512f avx512_bf16 sse2\n\nprocessor\t: 1\n")
    assert host(cpuinfo) | {"cores": 2} == {"cpu": "AMD EPYC 9R14", "cores": 2,
                                            "avx512_bf16": True, "amx": False}
    assert "amx" not in host(tmp_path / "missing")  # not Linux: name only
