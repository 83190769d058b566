"""Location-sensitive attention."""
from __future__ import annotations

from typing import Tuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .layers import ConvNorm, LinearNorm


class LocationLayer(nn.Module):
    """Features of the previous and cumulative attention weights.

    ``(B, 2, N) -> (B, N, attention_dim)``.
    """

    def __init__(self, n_filters: int, kernel_size: int, attention_dim: int) -> None:
        super().__init__()
        self.location_conv = ConvNorm(2, n_filters, kernel_size=kernel_size,
                                      padding=(kernel_size - 1) // 2, bias=False)
        self.location_dense = LinearNorm(n_filters, attention_dim, bias=False, w_init_gain="tanh")

    def forward(self, attention_weights_cat: Tensor) -> Tensor:
        return self.location_dense(self.location_conv(attention_weights_cat).transpose(1, 2))


class Attention(nn.Module):
    """Additive attention whose energies also see where it attended before (Chorowski et al.)."""

    def __init__(self, attention_rnn_dim: int, embedding_dim: int, attention_dim: int,
                 location_n_filters: int, location_kernel_size: int) -> None:
        super().__init__()
        self.query_layer = LinearNorm(attention_rnn_dim, attention_dim, bias=False, w_init_gain="tanh")
        self.memory_layer = LinearNorm(embedding_dim, attention_dim, bias=False, w_init_gain="tanh")
        self.v = LinearNorm(attention_dim, 1, bias=False)
        self.location_layer = LocationLayer(location_n_filters, location_kernel_size, attention_dim)

    def energies(self, query: Tensor, processed_memory: Tensor, attention_weights_cat: Tensor) -> Tensor:
        """``query`` (B, attention_rnn_dim), ``processed_memory`` (B, N, attention_dim),
        ``attention_weights_cat`` (B, 2, N) -> unnormalised energies (B, N)."""
        processed_query = self.query_layer(query.unsqueeze(1))
        processed_location = self.location_layer(attention_weights_cat)
        return self.v(torch.tanh(processed_query + processed_location + processed_memory)).squeeze(2)

    def forward(self, query: Tensor, memory: Tensor, processed_memory: Tensor,
                attention_weights_cat: Tensor, mask: Tensor) -> Tuple[Tensor, Tensor]:
        """One attention step.

        ``memory`` (B, N, embedding_dim); ``mask`` (B, N) bool, True at padding.
        Returns ``(context (B, embedding_dim), weights (B, N))``.

        Padded positions are filled with the most negative finite value of the
        energies' dtype (not ``-inf``), which gives them exactly zero weight in
        fp32, fp16 and bf16 alike.
        """
        energies = self.energies(query, processed_memory, attention_weights_cat)
        energies = energies.masked_fill(mask, torch.finfo(energies.dtype).min)
        weights = F.softmax(energies, dim=1)
        context = torch.bmm(weights.unsqueeze(1).to(memory.dtype), memory).squeeze(1)
        return context, weights
