"""The WaveGlow training objective (negative log-likelihood per sample)."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import torch
from torch import nn


class WaveGlowLoss(nn.Module):
    """``sum(z^2) / (2 sigma^2) - sum(log s) - sum(log det W)``, divided by ``z.numel()``.

    Args:
        sigma: standard deviation of the Gaussian prior used in training.
    """

    def __init__(self, sigma: float = 1.0) -> None:
        super().__init__()
        if sigma <= 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        self.sigma = sigma

    def forward(self, model_output: Sequence, clean_audio: Optional[Any] = None) -> torch.Tensor:
        """``(z (B, C, T), log_s_list, log_det_W_list)`` -> scalar loss.

        ``clean_audio`` is accepted and unused, as in NVIDIA DLE's
        ``WaveGlowLoss.forward(model_output, clean_audio)``, so DLE's training
        code that passes the target audio runs unchanged.
        """
        z, log_s_list, log_det_W_list = model_output
        log_s_total = sum(torch.sum(log_s) for log_s in log_s_list)
        log_det_W_total = sum(log_det_W_list)
        loss = torch.sum(z * z) / (2 * self.sigma * self.sigma) - log_s_total - log_det_W_total
        return loss / (z.size(0) * z.size(1) * z.size(2))
