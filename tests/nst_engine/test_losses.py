"""Loss maths: Gram against a hand computation, and the invariances the relative losses promise."""

from __future__ import annotations

import pytest
import torch

from nst_engine import losses
from nst_engine.losses import ContentLoss, StyleLoss, gram, gram_sum, total_variation


def test_gram_matches_hand_computation() -> None:
    # Two channels over a 2x2 map: F = [[1, 2, 3, 4], [0, 1, 0, 1]]
    f = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, 1.0]]]])
    expected = torch.tensor([[[1.0 + 4 + 9 + 16, 0 + 2 + 0 + 4], [6, 0 + 1 + 0 + 1]]])
    assert torch.equal(gram(f, normalised=False), expected)
    assert torch.allclose(gram(f), expected / 4)


def test_gram_is_computed_in_fp32_from_bf16() -> None:
    f = torch.randn(1, 8, 16, 16).bfloat16()
    assert gram(f).dtype == torch.float32


@pytest.mark.parametrize("weighted", [False, True])
def test_gram_sum_of_a_large_bf16_map_widens_in_chunks_exactly(
        weighted: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """More positions than a chunk, and not a multiple of it: the chunked fp32 sums equal
    the whole map's to fp32 rounding, with or without position weights."""
    monkeypatch.setattr(losses, "GRAM_CHUNK", 64)
    torch.manual_seed(0)
    flat = torch.rand(64 * 5 + 17, 8).bfloat16()
    weight = torch.rand(flat.shape[0], 1) if weighted else None
    wide = flat.double()
    expected = (wide if weight is None else wide * weight.double()).T @ wide
    monkeypatch.setattr(losses, "widen", None)  # no whole-map fp32 copy is made
    chunked = gram_sum(flat, weight)
    assert chunked.dtype == torch.float32
    torch.testing.assert_close(chunked.double(), expected, rtol=1e-6, atol=0)


def test_style_loss_gradient_matches_autograd() -> None:
    torch.manual_seed(0)
    features = torch.randn(1, 6, 5, 7, dtype=torch.float64)
    target = gram(torch.randn(1, 6, 9, 9, dtype=torch.float64))
    for normalised in (True, False):
        loss = StyleLoss(target, normalised_gram=normalised, relative=True)
        x = features.clone().requires_grad_(True)
        loss(x).backward()
        y = features.clone().requires_grad_(True)
        flat = y.reshape(1, 6, 35)
        g = flat @ flat.transpose(1, 2) / (35 if normalised else 1)
        (((g - target) ** 2).mean() * loss.scale).backward()
        assert torch.allclose(x.grad, y.grad, rtol=1e-10, atol=1e-12)


def test_bf16_style_gradient_stays_close_to_the_fp32_one() -> None:
    # bf16 features take the gradient matmul in bf16 (losses.gradient_operands); the
    # loss itself and its gradient's direction must not move
    torch.manual_seed(0)
    features = torch.rand(1, 16, 12, 10).contiguous(memory_format=torch.channels_last)
    target = gram(torch.rand(1, 16, 12, 10)) * 1.3
    loss = StyleLoss(target, normalised_gram=False, relative=False)
    grads, values = [], []
    for dtype in (torch.float32, torch.bfloat16):
        x = features.to(dtype, copy=True).requires_grad_(True)
        value = loss(x)
        value.backward()
        assert x.grad is not None and x.grad.dtype == dtype
        grads.append(x.grad.float())
        values.append(value.item())
    assert values[1] == pytest.approx(values[0], rel=1e-2)
    assert ((grads[1] - grads[0]).norm() / grads[0].norm()).item() < 1e-2


def test_normalised_style_loss_does_not_depend_on_image_size() -> None:
    torch.manual_seed(0)
    tile = torch.rand(1, 16, 8, 8)
    other = torch.rand(1, 16, 8, 8) * 2
    loss = StyleLoss(gram(other), normalised_gram=True, relative=True)
    small = loss(tile)
    large = loss(tile.repeat(1, 1, 4, 4))  # same statistics, 16x the positions
    assert torch.allclose(small, large, rtol=1e-5)


def test_relative_losses_do_not_depend_on_activation_scale() -> None:
    """A weight source whose layer is 7x louder gives the same loss: one strength fits all."""
    torch.manual_seed(0)
    x, style, content = (torch.rand(1, 32, 10, 10) for _ in range(3))
    for k in (1.0, 7.0):
        s = StyleLoss(gram(style * k), normalised_gram=True, relative=True)(x * k)
        c = ContentLoss(content * k, relative=True)(x * k)
        if k == 1.0:
            s1, c1 = s, c
    assert torch.allclose(s, s1, rtol=1e-5) and torch.allclose(c, c1, rtol=1e-5)


def test_relative_style_loss_does_not_depend_on_layer_width() -> None:
    torch.manual_seed(0)
    narrow = torch.rand(1, 8, 12, 12)
    wide = narrow.repeat(1, 8, 1, 1)  # 64 channels, same per-channel statistics
    t_narrow, t_wide = gram(narrow * 1.5), gram(wide * 1.5)
    a = StyleLoss(t_narrow, normalised_gram=True, relative=True)(narrow)
    b = StyleLoss(t_wide, normalised_gram=True, relative=True)(wide)
    assert torch.allclose(a, b, rtol=1e-5)


def test_content_loss_is_mean_squared_difference() -> None:
    target = torch.tensor([[[[1.0, 2.0]]]])
    x = torch.tensor([[[[2.0, 4.0]]]])
    assert ContentLoss(target, relative=False)(x).item() == (1 + 4) / 2
    assert abs(ContentLoss(target, relative=True)(x).item() - 2.5 / 2.5) < 1e-6


def test_total_variation_is_zero_on_flat_images() -> None:
    assert total_variation(torch.full((1, 3, 8, 8), 0.3)).item() == 0
    assert total_variation(torch.rand(1, 3, 8, 8)).item() > 0
