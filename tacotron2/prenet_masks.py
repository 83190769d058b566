"""Prenet dropout masks drawn ahead of the decoder steps, in the faithful path's RNG order.

``F.dropout(x, p, training=True)`` draws a fresh random tensor shaped like
``x`` and returns ``x * scale`` where ``scale`` is 0 or ``1 / (1 - p)``. The
scale does not depend on ``x``, so the fast decoder draws the scales of a block
of steps first (two per step, layer 1 then layer 2, exactly the order and
shapes in which the faithful loop calls ``F.dropout``) and multiplies later.
Eval-mode decoding draws no other random numbers, so the generator sequence,
and with it every seeded output, is the faithful one.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .prenet import PRENET_DROPOUT


def default_generator(device: torch.device) -> torch.Generator:
    """The generator that ``F.dropout`` uses for tensors on ``device``."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return torch.cuda.default_generators[index]
    if device.type == "cpu":
        return torch.default_generator
    raise ValueError(f"the fast decoder supports CPU and CUDA devices, got {device}")


def draw_dropout_scale_(buffer: Tensor, p: float = PRENET_DROPOUT) -> Tensor:
    """Fill ``buffer`` with the 0 / ``1/(1-p)`` scale that ``F.dropout`` would draw for its shape.

    On CPU, ``F.dropout`` runs ``empty_like(x).bernoulli_(1 - p).div_(1 - p)``;
    on CUDA it calls the fused ``native_dropout`` kernel. Both are reproduced
    here so that the random stream advances identically.
    """
    if buffer.device.type == "cpu":
        return buffer.bernoulli_(1.0 - p).div_(1.0 - p)
    scale, _ = torch.native_dropout(torch.ones_like(buffer), p, True)
    return buffer.copy_(scale)


def draw_prenet_masks_(masks: Tensor, n_steps: int) -> Tensor:
    """Draw the scales of ``n_steps`` steps into ``masks`` (K >= n_steps, n_layers, B, prenet_dim)."""
    for step in range(n_steps):
        for layer in range(masks.size(1)):
            draw_dropout_scale_(masks[step, layer])
    return masks
