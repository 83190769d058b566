"""The invertible 1x1 convolution that mixes channels between flows."""
from __future__ import annotations

from typing import Tuple

import torch
import torch.nn.functional as F
from torch import nn


class Invertible1x1Conv(nn.Module):
    """Channel mixing ``z -> W z`` with its log-determinant, and the inverse.

    The weight lives in ``conv.weight`` ``(C, C, 1)`` (NVIDIA's key). The
    inverse ``W^-1`` is computed in fp32 when asked (a ``C x C`` inverse, C <= 8
    for the hub models: nothing worth caching); prepared forms keep their own copy.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel_size=1, bias=False)
        weight = torch.linalg.qr(torch.randn(channels, channels))[0]
        if not weight.is_meta and torch.det(weight) < 0:  # a meta skeleton (shape checks) has no values
            weight[:, 0] = -weight[:, 0]
        with torch.no_grad():
            self.conv.weight.copy_(weight.unsqueeze(-1))
    def inverse_weight(self) -> torch.Tensor:
        """``W^-1`` as ``(C, C, 1)`` in fp32."""
        with torch.no_grad():
            return self.conv.weight.squeeze(-1).float().inverse().unsqueeze(-1)

    def log_det(self, batch_size: int, n_groups: int) -> torch.Tensor:
        """``batch_size * n_groups * log|det W|`` as an fp32 scalar."""
        return batch_size * n_groups * torch.linalg.slogdet(self.conv.weight.squeeze(-1).float())[1]

    def forward(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``z`` ``(B, C, T)`` -> ``(W z (B, C, T), log_det_W scalar fp32)``."""
        batch_size, _, n_groups = z.shape
        return self.conv(z), self.log_det(batch_size, n_groups)

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        """``z`` ``(B, C, T)`` -> ``W^-1 z`` ``(B, C, T)`` in ``z``'s dtype."""
        return F.conv1d(z, self.inverse_weight().to(z.dtype))
