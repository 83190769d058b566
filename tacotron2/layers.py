"""Linear and 1-d convolution layers with NVIDIA's Xavier initialisation."""
from __future__ import annotations

from typing import Optional

from torch import Tensor, nn


class LinearNorm(nn.Module):
    """``nn.Linear`` (kept as ``.linear_layer``) with Xavier-uniform weights of gain ``w_init_gain``.

    ``(..., in_dim) -> (..., out_dim)``.
    """

    def __init__(self, in_dim: int, out_dim: int, bias: bool = True, w_init_gain: str = "linear") -> None:
        super().__init__()
        self.linear_layer = nn.Linear(in_dim, out_dim, bias=bias)
        nn.init.xavier_uniform_(self.linear_layer.weight, gain=nn.init.calculate_gain(w_init_gain))

    def forward(self, x: Tensor) -> Tensor:
        return self.linear_layer(x)


class ConvNorm(nn.Module):
    """``nn.Conv1d`` (kept as ``.conv``) with Xavier-uniform weights of gain ``w_init_gain``.

    ``(B, in_channels, T) -> (B, out_channels, T')``; ``padding=None`` keeps
    the length for an odd ``kernel_size``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1, stride: int = 1,
                 padding: Optional[int] = None, dilation: int = 1, bias: bool = True,
                 w_init_gain: str = "linear") -> None:
        super().__init__()
        if padding is None:
            if kernel_size % 2 != 1:
                raise ValueError(f"kernel_size must be odd when padding is not given, got {kernel_size}")
            padding = dilation * (kernel_size - 1) // 2
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size=kernel_size, stride=stride,
                              padding=padding, dilation=dilation, bias=bias)
        nn.init.xavier_uniform_(self.conv.weight, gain=nn.init.calculate_gain(w_init_gain))

    def forward(self, signal: Tensor) -> Tensor:
        return self.conv(signal)
