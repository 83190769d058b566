"""The WaveNet-like network that predicts the affine coupling's scale and shift."""
from __future__ import annotations

import torch
from torch import nn

from .config import WNConfig
from .coupling import gated_activation, wn_layer_loop
from .weight_norm import WeightNormConv1d


class WN(nn.Module):
    """Non-causal dilated convolutions conditioned on the upsampled mel.

    Same structure and state-dict keys as the DLE hub model: ``start``,
    ``in_layers.i``, ``cond_layers.i`` (one per layer), ``res_skip_layers.i``
    (the last layer has skip channels only), ``end`` (zero-initialised).

    Args:
        n_in_channels: channels of the half that conditions the coupling.
        n_cond_channels: channels of the squeezed mel (``n_mel_channels * n_group``).
        config: the layer count, kernel size and width.
    """

    def __init__(self, n_in_channels: int, n_cond_channels: int, config: WNConfig) -> None:
        super().__init__()
        self.n_layers = config.n_layers
        self.n_channels = config.n_channels
        width = config.n_channels
        self.in_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        self.cond_layers = nn.ModuleList()
        self.start = WeightNormConv1d(n_in_channels, width)
        self.end = nn.Conv1d(width, 2 * n_in_channels, 1)
        with torch.no_grad():
            self.end.weight.zero_()
            self.end.bias.zero_()
        for i in range(config.n_layers):
            dilation = 2 ** i
            padding = (config.kernel_size * dilation - dilation) // 2
            self.in_layers.append(WeightNormConv1d(width, 2 * width, config.kernel_size, dilation, padding))
            self.cond_layers.append(WeightNormConv1d(n_cond_channels, 2 * width))
            res_skip = 2 * width if i < config.n_layers - 1 else width
            self.res_skip_layers.append(WeightNormConv1d(width, res_skip))

    def forward(self, audio: torch.Tensor, spect: torch.Tensor) -> torch.Tensor:
        """``audio`` ``(B, n_in, T)``, ``spect`` ``(B, n_cond, T)`` -> ``(B, 2 * n_in, T)``.

        The first ``n_in`` output channels are the shift ``b``, the rest ``log s``.
        """
        def activations(i: int, x: torch.Tensor) -> torch.Tensor:
            return gated_activation(self.in_layers[i](x) + self.cond_layers[i](spect), self.n_channels)

        output = wn_layer_loop(self.start(audio), self.n_layers, self.n_channels, activations,
                               lambda i, acts: self.res_skip_layers[i](acts))
        return self.end(output)

    def remove_weightnorm(self) -> "WN":
        """Replace every weight-normed convolution by its folded ``Conv1d``; returns self."""
        if isinstance(self.start, WeightNormConv1d):
            self.start = self.start.fold()
        for layers in (self.in_layers, self.cond_layers, self.res_skip_layers):
            for i, layer in enumerate(layers):
                if isinstance(layer, WeightNormConv1d):
                    layers[i] = layer.fold()
        return self
