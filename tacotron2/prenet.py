"""Decoder prenet: two ReLU layers with dropout."""
from __future__ import annotations

from typing import Sequence

from torch import Tensor, nn
from torch.nn import functional as F

from .layers import LinearNorm

PRENET_DROPOUT = 0.5


class Prenet(nn.Module):
    """Linear (no bias) + ReLU + dropout(0.5) per layer: ``(..., in_dim) -> (..., sizes[-1])``.

    As in NVIDIA's model the dropout is applied ALWAYS, in training and at
    inference, in eval mode too: Tacotron 2 relies on it for output variety
    and its checkpoints were trained that way. ``dropout=False`` switches it
    off for research only: a model trained with prenet dropout then rarely
    stops (it runs to ``max_decoder_steps``) and its outputs no longer match
    NVIDIA's. For the same output twice, seed the RNG (``torch.manual_seed``).
    """

    def __init__(self, in_dim: int, sizes: Sequence[int]) -> None:
        super().__init__()
        in_sizes = [in_dim] + list(sizes[:-1])
        self.layers = nn.ModuleList(LinearNorm(i, o, bias=False) for i, o in zip(in_sizes, sizes))

    def forward(self, x: Tensor, dropout: bool = True) -> Tensor:
        for linear in self.layers:
            x = F.dropout(F.relu(linear(x)), p=PRENET_DROPOUT, training=dropout)
        return x
