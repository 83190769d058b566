"""A 1-D convolution whose weight is stored as magnitude and direction (weight norm)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def weight_norm_weight(weight_g: torch.Tensor, weight_v: torch.Tensor) -> torch.Tensor:
    """``g * v / ||v||`` with the norm over every dim but 0, as ``torch.nn.utils.weight_norm(dim=0)``.

    ``weight_g`` is ``(C_out, 1, 1)``, ``weight_v`` ``(C_out, C_in, K)``.
    """
    norm = torch.linalg.vector_norm(weight_v, dim=tuple(range(1, weight_v.dim())), keepdim=True)
    return weight_v * (weight_g / norm)


class WeightNormConv1d(nn.Module):
    """``Conv1d`` with weight-norm parameters ``weight_g``, ``weight_v`` and ``bias``.

    Its state-dict keys are those of NVIDIA's ``torch.nn.utils.weight_norm``
    wrapped convolutions, so hub checkpoints load into it directly.
    :meth:`fold` returns the plain ``Conv1d`` (key ``weight``) for inference.
    Input ``(B, in_channels, T)`` -> output ``(B, out_channels, T')``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1, dilation: int = 1,
                 padding: int = 0) -> None:
        super().__init__()
        template = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation, padding=padding)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        direction = template.weight.detach()
        self.weight_g = nn.Parameter(torch.linalg.vector_norm(direction, dim=(1, 2), keepdim=True))
        self.weight_v = nn.Parameter(direction.clone())
        self.bias = nn.Parameter(template.bias.detach().clone())

    @property
    def weight(self) -> torch.Tensor:
        """The effective convolution weight ``(out_channels, in_channels, kernel_size)``."""
        return weight_norm_weight(self.weight_g, self.weight_v)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, in_channels, T)`` -> ``(B, out_channels, T')``."""
        return F.conv1d(x, self.weight, self.bias, dilation=self.dilation, padding=self.padding)

    def fold(self) -> nn.Conv1d:
        """A plain ``Conv1d`` computing the same function, on the same device and dtype."""
        conv = nn.Conv1d(self.in_channels, self.out_channels, self.kernel_size, dilation=self.dilation,
                         padding=self.padding, device=self.weight_v.device, dtype=self.weight_v.dtype)
        with torch.no_grad():
            conv.weight.copy_(self.weight)
            conv.bias.copy_(self.bias)
        return conv

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}")
