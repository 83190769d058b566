"""NVIDIA DLE's step-wise learning-rate schedule (``adjust_learning_rate`` in its ``train.py``)."""
from __future__ import annotations

from typing import Optional, Sequence

import torch

ANNEAL_FACTORS = (0.1, 0.3)


def annealed_learning_rate(epoch: int, base_lr: float, anneal_steps: Optional[Sequence[int]] = None,
                           anneal_factor: float = 0.1) -> float:
    """Learning rate for ``epoch`` under DLE's schedule.

    ``p`` counts the entries of ``anneal_steps`` (epochs) that ``epoch`` has
    reached. With ``anneal_factor`` 0.1 the rate is ``base_lr * 0.1 ** p``;
    with 0.3 it alternates factors 0.3 and 1/3 so that every second step is a
    full decade: ``base_lr * 0.1 ** (p // 2) * (0.3 if p is odd else 1)``.
    """
    if anneal_factor not in ANNEAL_FACTORS:
        raise ValueError(f"anneal_factor must be one of {ANNEAL_FACTORS} (as NVIDIA's), got {anneal_factor!r}")
    p = sum(1 for step in (anneal_steps or ()) if epoch >= int(step))
    if anneal_factor == 0.3:
        return base_lr * (0.1 ** (p // 2)) * (0.3 if p % 2 else 1.0)
    return base_lr * (anneal_factor ** p)


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> bool:
    """Set ``lr`` on every parameter group; returns whether it changed."""
    changed = any(group["lr"] != lr for group in optimizer.param_groups)
    for group in optimizer.param_groups:
        group["lr"] = lr
    return changed
