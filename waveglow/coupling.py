"""The affine coupling and the WN layer loop, in one place for every WaveGlow backend.

Each backend (reference, fast, int8) computes the WN's convolutions its own
way; the bookkeeping around them, which half conditions and which changes,
the inverse affine update, the gated activation and the residual/skip stream
of the layer loop, is these functions. Channels are dim 1 in every layout the
backends use (``(B, C, T)`` and the int8 form's time-major ``(T, C)``).
"""
from __future__ import annotations

from typing import Callable, Optional, Tuple

import torch
from torch import Tensor


def split_halves(audio: Tensor, swapped: bool) -> Tuple[Tensor, Tensor]:
    """``(kept, changed)`` halves of ``audio`` along dim 1; ``swapped`` (glow_old's odd flows) changes the first."""
    n_half = audio.size(1) // 2
    first, second = audio[:, :n_half], audio[:, n_half:]
    return (second, first) if swapped else (first, second)


def merge_halves(kept: Tensor, changed: Tensor, swapped: bool) -> Tensor:
    """Inverse of :func:`split_halves`."""
    return torch.cat([changed, kept] if swapped else [kept, changed], 1)


def affine_inverse(changed: Tensor, shift: Tensor, log_scale: Tensor) -> Tensor:
    """NVIDIA's inverse coupling ``(changed - b) / exp(log_s)``."""
    return (changed - shift) / torch.exp(log_scale)


def gated_activation(x: Tensor, n_channels: int, dim: int = 1) -> Tensor:
    """``tanh(first n) * sigmoid(last n)`` along ``dim``: ``2n`` channels -> ``n``."""
    return torch.tanh(x.narrow(dim, 0, n_channels)) * torch.sigmoid(x.narrow(dim, n_channels, n_channels))


def gate_from_halves(tanh_half: Tensor, sigmoid_half: Tensor) -> Tensor:
    """The gated activation ``tanh(a) * sigmoid(b)`` of two halves, as two ``exp`` and one division.

    ``tanh(a) = (1 - e) / (1 + e)`` with ``e = exp(-2a)`` and
    ``sigmoid(b) = 1 / (1 + f)`` with ``f = exp(-b)``, so the product is
    ``(1 - e) / ((1 + e) (1 + f))``; ``a`` is clamped to +-15, where
    ``tanh`` is 1 in fp32, so ``e`` stays finite (a huge ``f`` gives 0, as
    ``sigmoid``). The same value as :func:`gated_activation` to a few fp32
    ulps (tested), with one vector division and no ``tanh``; the int8 form,
    whose gate is compiled, uses it (docs/performance.md has the measurement).
    """
    e = torch.exp(tanh_half.clamp(-15.0, 15.0) * -2.0)
    return (1.0 - e) / ((1.0 + e) * (1.0 + torch.exp(-sigmoid_half)))


def wn_layer_loop(x: Tensor, n_layers: int, width: int, activations: Callable[[int, Tensor], Tensor],
                  res_skip: Callable[[int, Tensor], Tensor], skip_dtype: Optional[torch.dtype] = None) -> Tensor:
    """NVIDIA's WN loop: the sum of every layer's skip output.

    ``x`` is the residual stream (``width`` channels on dim 1);
    ``activations(i, x)`` is layer ``i``'s gated activation and
    ``res_skip(i, acts)`` its residual+skip convolution (``width`` residual
    channels, then the skip channels; the last layer has skip channels only).
    The skip sum is accumulated in ``skip_dtype`` when given.
    """
    out: Optional[Tensor] = None
    for i in range(n_layers):
        rs = res_skip(i, activations(i, x))
        if i < n_layers - 1:
            x = x + rs[:, :width]
            skip = rs[:, width:]
        else:
            skip = rs
        if skip_dtype is not None:
            skip = skip.to(skip_dtype)
        out = skip if out is None else out + skip
    return out
