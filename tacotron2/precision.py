"""The matrix products of the fast decoder, exact or in reduced precision.

Each class holds one ``nn.Linear``-style weight ``(out, in)`` and bias and
writes ``x @ weight.T + bias`` for ``x`` (B, in) into a preallocated ``out``
(B, out) in the activation dtype:

* :class:`ExactLinear`: ``torch.addmm`` / ``torch.mm`` exactly as ``nn.Linear``
  calls them, so results are bitwise those of the module (the prenet,
  attention and output projections of the fast path use it).
* :class:`ReducedLinear`: weight stored in bf16 (CPU) or fp16 (CUDA); the
  input is cast down, the product is rounded to that dtype, then cast up and
  the fp32 bias added in fp32.
* :class:`Int8Linear`: dynamic quantization, int8 weights with one symmetric
  scale per output channel, activations quantized per call
  (``torch.ops.quantized.linear_dynamic``, CPU only); fp32 output and bias.
:func:`make_lstm_linear` fuses an ``nn.LSTMCell``'s two products into one:
``[x, h] @ [W_ih | W_hh].T + (b_ih + b_hh)``, one weight read per step
instead of two calls. Every op reports ``nbytes``, the memory it holds beyond
the model's own parameters. (An earlier version multiplied oneDNN-reordered
weights through private ``torch.ops.mkldnn`` ops; on a quiet machine that
measured no faster than ``addmm``, so it was dropped.)
"""
from __future__ import annotations

import warnings
from typing import Optional, Union

import torch
from torch import Tensor

from .inference import REDUCED_DTYPES


class ExactLinear:
    """``x @ weight.T (+ bias)`` computed by the same ATen call as ``nn.Linear`` on a 2-d input."""

    def __init__(self, weight: Tensor, bias: Optional[Tensor], owned: bool = False) -> None:
        self.weight_t = weight.t()
        self.bias = bias
        #: bytes held beyond the model's parameters (``owned``: the weight was built for this op)
        self.nbytes = _bytes(weight, bias) if owned else 0

    def __call__(self, x: Tensor, out: Tensor) -> Tensor:
        """``x`` (B, in) -> ``out`` (B, out), written in place and returned."""
        if self.bias is None:
            return torch.mm(x, self.weight_t, out=out)
        return torch.addmm(self.bias, x, self.weight_t, out=out)


class ReducedLinear:
    """Weights in ``dtype`` (bf16 or fp16), fp32 bias and output."""

    def __init__(self, weight: Tensor, bias: Optional[Tensor], dtype: torch.dtype) -> None:
        self.dtype = dtype
        self.weight_t = weight.detach().to(dtype).t()
        self.bias = None if bias is None else bias.detach().float()
        self.nbytes = _bytes(self.weight_t, self.bias)

    def __call__(self, x: Tensor, out: Tensor) -> Tensor:
        """``x`` (B, in) -> ``out`` (B, out) fp32, written in place and returned."""
        out.copy_(torch.mm(x.to(self.dtype), self.weight_t))
        if self.bias is not None:
            out.add_(self.bias)
        return out


class Int8Linear:
    """Dynamically quantized linear: int8 weight, per-output-channel symmetric scales."""

    def __init__(self, weight: Tensor, bias: Optional[Tensor]) -> None:
        weight = weight.detach().float()
        scales = (weight.abs().amax(dim=1) / 127.0).clamp_min(1e-12).double()
        zero_points = torch.zeros(weight.size(0), dtype=torch.long)
        with warnings.catch_warnings():  # torch >= 2.10 flags quantized tensors as deprecated; nothing to act on
            warnings.filterwarnings("ignore", message=".*quantize_per_channel.*", category=UserWarning)
            quantized = torch.quantize_per_channel(weight, scales, zero_points, 0, torch.qint8)
        self.packed = torch.ops.quantized.linear_prepack(
            quantized, None if bias is None else bias.detach().float())
        self.nbytes = weight.numel() + 8 * scales.numel() + (0 if bias is None else 4 * bias.numel())

    def __call__(self, x: Tensor, out: Tensor) -> Tensor:
        """``x`` (B, in) fp32 -> ``out`` (B, out) fp32, written in place and returned."""
        return out.copy_(torch.ops.quantized.linear_dynamic(x, self.packed))


class SplitLSTMProduct:
    """An LSTM cell's gates from ``[x, h]`` as ATen's CPU ``lstm_cell`` computes them, bit for bit.

    ``(h @ W_hh.T + b_hh) + (x @ W_ih.T + b_ih)``: two ``addmm`` calls and one
    add in that order (``precision="fp32_exact"``).
    """

    def __init__(self, cell: torch.nn.LSTMCell) -> None:
        self.input_size = cell.input_size
        self.ih = ExactLinear(cell.weight_ih, cell.bias_ih)
        self.hh = ExactLinear(cell.weight_hh, cell.bias_hh)
        self.nbytes = 0

    def __call__(self, x: Tensor, out: Tensor) -> Tensor:
        """``x`` = ``[input, h]`` (B, in + H) -> ``out`` (B, 4H), written in place and returned.

        The input product goes to a fresh (B, 4H) tensor: a prepared decoder may be
        shared by concurrent calls, so this op keeps no scratch of its own.
        """
        self.hh(x[:, self.input_size:], out)
        return out.add_(self.ih(x[:, :self.input_size], torch.empty_like(out)))


def _bytes(*tensors: Optional[Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors if t is not None)


LinearOp = Union[ExactLinear, ReducedLinear, Int8Linear, SplitLSTMProduct]


def make_lstm_linear(cell: torch.nn.LSTMCell, precision: str) -> LinearOp:
    """One product for an LSTM cell's gates: input ``[x, h]`` (B, in + hidden) -> (B, 4 * hidden).

    ``"fp32_exact"`` keeps the two products apart (:class:`SplitLSTMProduct`);
    the other precisions multiply the fused weight (:func:`make_linear`).
    """
    if precision == "fp32_exact":
        return SplitLSTMProduct(cell)
    weight = torch.cat((cell.weight_ih.detach(), cell.weight_hh.detach()), 1)
    bias = None if cell.bias_ih is None else (cell.bias_ih.detach() + cell.bias_hh.detach())
    return make_linear(weight, bias, precision)


def make_linear(weight: Tensor, bias: Optional[Tensor], precision: str) -> LinearOp:
    """The matrix product for a weight built for it, ``weight`` (out, in), in ``precision``."""
    if precision in ("fp32", "fp32_exact"):
        return ExactLinear(weight, bias, owned=True)
    if precision == "int8":
        return Int8Linear(weight, bias)
    return ReducedLinear(weight, bias, REDUCED_DTYPES[precision])
