"""WaveGlow's latent: NVIDIA's draw order, in one place for every backend.

NVIDIA's ``infer`` draws ``(B, n_remaining_channels, T)`` first, then
``(B, n_early_size, T)`` per early output, highest flow first, each fp32 on
the mel's device. :func:`latent_slices` is that order; :func:`draw_latent`
draws a whole latent in it, laid out as :attr:`WaveGlowOutput.z` (the
channels each draw feeds, at the position the training pass puts them), so a
backend that takes ``z`` and slices it reproduces a seeded NVIDIA run
whatever it computes in between.
"""
from __future__ import annotations

from typing import List, Tuple

import torch


def latent_slices(config) -> List[Tuple[int, int]]:
    """``(first channel, channels)`` of each draw, in draw order (the last flows' channels first)."""
    position = config.n_group - config.n_remaining_channels
    slices = [(position, config.n_remaining_channels)]
    for k in reversed(range(config.n_flows)):
        if config.is_early(k):
            position -= config.n_early_size
            slices.append((position, config.n_early_size))
    return slices


def draw_latent(config, batch: int, n_steps: int, device: torch.device) -> torch.Tensor:
    """Standard normal ``z`` ``(B, n_group, n_steps)`` fp32, drawn in NVIDIA's order (:func:`latent_slices`)."""
    z = torch.empty(batch, config.n_group, n_steps, device=device)
    for start, size in latent_slices(config):
        z[:, start:start + size] = torch.randn(batch, size, n_steps, device=device)
    return z


def check_latent(z: torch.Tensor, config, batch: int, n_steps: int) -> None:
    """Raise ``ValueError`` unless ``z`` is ``(batch, n_group, n_steps)``."""
    expected = (batch, config.n_group, n_steps)
    if not torch.is_tensor(z) or tuple(z.shape) != expected:
        shape = tuple(z.shape) if torch.is_tensor(z) else type(z).__name__
        raise ValueError(f"z must have shape (B, n_group, T_mel * 256 // n_group) = {expected}, got {shape}")
