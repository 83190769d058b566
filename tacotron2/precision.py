"""The matrix products of the fast decoder, exact or in reduced precision.

Each class holds one ``nn.Linear``-style weight ``(out, in)`` and bias and
writes ``x @ weight.T + bias`` for ``x`` (B, in) into a preallocated ``out``
(B, out) in the activation dtype:

* :class:`ExactLinear`: ``torch.addmm`` / ``torch.mm`` exactly as ``nn.Linear``
  calls them, so results are bitwise those of the module (the prenet,
  attention and output projections of the fast path use it).
* :class:`StreamedLinear`: fp32, the weight stored transposed, ``(in, out)``
  contiguous, and multiplied in row blocks by one ``bmm`` so that a batch-1
  product reads it on every intra-op thread (the fused LSTM products of
  ``precision="fp32"``; measured in docs/performance.md). Results differ from
  ``nn.Linear`` only by summation order.
* :class:`ReducedLinear`: weight stored in bf16 (CPU) or fp16 (CUDA); the
  input is cast down, the product is rounded to that dtype, then cast up and
  the fp32 bias added in fp32.
* :class:`Int8Linear`: dynamic quantization, int8 weights with one symmetric
  scale per output channel, activations quantized per call, to 7 bits where
  the CPU's kernel could overflow (:func:`int8_products_saturate`)
  (``torch.ops.quantized.linear_dynamic``, CPU only); fp32 output and bias.
:func:`make_lstm_linear` fuses an ``nn.LSTMCell``'s two products into one:
``[x, h] @ [W_ih | W_hh].T + (b_ih + b_hh)``, one weight read per step
instead of two calls. Every op reports ``nbytes``, the memory it holds beyond
the model's own parameters.

* :class:`PackedBf16Linear`: bf16 on CPU multiplies a weight reordered once
  into oneDNN's blocked layout (private ``torch.ops.mkldnn`` ops, used only
  because they measurably pay: on a quiet 2-core Xeon with AVX-512 BF16 the
  bf16 decoder ran at 0.91x the reference with ``torch.mm`` on the plain
  layout and 1.42x with the packed weight, ``python -m benchmarks.tacotron2_bench``).
  fp32 gained nothing from the same trick (1.03x either way), so fp32 uses
  :class:`StreamedLinear`. Without those ops (another build, oneDNN disabled) or a
  CPU they support (:func:`onednn_packing_available`) bf16 falls back to
  :class:`ReducedLinear`.
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

    def apply(self, x: Tensor) -> Tensor:
        """``x`` (B, in) -> a new (B, out) tensor, the same computation as :meth:`__call__`."""
        if self.bias is None:
            return torch.mm(x, self.weight_t)
        return torch.addmm(self.bias, x, self.weight_t)


class StreamedLinear:
    """``x @ weight_t + bias`` for a weight given already transposed, ``weight_t`` (in, out) contiguous.

    With more than one intra-op thread the product is split along ``in``
    into ``chunks`` row blocks (free views of ``weight_t``), multiplied by one
    ``torch.bmm`` and summed: a batch-1 ``addmm`` ran on one thread in MKL
    (measured on an AVX2 EPYC), while the blocks of one ``bmm`` stream on all
    of them. With one thread, another dtype than fp32 (a bf16 ``bmm`` is
    slower than one product where the CPU emulates bf16) or a CUDA weight it is
    one ``addmm``. The two differ only in summation order. The op owns
    ``weight_t`` (it is built for it, :func:`make_lstm_linear`).
    """

    #: row blocks tried, largest first; the first that divides ``in`` is used (none: one ``addmm``)
    CHUNKS = (16, 8, 4, 2)

    def __init__(self, weight_t: Tensor, bias: Optional[Tensor]) -> None:
        if weight_t.dim() != 2 or not weight_t.is_contiguous():
            raise ValueError(f"StreamedLinear needs a contiguous (in, out) weight, got shape {tuple(weight_t.shape)} "
                             f"with strides {weight_t.stride()}")
        self.weight_t = weight_t
        self.bias = bias
        blockable = weight_t.dtype == torch.float32 and weight_t.device.type == "cpu"
        self.chunks = next((k for k in self.CHUNKS if blockable and weight_t.size(0) % k == 0), 1)
        self.nbytes = _bytes(weight_t, bias)

    def __call__(self, x: Tensor, out: Tensor) -> Tensor:
        """``x`` (B, in) -> ``out`` (B, out), written in place and returned."""
        if self.chunks == 1 or torch.get_num_threads() == 1:
            if self.bias is None:
                return torch.mm(x, self.weight_t, out=out)
            return torch.addmm(self.bias, x, self.weight_t, out=out)
        k = self.chunks
        blocks = self.weight_t.view(k, self.weight_t.size(0) // k, self.weight_t.size(1))
        torch.sum(torch.bmm(x.reshape(x.size(0), k, -1).transpose(0, 1), blocks), 0, out=out)
        return out if self.bias is None else out.add_(self.bias)


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


class PackedBf16Linear:
    """bf16 weight prepacked for oneDNN's CPU linear; fp32 bias added in fp32, fp32 output."""

    def __init__(self, weight: Tensor, bias: Optional[Tensor]) -> None:
        self.packed = torch.ops.mkldnn._reorder_linear_weight(weight.detach().to(torch.bfloat16).contiguous(), None)
        self.bias = None if bias is None else bias.detach().float().contiguous()
        self.nbytes = _bytes(self.packed, self.bias)

    def __call__(self, x: Tensor, out: Tensor) -> Tensor:
        """``x`` (B, in) fp32 -> ``out`` (B, out) fp32, written in place and returned."""
        out.copy_(torch.ops.mkldnn._linear_pointwise(x.to(torch.bfloat16).contiguous(), self.packed, None,
                                                     "none", [], ""))
        if self.bias is not None:
            out.add_(self.bias)
        return out


def onednn_packing_available(device: torch.device) -> bool:
    """Whether :class:`PackedBf16Linear` can run: a CPU weight, a build with oneDNN enabled and a CPU it supports.

    oneDNN's bf16 linear needs AVX-NE-CONVERT or AVX-512 (BW, VL and DQ); on
    other CPUs (AVX2-only x86, most ARM) bf16 uses :class:`ReducedLinear`.
    """
    if not (device.type == "cpu" and torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled
            and hasattr(torch.ops.mkldnn, "_reorder_linear_weight")):
        return False
    isa = torch.cpu.get_capabilities()
    return bool(isa.get("avx_ne_convert") or all(isa.get(f"avx512_{ext}") for ext in ("bw", "vl", "dq")))


def int8_products_saturate() -> bool:
    """Whether the CPU's dynamic int8 linear can overflow with 8-bit activations, so they must use 7 bits.

    The x86 kernels (fbgemm, oneDNN) without AVX-512 VNNI multiply u8 x s8
    pairs into saturating 16-bit sums (``vpmaddubsw``): 255 * 127 * 2 does not
    fit, and a decoder's gates came out 50 % wrong on an AVX2 CPU. With 7-bit
    activations (``reduce_range``, as PyTorch's own x86 observers use) every
    pair sum fits. QNNPACK (ARM) and VNNI accumulate in 32 bits.
    """
    if torch.backends.quantized.engine == "qnnpack":
        return False
    return not torch.cpu.get_capabilities().get("avx512_vnni", False)


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
        #: 7-bit activations where 8-bit ones could overflow the CPU's kernel (:func:`int8_products_saturate`)
        self.reduce_range = int8_products_saturate()
        self.nbytes = weight.numel() + 8 * scales.numel() + (0 if bias is None else 4 * bias.numel())

    def __call__(self, x: Tensor, out: Tensor) -> Tensor:
        """``x`` (B, in) fp32 -> ``out`` (B, out) fp32, written in place and returned."""
        return out.copy_(torch.ops.quantized.linear_dynamic(x, self.packed, self.reduce_range))


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


LinearOp = Union[ExactLinear, StreamedLinear, ReducedLinear, PackedBf16Linear, Int8Linear, SplitLSTMProduct]


def make_lstm_linear(cell: torch.nn.LSTMCell, precision: str) -> LinearOp:
    """One product for an LSTM cell's gates: input ``[x, h]`` (B, in + hidden) -> (B, 4 * hidden).

    ``"fp32_exact"`` keeps the two products apart (:class:`SplitLSTMProduct`);
    ``"fp32"`` multiplies the fused weight laid out ``(in, out)``
    (:class:`StreamedLinear`); the other precisions multiply the fused
    ``(out, in)`` weight (:func:`make_linear`).
    """
    if precision == "fp32_exact":
        return SplitLSTMProduct(cell)
    bias = None if cell.bias_ih is None else (cell.bias_ih.detach() + cell.bias_hh.detach())
    if precision == "fp32":
        return StreamedLinear(torch.cat((cell.weight_ih.detach().t(), cell.weight_hh.detach().t()), 0), bias)
    weight = torch.cat((cell.weight_ih.detach(), cell.weight_hh.detach()), 1)
    return make_linear(weight, bias, precision)


def make_linear(weight: Tensor, bias: Optional[Tensor], precision: str) -> LinearOp:
    """The matrix product for a weight built for it, ``weight`` (out, in), in ``precision``."""
    if precision in ("fp32", "fp32_exact"):
        return ExactLinear(weight, bias, owned=True)
    if precision == "int8":
        return Int8Linear(weight, bias)
    if precision == "bf16" and weight.dtype == torch.float32 and onednn_packing_available(weight.device):
        return PackedBf16Linear(weight, bias)
    return ReducedLinear(weight, bias, REDUCED_DTYPES[precision])
