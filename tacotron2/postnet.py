"""Postnet: a convolution stack that predicts a residual for the decoder's mel frames."""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .layers import ConvNorm


def _conv_bn(in_channels: int, out_channels: int, kernel_size: int, gain: str) -> nn.Sequential:
    return nn.Sequential(
        ConvNorm(in_channels, out_channels, kernel_size=kernel_size,
                 padding=(kernel_size - 1) // 2, w_init_gain=gain),
        nn.BatchNorm1d(out_channels))


class Postnet(nn.Module):
    """``n_convolutions`` (conv, batch norm) blocks, tanh on all but the last, dropout 0.5 in training.

    ``(B, n_mel_channels, T) -> (B, n_mel_channels, T)`` (the residual, not the sum).
    """

    def __init__(self, n_mel_channels: int, embedding_dim: int, kernel_size: int, n_convolutions: int) -> None:
        super().__init__()
        channels = [n_mel_channels] + [embedding_dim] * (n_convolutions - 1) + [n_mel_channels]
        gains = ["tanh"] * (n_convolutions - 1) + ["linear"]
        self.convolutions = nn.ModuleList(
            _conv_bn(channels[i], channels[i + 1], kernel_size, gains[i]) for i in range(n_convolutions))

    def forward(self, x: Tensor) -> Tensor:
        last = len(self.convolutions) - 1
        for i, block in enumerate(self.convolutions):
            x = block(x)
            if i < last:
                x = torch.tanh(x)
            x = F.dropout(x, 0.5, self.training)
        return x
