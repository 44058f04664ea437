"""Device, precision and thread selection."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from .errors import SettingsError


def select_device(spec: str = "auto") -> torch.device:
    """``auto`` prefers CUDA, then Apple's MPS, then the CPU."""
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(spec)
    except RuntimeError as exc:
        raise SettingsError(
            f"device must be auto, cpu, cuda, cuda:N or mps (got {spec!r}).") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SettingsError("device is cuda but PyTorch sees no CUDA GPU here; use auto or cpu.")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise SettingsError("device is mps but MPS is not available here; use auto or cpu.")
    return device


def cpu_has_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def autocast_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    """The dtype VGG convolutions run in, or None for fp32.

    ``auto``: bf16 on CPUs with native bf16 (AVX-512 BF16/AMX: ~2-4x faster, quality
    measured equal, see the README's figures), bf16 on CUDA GPUs that have it (fp16
    elsewhere), fp32 on MPS. Losses are always reduced in fp32 (see ``losses``).
    """
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if precision == "fp16":
        return torch.float16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and cpu_has_bf16():
        return torch.bfloat16
    return None


@contextlib.contextmanager
def autocast(device: torch.device, dtype: torch.dtype | None) -> Iterator[None]:
    with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
        yield


def memory_format(device: torch.device) -> torch.memory_format:
    """channels_last is what oneDNN and cuDNN's fast convolution kernels want."""
    return torch.channels_last if device.type in ("cpu", "cuda") else torch.contiguous_format


def set_threads(threads: int | None) -> None:
    if threads is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
