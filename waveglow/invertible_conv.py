"""The invertible 1x1 convolution that mixes channels between flows."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn


class Invertible1x1Conv(nn.Module):
    """Channel mixing ``z -> W z`` with its log-determinant, and the inverse.

    The weight lives in ``conv.weight`` ``(C, C, 1)`` (NVIDIA's key). The
    inverse ``W^-1`` is computed once in fp32 and cached; the cache is keyed
    on the weight's storage, version counter, device and dtype, so any change
    to the weight (``load_state_dict``, an optimiser step, ``.to()``)
    recomputes it.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel_size=1, bias=False)
        weight = torch.linalg.qr(torch.randn(channels, channels))[0]
        if not weight.is_meta and torch.det(weight) < 0:  # a meta skeleton (shape checks) has no values
            weight[:, 0] = -weight[:, 0]
        with torch.no_grad():
            self.conv.weight.copy_(weight.unsqueeze(-1))
        self._inverse: Optional[torch.Tensor] = None
        self._inverse_key: Optional[Tuple] = None

    def _weight_key(self) -> Tuple:
        weight = self.conv.weight
        return weight.data_ptr(), weight._version, weight.device, weight.dtype

    def inverse_weight(self) -> torch.Tensor:
        """``W^-1`` as ``(C, C, 1)`` in fp32, recomputed only when the weight changed."""
        key = self._weight_key()
        if self._inverse is None or self._inverse_key != key:
            with torch.inference_mode(False), torch.no_grad():
                self._inverse = self.conv.weight.squeeze(-1).float().inverse().unsqueeze(-1)
            self._inverse_key = key
        return self._inverse

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
