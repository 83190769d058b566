"""The folded weights of one WaveGlow flow, shared by the inference forms (:mod:`waveglow.fast_infer`,
:mod:`waveglow.int8_infer`), and their size."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import torch
from torch import nn


@dataclass
class FlowPlan:
    """The folded weights of one flow (``C`` WN channels, ``h`` = half the flow's channels)."""

    start_weight: torch.Tensor    # (C, h, 1)
    start_bias: torch.Tensor      # (C,)
    in_weights: List[torch.Tensor]  # n_layers x (2C, C, K), no bias (folded into cond_bias)
    first_in_weight: torch.Tensor   # (2C, h + 1, K): in_weights[0] after start, input [kept, 1] (see fold_wn)
    dilations: List[int]
    cond_weight: torch.Tensor     # (n_layers * 2C, n_cond, 1)
    cond_bias: torch.Tensor       # (n_layers * 2C,)  cond + in_layers biases
    res_weights: List[torch.Tensor]  # (C + 2h, C, 1) then (2h, C, 1) for the last layer
    res_biases: List[torch.Tensor]
    inverse_weight: torch.Tensor  # (c, c) fp32
    swapped: bool                 # glow_old: odd flows transform the first half
    early: bool                   # n_early_size channels of noise join before this flow (inverse order)
    # fold_upsampler=True: per layer, conditioning folded with the upsampler (then cond_weight/cond_bias are None)
    phase_weights: Optional[List[torch.Tensor]] = None  # per layer, in the layout of phase_condition.fold_upsampler
    in_biases: Optional[List[torch.Tensor]] = None      # (2C,) per layer: cond + upsampler + in_layers biases


def _conv_weight_bias(layer: nn.Module) -> Tuple[torch.Tensor, torch.Tensor]:
    """Effective ``(weight, bias)`` in fp32 of a ``WeightNormConv1d`` or folded ``Conv1d``."""
    return layer.weight.detach().float(), layer.bias.detach().float()


def first_layer_weight(in_weight: torch.Tensor, start_weight: torch.Tensor, start_bias: torch.Tensor) -> torch.Tensor:
    """The first dilated convolution composed with the ``start`` 1x1 convolution before it.

    ``in_weight`` ``(2C, C, K)``, ``start_weight`` ``(C, h, 1)``, ``start_bias``
    ``(C,)`` -> ``(2C, h + 1, K)``, a convolution of ``[kept, 1]`` (the kept
    half with a channel of ones appended): the ones channel carries the start
    bias, and the convolution's zero padding turns it off outside the signal
    exactly where the padded start output is zero, so the edges need no
    correction. Layer 0 then reads ``h + 1`` channels instead of ``C``
    (``C / (h + 1)`` times fewer multiply-adds: 1/8 of every WN's dilated
    convolution work for the hub model); the start output is still computed,
    for the residual stream. Composed in fp64, returned in fp32.
    """
    start = torch.cat([start_weight[:, :, 0], start_bias[:, None]], 1).double()  # (C, h + 1)
    return torch.einsum("ocj,ch->ohj", in_weight.double(), start).float()


def fold_wn(wn: nn.Module, n_half: int) -> dict:
    """Fold one :class:`~waveglow.WN` (fp32 maths) into the tensors of a :class:`FlowPlan`."""
    width = wn.n_channels
    start_w, start_b = _conv_weight_bias(wn.start)
    end_w = wn.end.weight.detach().float().squeeze(-1)  # (2h, C)
    end_b = wn.end.bias.detach().float()
    in_weights, cond_weights, cond_biases, res_weights, res_biases = [], [], [], [], []
    for i in range(wn.n_layers):
        in_w, in_b = _conv_weight_bias(wn.in_layers[i])
        cond_w, cond_b = _conv_weight_bias(wn.cond_layers[i])
        in_weights.append(in_w)
        cond_weights.append(cond_w)
        cond_biases.append(cond_b + in_b)
        rs_w, rs_b = _conv_weight_bias(wn.res_skip_layers[i])
        rs_w = rs_w.squeeze(-1)
        last = i == wn.n_layers - 1
        skip_w, skip_b = (rs_w, rs_b) if last else (rs_w[width:], rs_b[width:])
        folded_w = end_w @ skip_w
        folded_b = end_w @ skip_b + (end_b if last else 0.0)
        if not last:
            folded_w = torch.cat([rs_w[:width], folded_w])
            folded_b = torch.cat([rs_b[:width], folded_b])
        res_weights.append(folded_w.unsqueeze(-1))
        res_biases.append(folded_b)
    return dict(start_weight=start_w, start_bias=start_b, in_weights=in_weights,
                first_in_weight=first_layer_weight(in_weights[0], start_w, start_b),
                dilations=[2 ** i for i in range(wn.n_layers)], cond_weight=torch.cat(cond_weights),
                cond_bias=torch.cat(cond_biases), res_weights=res_weights, res_biases=res_biases)


def plan_bytes(plan: object) -> int:
    """Bytes of every tensor (and list of tensors) held by a dataclass plan."""
    total = 0
    for value in vars(plan).values():
        for t in (value if isinstance(value, (list, tuple)) else [value]):
            if torch.is_tensor(t):
                total += t.numel() * t.element_size()
    return total
