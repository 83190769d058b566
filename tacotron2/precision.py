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
* :class:`PackedLinear`: the weight reordered once into oneDNN's blocked
  layout (fp32 or bf16) and multiplied with oneDNN's linear kernel, which
  streams a large weight at close to memory bandwidth where ``addmm`` on the
  plain layout does not (CPU only; about 1.7x faster at batch 1 and 3x at
  batch 4 for the hub decoder's LSTM matrices). Summation order differs from
  ``addmm``, so results agree to rounding, not bit for bit.

:func:`make_lstm_linear` fuses an ``nn.LSTMCell``'s two products into one:
``[x, h] @ [W_ih | W_hh].T + (b_ih + b_hh)``, one weight read per step
instead of two calls.
"""
from __future__ import annotations

import warnings
from typing import Optional, Union

import torch
from torch import Tensor

PRECISIONS = ("fp32", "fp32_exact", "bf16", "fp16", "int8")
FULL_PRECISIONS = ("fp32", "fp32_exact")  # the model's own dtype: allowed for every method and model dtype
REDUCED_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}

# Documented bound on ||mel - mel_fp32|| / ||mel_fp32|| (postnet mels, prenet dropout off, fixed
# number of steps) with about 5x margin over what was measured on random tiny and hub-size models
# (measured: bf16 5e-4 to 8e-4, fp16 5e-5 to 1.3e-4, int8 1.8e-3 to 2.1e-3; README "Performance").
DOCUMENTED_RELATIVE_ERROR = {"fp32": 1e-6, "fp32_exact": 0.0, "bf16": 5e-3, "fp16": 1e-3, "int8": 1e-2}


def check_precision(precision: str, device: torch.device) -> None:
    """Raise ``ValueError`` for an unknown precision or one the device cannot run."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "int8" and device.type != "cpu":
        raise ValueError(f"precision='int8' runs on CPU only, the model is on {device}; use 'fp16' on CUDA")


class ExactLinear:
    """``x @ weight.T (+ bias)`` computed by the same ATen call as ``nn.Linear`` on a 2-d input."""

    def __init__(self, weight: Tensor, bias: Optional[Tensor]) -> None:
        self.weight_t = weight.t()
        self.bias = bias

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

    def __call__(self, x: Tensor, out: Tensor) -> Tensor:
        """``x`` (B, in) fp32 -> ``out`` (B, out) fp32, written in place and returned."""
        return out.copy_(torch.ops.quantized.linear_dynamic(x, self.packed))


class PackedLinear:
    """oneDNN linear on a prepacked weight (CPU): fp32, or bf16 with fp32 bias and output."""

    def __init__(self, weight: Tensor, bias: Optional[Tensor], dtype: torch.dtype) -> None:
        self.dtype = dtype
        self.packed = torch.ops.mkldnn._reorder_linear_weight(weight.detach().to(dtype).contiguous(), None)
        bias = None if bias is None else bias.detach().float().contiguous()
        self.fused_bias = bias if dtype == torch.float32 else None
        self.bias = None if dtype == torch.float32 else bias

    def __call__(self, x: Tensor, out: Tensor) -> Tensor:
        """``x`` (B, in) contiguous fp32 -> ``out`` (B, out) fp32, written in place and returned."""
        out.copy_(torch.ops.mkldnn._linear_pointwise(x.to(self.dtype), self.packed, self.fused_bias,
                                                     "none", [], ""))
        if self.bias is not None:
            out.add_(self.bias)
        return out


class SplitLSTMProduct:
    """An LSTM cell's gates from ``[x, h]`` as ATen's CPU ``lstm_cell`` computes them, bit for bit.

    ``(h @ W_hh.T + b_hh) + (x @ W_ih.T + b_ih)``: two ``addmm`` calls and one
    add in that order (``precision="fp32_exact"``).
    """

    def __init__(self, cell: torch.nn.LSTMCell) -> None:
        self.input_size = cell.input_size
        self.ih = ExactLinear(cell.weight_ih, cell.bias_ih)
        self.hh = ExactLinear(cell.weight_hh, cell.bias_hh)

    def __call__(self, x: Tensor, out: Tensor) -> Tensor:
        """``x`` = ``[input, h]`` (B, in + H) -> ``out`` (B, 4H), written in place and returned.

        The input product goes to a fresh (B, 4H) tensor: this object is cached on the
        decoder and shared by concurrent calls, so it keeps no scratch of its own.
        """
        self.hh(x[:, self.input_size:], out)
        return out.add_(self.ih(x[:, :self.input_size], torch.empty_like(out)))


LinearOp = Union[ExactLinear, ReducedLinear, Int8Linear, PackedLinear, SplitLSTMProduct]


def onednn_packing_available(device: torch.device) -> bool:
    """Whether :class:`PackedLinear` can run: a CPU tensor and a PyTorch build with oneDNN enabled."""
    return (device.type == "cpu" and torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled
            and hasattr(torch.ops.mkldnn, "_reorder_linear_weight"))


def make_lstm_linear(cell: torch.nn.LSTMCell, precision: str) -> LinearOp:
    """One product for an LSTM cell's gates: input ``[x, h]`` (B, in + hidden) -> (B, 4 * hidden).

    fp32 and bf16 use :class:`PackedLinear` where oneDNN is available on
    the cell's device, otherwise the same product as :func:`make_linear`;
    ``"fp32_exact"`` keeps the two products apart (:class:`SplitLSTMProduct`).
    """
    if precision == "fp32_exact":
        return SplitLSTMProduct(cell)
    weight = torch.cat((cell.weight_ih.detach(), cell.weight_hh.detach()), 1)
    bias = None if cell.bias_ih is None else (cell.bias_ih.detach() + cell.bias_hh.detach())
    if precision in ("fp32", "bf16") and weight.dtype == torch.float32 and onednn_packing_available(weight.device):
        return PackedLinear(weight, bias, torch.float32 if precision == "fp32" else torch.bfloat16)
    return make_linear(weight, bias, precision)


def make_linear(weight: Tensor, bias: Optional[Tensor], precision: str) -> LinearOp:
    """The matrix product for ``weight`` (out, in) in ``precision`` (one of :data:`PRECISIONS`)."""
    if precision == "fp32":
        return ExactLinear(weight, bias)
    if precision == "int8":
        return Int8Linear(weight, bias)
    return ReducedLinear(weight, bias, REDUCED_DTYPES[precision])
