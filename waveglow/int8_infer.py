"""WaveGlow inference with int8 WN products (CPU, opt-in): ``WaveGlow.infer(mel, precision="int8")``.

The three products of every WN layer (the dilated ``in_layers`` convolution,
the conditioning folded with the upsampler, see
:mod:`waveglow.phase_condition`, and the ``res_skip_layers`` convolution)
run as int8 x int8 -> int32 matrix products (``torch._int_mm``, AVX-512
VNNI on x86), twice the bf16 throughput of the same CPU; the exception is
the first layer's dilated convolution, which is composed with the ``start``
convolution and reads the few kept channels in fp32
(:func:`~waveglow.flow_plan.first_layer_weight`). Everything else
(the audio stream between flows, the start convolution, the skip sum, the
gate, ``exp(-log_s)``, the affine update and the inverse 1x1 convolution)
stays fp32.

Quantization (symmetric, no zero points):

* weights: per output channel, once, when the form is built;
* activations: per time step, when they are computed. A dilated
  convolution reads ``K`` time steps per output step, so the layer input is
  laid out time-major as the ``(T, K * C)`` matrix of those ``K`` rows
  side by side (built on the fly, never stored in fp32) and quantized with
  one scale per row of that matrix: its product dequantizes with one
  multiply by (row scale x column scale).

The layout is time-major throughout (``(T, C)`` per item), so the shifted
rows of a dilated tap, and the phases of the folded conditioning, are plain
slices and reshapes. The layer loop of a flow is one ``torch.compile``
graph (Inductor fuses the padding, quantization, dequantization and gate into
a few C++ loops around the products); all flows share it (their weights are
padded to the widest flow) and its time axis is dynamic, so it compiles
once per process, while the form is prepared (``prepare_seconds`` includes
it; Inductor's on-disk cache makes later processes faster). Without a working C++ toolchain the compile fails:
the form warns and runs the same graph eagerly, which is slower than bf16.

Memory: about 0.55 GB of int8 weights for the 256-channel hub model (1.2 GB
for 512 channels), almost all of it the folded conditioning (32 phase
matrices per layer); ``PreparedWaveGlow.nbytes`` reports it.

Speed and error: ``benchmarks/waveglow_bench.py`` and docs/performance.md; the
tests hold the error to ``DOCUMENTED_RELATIVE_ERROR["int8"]`` (:mod:`waveglow.inference`).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .coupling import affine_inverse, gate_from_halves, merge_halves, split_halves, wn_layer_loop
from .flow_plan import FlowPlan, fold_wn, plan_bytes
from .int8_cache import PathLike, form_path, load_form, save_form
from .noise import latent_slices
from .phase_condition import fold_upsampler_time_major, phase_geometry, stack_frames, time_major_taps

#: Largest magnitude of a symmetric int8 code.
_QMAX = 127.0


def quantize_columns(weight: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(K, N)`` float -> int8 ``(K, N)`` and fp32 scales ``(N,)``, one per column (output channel)."""
    weight = weight.float()
    scale = weight.abs().amax(0).clamp_min(1e-12) / _QMAX
    # rounded in place: a second fresh fp32 copy of a folded conditioning matrix (21 MB, 96 of them for the
    # hub model) costs more in page faults than the rounding itself (prepare 4.7 s -> 1.5 s of quantizing)
    return torch.div(weight, scale).round_().to(torch.int8), scale


def quantize_rows(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(T, K)`` float -> int8 ``(T, K)`` and fp32 scales ``(T, 1)``, one per row (time step)."""
    peak = x.float().abs().amax(1, keepdim=True).clamp_min(1e-12)
    # one reciprocal per row, then multiplies: a vector division per element costs more than the rest
    return torch.round(x.float() * (_QMAX / peak)).to(torch.int8), peak / _QMAX


def quantize_taps(x: torch.Tensor, kernel_size: int, dilation: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The input of a dilated convolution, quantized: ``x`` ``(T, C)`` -> int8 ``(T, kernel_size * C)``
    (row ``t`` holds ``x[t + (j - (kernel_size - 1) / 2) * dilation]`` for tap ``j``, 0 outside) and
    one fp32 scale per row ``(T, 1)`` (the largest magnitude of the row's taps / 127)."""
    length = x.size(0)
    reach = (kernel_size - 1) // 2 * dilation
    padded = F.pad(x, (0, 0, reach, reach))
    peaks = F.pad(x.abs().amax(1, keepdim=True), (0, 0, reach, reach))
    peak = peaks[:length]
    for j in range(1, kernel_size):
        peak = torch.maximum(peak, peaks[j * dilation:j * dilation + length])
    peak = peak.clamp_min(1e-12)
    # the (T, kernel_size, C) windows as a view of ``padded``: one compiled loop writes the codes, where a
    # concatenation of the taps fell back to a separate ATen copy
    windows = padded.unfold(0, (kernel_size - 1) * dilation + 1, 1)[:, :, ::dilation].transpose(1, 2)
    codes = torch.round(windows * (_QMAX / peak).unsqueeze(2)).to(torch.int8)
    return codes.reshape(length, kernel_size * x.size(1)), peak / _QMAX


@dataclass
class Int8Flow:
    """One flow's weights, time-major (``x @ W``), int8 with fp32 scales; padded to the widest flow."""

    start_weight: torch.Tensor         # (h_max, C) fp32
    start_bias: torch.Tensor           # (C,) fp32
    first_weight: torch.Tensor         # (K * (h_max + 1), 2C) fp32: layer 0 on the taps of [kept, 1]
    in_weights: List[torch.Tensor]     # layers 1 .. n_layers - 1: (K * C, 2C) int8, rows tap-major
    in_scales: List[torch.Tensor]      # (2C,)
    phase_weights: List[torch.Tensor]  # (P * 2C, M * n_mel) int8, row p * 2C + o: used as its .t()
    phase_scales: List[torch.Tensor]   # (P * 2C,)
    biases: List[torch.Tensor]         # (2C,) fp32: conditioning, upsampler and in_layers biases
    res_weights: List[torch.Tensor]    # (C, C + 2 h_max) then (C, 2 h_max) for the last layer, int8
    res_scales: List[torch.Tensor]
    res_biases: List[torch.Tensor]     # fp32
    inverse_weight: torch.Tensor       # (c, c) fp32
    dilations: Tuple[int, ...]
    n_half: int
    swapped: bool
    early: bool


def _pad_columns(matrix: torch.Tensor, width: int) -> torch.Tensor:
    return F.pad(matrix, (0, width - matrix.size(1)))


def _skip_padded(weight: torch.Tensor, bias: torch.Tensor, residual: int, skip_width: int) -> Tuple[torch.Tensor, ...]:
    """A ``res_skip`` weight ``(residual + 2h, C, 1)`` as time-major int8 ``(C, residual + skip_width)``
    (skip part zero-padded), its column scales and its padded fp32 bias."""
    matrix = weight[:, :, 0].t()
    matrix = torch.cat([matrix[:, :residual], _pad_columns(matrix[:, residual:], skip_width)], 1)
    bias = torch.cat([bias[:residual], F.pad(bias[residual:], (0, skip_width - (bias.numel() - residual)))])
    return (*quantize_columns(matrix), bias.float())


def _int8_flow(plan: FlowPlan, n_half: int, h_max: int, upsample: nn.ConvTranspose1d, n_group: int) -> Int8Flow:
    """Quantize a :class:`FlowPlan` (stacked conditioning), folding each layer's conditioning with the
    upsampler (:func:`~waveglow.phase_condition.fold_upsampler_time_major`, in fp32)."""
    width = plan.start_weight.size(0)
    n_layers = len(plan.in_weights)
    cond_weights, cond_biases = plan.cond_weight.chunk(n_layers), plan.cond_bias.chunk(n_layers)
    upsampler_taps = time_major_taps(upsample, n_group)  # the same for every layer
    in_w, in_s, ph_w, ph_s, biases, res_w, res_s, res_b = ([] for _ in range(8))
    for i, weight in enumerate(plan.in_weights):
        if i > 0:  # layer 0 runs in fp32 from the kept half (first_weight, below)
            taps = weight.float().permute(2, 1, 0).reshape(-1, 2 * width)  # (K * C, 2C), row j * C + c
            w, s = quantize_columns(taps)
            in_w.append(w), in_s.append(s)
        folded, bias = fold_upsampler_time_major(upsample, n_group, cond_weights[i].float(), cond_biases[i].float(),
                                                 taps=upsampler_taps)
        w, s = quantize_columns(folded)
        # kept transposed and passed to the product as ``.t()``: oneDNN packs a column-major weight faster
        # when, as here, a layer's 5 MB matrix comes from memory rather than the caches (docs/performance.md)
        ph_w.append(w.t().contiguous()), ph_s.append(s), biases.append(bias)
        residual = width if i < n_layers - 1 else 0
        w, s, b = _skip_padded(plan.res_weights[i].float(), plan.res_biases[i].float(), residual, 2 * h_max)
        res_w.append(w), res_s.append(s), res_b.append(b)
    start = _pad_columns(plan.start_weight.float()[:, :, 0], h_max).t().contiguous()
    first = plan.first_in_weight.float()  # (2C, n_half + 1, K): the kept channels, then the ones channel
    first = torch.cat([F.pad(first[:, :n_half], (0, 0, 0, h_max - n_half)), first[:, n_half:]], 1)
    first = first.permute(2, 1, 0).reshape(-1, 2 * width).contiguous()  # row j * (h_max + 1) + c
    return Int8Flow(start_weight=start, start_bias=plan.start_bias.float(), first_weight=first,
                    in_weights=in_w, in_scales=in_s,
                    phase_weights=ph_w, phase_scales=ph_s, biases=biases, res_weights=res_w, res_scales=res_s,
                    res_biases=res_b, inverse_weight=plan.inverse_weight.float(), dilations=tuple(plan.dilations),
                    n_half=n_half,
                    swapped=plan.swapped, early=plan.early)


def coupling_int8(kept: torch.Tensor, frames: torch.Tensor, frame_scales: torch.Tensor, kernel_size: int,
                  dilations: Tuple[int, ...],
                  start_weight: torch.Tensor, start_bias: torch.Tensor, first_weight: torch.Tensor,
                  in_weights: List[torch.Tensor],
                  in_scales: List[torch.Tensor], phase_weights: List[torch.Tensor],
                  phase_scales: List[torch.Tensor], biases: List[torch.Tensor], res_weights: List[torch.Tensor],
                  res_scales: List[torch.Tensor], res_biases: List[torch.Tensor]) -> torch.Tensor:
    """One WN, time-major: ``kept`` ``(T_mel, P, h_max)`` fp32 -> skip sum ``(T_mel * P, 2 h_max)`` fp32
    (``[b, log_s]``).

    ``frames`` ``(T_mel, M * n_mel)`` int8 with ``frame_scales`` ``(T_mel, 1)``
    are the quantized stacked mel frames; ``kept`` comes as ``P`` (the
    phases per mel frame) rows per frame, so that the compiled graph knows
    ``P`` as a constant and only ``T_mel`` varies. Layer ``i`` has dilation
    ``dilations[i]``; layer 0 runs in fp32 on the taps of ``[kept, 1]``
    (``first_weight``, see :func:`~waveglow.flow_plan.first_layer_weight`),
    the others in int8 (``in_weights[i - 1]``). This is the function
    ``torch.compile`` compiles.
    """
    n_frames, phases = kept.size(0), kept.size(1)
    kept = kept.reshape(n_frames * phases, kept.size(2))
    length, width = kept.size(0), start_weight.size(1)

    def first_product() -> torch.Tensor:
        source = torch.cat([kept, kept.new_ones(length, 1)], 1)
        reach = (kernel_size - 1) // 2 * dilations[0]
        padded = F.pad(source, (0, 0, reach, reach))
        taps = torch.cat([padded[j * dilations[0]:j * dilations[0] + length] for j in range(kernel_size)], 1)
        return torch.mm(taps, first_weight)

    def activations(i: int, x: torch.Tensor) -> torch.Tensor:
        # (T_mel, P, 2C) views: one index per axis, which keeps Inductor's loads vectorized with a dynamic T
        cond = torch._int_mm(frames, phase_weights[i].t()).view(n_frames, phases, 2 * width)
        cond_scales = phase_scales[i].view(phases, 2 * width)
        if i == 0:
            exact = first_product().view(n_frames, phases, 2 * width)
        else:
            taps_q, taps_s = quantize_taps(x, kernel_size, dilations[i])
            product = torch._int_mm(taps_q, in_weights[i - 1]).view(n_frames, phases, 2 * width)
            row_scales = taps_s.view(n_frames, phases, 1)

        def half(start: int) -> torch.Tensor:  # dequantized z[..., start:start + C], never stored whole
            end = start + width
            own = (exact[..., start:end] if i == 0
                   else product[..., start:end].float() * row_scales * in_scales[i - 1][start:end])
            return (own + cond[..., start:end].float() * frame_scales.view(n_frames, 1, 1) * cond_scales[:, start:end]
                    + biases[i][start:end])

        return gate_from_halves(half(0), half(width)).view(length, width)

    def res_skip(i: int, acts: torch.Tensor) -> torch.Tensor:
        acts_q, acts_s = quantize_rows(acts)
        return torch._int_mm(acts_q, res_weights[i]).float() * acts_s * res_scales[i] + res_biases[i]

    return wn_layer_loop(torch.addmm(start_bias, kept, start_weight), len(res_weights), width, activations, res_skip)


class Int8WaveGlow:
    """The int8 inference form of a :class:`~waveglow.WaveGlow` (CPU), held by a
    :class:`~waveglow.prepared.PreparedWaveGlow`.

    Args:
        model: the source model (kept by reference for its configuration).
        compile: run the layer loop through ``torch.compile`` (the fast path;
            ``False`` runs the same maths eagerly, for tests and debugging).
        cache_dir: a folder where the form is kept between processes
            (:mod:`waveglow.int8_cache`): read from there when it holds this
            model's form, else built and written there. ``None``: built.

    Raises:
        ValueError: the model is not on the CPU, or its upsampler cannot be
            folded (see :func:`waveglow.phase_condition.phase_geometry`).
    """

    def __init__(self, model: nn.Module, compile: bool = True, cache_dir: Optional[PathLike] = None) -> None:
        if model.upsample.weight.device.type != "cpu":
            raise ValueError("precision='int8' runs on the CPU; on CUDA use 'fp16'")
        geometry = phase_geometry(model.upsample, model.n_group)
        if geometry is None:
            raise ValueError("precision='int8' needs an upsampler whose stride is a multiple of n_group "
                             "and whose kernel is a multiple of its stride; use 'bf16'")
        self.model, self.geometry = model, geometry
        self.kernel_size = model.config.WN_config.kernel_size
        halves = [model.config.flow_channels(k) // 2 for k in range(model.n_flows)]
        h_max = max(halves)
        #: where the form was read from or written to (``cache_dir``), and whether it was read
        self.cache_path: Optional[Path] = None if cache_dir is None else form_path(model, cache_dir)
        cached = None if self.cache_path is None else load_form(self.cache_path, model)
        self.from_cache = cached is not None
        if cached is not None:
            flows = [Int8Flow(**flow) for flow in cached]
        else:
            flows = []
            with torch.inference_mode(False), torch.no_grad():
                for k in range(model.n_flows):
                    plan = FlowPlan(**fold_wn(model.WN[k], halves[k]),
                                    inverse_weight=model.convinv[k].inverse_weight().float().squeeze(-1),
                                    swapped=model._swapped(k), early=model.config.is_early(k))
                    flows.append(_int8_flow(plan, halves[k], h_max, model.upsample, model.n_group))
            if self.cache_path is not None:
                save_form(self.cache_path, flows)
        self.flows = flows
        self.h_max = h_max
        self.nbytes = sum(plan_bytes(flow) for flow in flows)
        self._coupling: Callable[..., torch.Tensor] = (
            torch.compile(coupling_int8, fullgraph=True) if compile else coupling_int8)
        self._compiled = compile

    def _run_coupling(self, flow: Int8Flow, kept: torch.Tensor, frames: torch.Tensor,
                      frame_scales: torch.Tensor) -> torch.Tensor:
        kept = F.pad(kept, (0, self.h_max - kept.size(1))).view(frames.size(0), self.geometry.phases, self.h_max)
        args = (kept, frames, frame_scales, self.kernel_size, flow.dilations,
                flow.start_weight, flow.start_bias, flow.first_weight, flow.in_weights, flow.in_scales, flow.phase_weights,
                flow.phase_scales, flow.biases, flow.res_weights, flow.res_scales, flow.res_biases)
        if self._compiled:
            for tensor in args[:3]:  # one graph for every length
                torch._dynamo.maybe_mark_dynamic(tensor, 0)
            try:
                return self._coupling(*args)
            except Exception as error:  # no C++ toolchain, or an Inductor limitation
                warnings.warn(f"torch.compile of the int8 WaveGlow failed ({type(error).__name__}: {error}); "
                              "running it eagerly, which is slower than precision='bf16'",
                              RuntimeWarning, stacklevel=3)
                self._coupling, self._compiled = coupling_int8, False
        return coupling_int8(*args)

    def _flow(self, flow: Int8Flow, audio: torch.Tensor, frames: torch.Tensor,
              frame_scales: torch.Tensor) -> torch.Tensor:
        """Invert one flow on time-major ``audio`` ``(T, c)`` fp32."""
        h = flow.n_half
        kept, changed = split_halves(audio, flow.swapped)
        out = self._run_coupling(flow, kept, frames, frame_scales)
        changed = affine_inverse(changed, out[:, :h], out[:, h:2 * h])
        return merge_halves(kept, changed, flow.swapped) @ flow.inverse_weight.t()

    def infer(self, mel: torch.Tensor, sigma: float, z: torch.Tensor) -> torch.Tensor:
        """Checked mel ``(B, n_mel, T_mel)`` and latent ``z`` -> fp32 audio ``(B, T_mel * 256)``."""
        slices = latent_slices(self.model.config)
        stacked = stack_frames(mel.float(), self.geometry.frames)
        items = []
        for b in range(mel.size(0)):
            frames, frame_scales = quantize_rows(stacked[b].t())
            noises = iter([sigma * z[b, start:start + size].float().t() for start, size in slices])
            audio = next(noises)
            for k in reversed(range(len(self.flows))):
                flow = self.flows[k]
                audio = self._flow(flow, audio, frames, frame_scales)
                if flow.early:
                    audio = torch.cat([next(noises), audio], 1)
            items.append(audio)
        return torch.stack(items).reshape(mel.size(0), -1)
