"""The feature extractor's frozen convolutions: packed or cast once, with or without the
ReLU fused in, same results."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from nst_engine.device import cpu_has_bf16
from nst_engine.vgg import FrozenConv2d, VGGFeatures
from nst_engine.weights import VGGWeights
from tests.conftest import random_vgg19_state


def outputs_and_input_grads(conv: nn.Module, x: torch.Tensor, dtype: torch.dtype | None,
                            *, relu: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    leaf = x.clone().requires_grad_(True)
    for _ in range(2):  # the second pass reuses the packed weights or the copy
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            if isinstance(conv, FrozenConv2d):
                y = conv(leaf, relu=relu)
            else:
                y = torch.relu(conv(leaf)) if relu else conv(leaf)
    # (y - 1)²: a gradient also where a ReLU output is 0, so a missing mask would show
    (grad,) = torch.autograd.grad((y.float() - 1).square().sum(), leaf)
    return y, grad


def twins(padding: str = "zeros") -> tuple[FrozenConv2d, nn.Conv2d]:
    torch.manual_seed(0)
    ours = FrozenConv2d(8, 16, 3, padding=1, padding_mode=padding).requires_grad_(False)
    plain = nn.Conv2d(8, 16, 3, padding=1, padding_mode=padding).requires_grad_(False)
    plain.load_state_dict(ours.state_dict())
    return ours, plain


def same_gradient(ours: torch.Tensor, plain: torch.Tensor, dtype: torch.dtype | None) -> None:
    """Bit-identical in bf16; in fp32 to rounding: oneDNN's backward kernel and a forward
    convolution on the flipped kernel sum in different orders (measured: 2.6e-6 of 6.1)."""
    if dtype is None:
        torch.testing.assert_close(ours, plain, rtol=1e-5, atol=1e-5)
    else:
        assert torch.equal(ours, plain)


@pytest.mark.parametrize("padding", ["zeros", "reflect"])
@pytest.mark.parametrize("dtype", [None, torch.bfloat16], ids=["fp32", "bf16"])
@pytest.mark.parametrize("relu", [False, True], ids=["conv", "conv+relu"])
def test_frozen_convolution_matches_a_plain_one_exactly(padding: str, dtype: torch.dtype | None,
                                                        relu: bool) -> None:
    ours, plain = twins(padding)
    x = torch.randn(1, 8, 20, 24).contiguous(memory_format=torch.channels_last)
    (y, grad), (y_plain, grad_plain) = (outputs_and_input_grads(c, x, dtype, relu=relu)
                                        for c in (ours, plain))
    assert y.dtype == y_plain.dtype == (dtype or torch.float32)
    assert torch.equal(y, y_plain)
    assert bool((y == 0).any()) == relu
    same_gradient(grad, grad_plain, dtype)
    # Another size reuses the weights packed for the first one, with the same results.
    x2 = torch.randn(2, 8, 9, 13).contiguous(memory_format=torch.channels_last)
    (y, grad), (y_plain, grad_plain) = (outputs_and_input_grads(c, x2, dtype, relu=relu)
                                        for c in (ours, plain))
    assert torch.equal(y, y_plain)
    same_gradient(grad, grad_plain, dtype)
    if dtype is None or cpu_has_bf16():
        assert list(ours.packed) == [dtype or torch.float32] and not ours.copies


def test_without_onednn_autocast_casts_the_weights_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The path CUDA takes: one low-precision copy, autocast's results."""
    monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: False)
    ours, plain = twins()
    x = torch.randn(1, 8, 20, 24).contiguous(memory_format=torch.channels_last)
    for relu in (False, True):
        for a, b in zip(outputs_and_input_grads(ours, x, torch.bfloat16, relu=relu),
                        outputs_and_input_grads(plain, x, torch.bfloat16, relu=relu),
                        strict=True):
            assert torch.equal(a, b)
    assert list(ours.copies) == [(torch.bfloat16, torch.device("cpu"))] and not ours.packed


def test_extractor_taps_are_those_of_separate_layers() -> None:
    """``VGGFeatures`` fuses each ReLU into its convolution unless the convolution's own
    output is tapped; taps and gradients equal a plain layer-by-layer pass."""
    model = VGGFeatures(VGGWeights("file", "random, TEST ONLY", random_vgg19_state()), 29)
    x = torch.rand(1, 3, 40, 48)
    taps = (1, 3, 6, 19, 20, 28, 29)  # ReLU outputs, a pre-ReLU conv4_4, conv5_1 and its ReLU

    def plain(image: torch.Tensor) -> dict[int, torch.Tensor]:
        h, out = (image - model.mean) / model.std, {}
        for idx, layer in enumerate(model.layers):
            h = nn.Conv2d.forward(layer, h) if isinstance(layer, FrozenConv2d) else layer(h)
            out[idx] = h
        return {i: out[i] for i in taps}

    def maps_and_grad(run: Callable[[torch.Tensor], dict[int, torch.Tensor]]
                      ) -> tuple[dict[int, torch.Tensor], torch.Tensor]:
        leaf = x.clone().requires_grad_(True)
        maps = run(leaf)
        (grad,) = torch.autograd.grad(sum(m.square().mean() for m in maps.values()), leaf)
        return maps, grad

    ours, grad = maps_and_grad(lambda image: model(image, taps))
    ref, ref_grad = maps_and_grad(plain)
    # Packed fp32 convolutions sum in another order: equal to rounding at each map's scale.
    assert ours.keys() == ref.keys()
    for i in taps:
        torch.testing.assert_close(ours[i], ref[i], rtol=0, atol=1e-5 * ref[i].abs().max().item())
    torch.testing.assert_close(grad, ref_grad, rtol=0, atol=1e-5 * ref_grad.abs().max().item())
