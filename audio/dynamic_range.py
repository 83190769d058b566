"""Log compression of spectrogram magnitudes, as NVIDIA's ``audio_processing``."""
from __future__ import annotations

import torch


def dynamic_range_compression(x: torch.Tensor, C: float = 1, clip_val: float = 1e-5) -> torch.Tensor:
    """Natural log of magnitudes clamped from below: ``log(clamp(x, min=clip_val) * C)``.

    Args:
        x: magnitudes of any shape, e.g. ``(B, n_mels, frames)``.
        C: compression factor (NVIDIA always uses 1).
        clip_val: floor applied before the log so silence maps to ``log(clip_val)``.

    Returns:
        A tensor of the same shape and dtype as ``x``.
    """
    return torch.log(torch.clamp(x, min=clip_val) * C)


def dynamic_range_decompression(x: torch.Tensor, C: float = 1) -> torch.Tensor:
    """Inverse of :func:`dynamic_range_compression` above the floor: ``exp(x) / C``.

    Args:
        x: log magnitudes of any shape, e.g. ``(B, n_mels, frames)``.
        C: the compression factor that was used to compress.
    """
    return torch.exp(x) / C
