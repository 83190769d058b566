"""WaveGlow's inference form: the same function as :meth:`WaveGlow.infer`, rearranged to run faster.

:class:`FastWaveGlow` is built once from a :class:`~waveglow.WaveGlow`, held
by the :class:`~waveglow.prepared.PreparedWaveGlow` the caller owns. Per flow it holds

* the weight-norm-folded ``start`` and dilated ``in_layers`` convolutions,
  the first of them also composed with ``start`` so that it reads the kept
  half (and a channel of ones) instead of the ``C``-channel start output
  (:func:`~waveglow.flow_plan.first_layer_weight`);
* the ``cond_layers`` of all WN layers stacked into one 1x1 convolution
  ``(n_layers * 2C, n_mel * n_group, 1)`` with each ``in_layers`` bias folded
  into its bias, applied once per flow to the squeezed mel on CUDA and one
  layer slice at a time on CPU (see :meth:`PreparedWaveGlow._conditions`);
* the ``end`` 1x1 convolution folded into the skip half of every
  ``res_skip_layers`` weight (``W_end @ W_skip``), so the skip stream is
  ``2 * n_half`` channels wide instead of ``C`` and needs no ``end`` conv;
* ``W^-1`` of the invertible 1x1 convolution, inverted in fp32;
* with ``fold_upsampler=True``, instead of the stacked conditioning weight,
  each layer's conditioning folded together with the mel upsampler
  (:mod:`waveglow.phase_condition`): half the conditioning work, computed
  from the mel frames directly, at a one-off cost when the form is built
  (``PreparedWaveGlow.prepare_seconds`` reports it).

The coupling, the layer loop and the noise order are those of every backend
(:mod:`waveglow.coupling`, :mod:`waveglow.noise`). All of this is exact
algebra: in fp32 the result equals the reference path to rounding (the tests
hold it to 1e-4). With ``compute_dtype`` set to ``torch.bfloat16`` (CPU) or
``torch.float16`` (CUDA) the convolutions run in that dtype, while the
audio stream, the exp of the log-scales, the affine update and the 1x1
inverse stay in fp32 (see :mod:`waveglow.precision`).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Iterator, List, Optional

import torch
import torch.nn.functional as F
from torch import nn

from .coupling import affine_inverse, gated_activation, merge_halves, split_halves, wn_layer_loop
from .flow_plan import FlowPlan, fold_wn, plan_bytes
from .noise import latent_slices
from .phase_condition import PhaseGeometry, add_phase_condition, fold_upsampler, phase_geometry, stack_frames


def pointwise(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None) -> torch.Tensor:
    """A 1x1 convolution as a matrix product: ``x`` ``(B, I, T)``, ``weight`` ``(O, I)`` -> ``(B, O, T)``.

    Used for the small inverse 1x1 convolution; the WN's 1x1 convolutions run
    as ``conv1d`` (oneDNN on CPU), which measured faster than ``addmm`` for their widths.
    """
    if bias is None:
        return torch.matmul(weight, x)
    if x.size(0) == 1:
        return torch.addmm(bias.unsqueeze(1), weight, x[0]).unsqueeze(0)
    return torch.baddbmm(bias.view(1, -1, 1), weight.expand(x.size(0), -1, -1), x)


def _cast_plan(plan: FlowPlan, dtype: torch.dtype) -> FlowPlan:
    """The convolution weights in ``dtype``; ``inverse_weight`` stays fp32."""
    def cast(t: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        return None if t is None else t.to(dtype).contiguous()

    def cast_all(tensors: Optional[List[torch.Tensor]]) -> Optional[List[torch.Tensor]]:
        return None if tensors is None else [cast(t) for t in tensors]

    return replace(plan, start_weight=cast(plan.start_weight), start_bias=cast(plan.start_bias),
                   in_weights=cast_all(plan.in_weights),
                   first_in_weight=cast(plan.first_in_weight), cond_weight=cast(plan.cond_weight),
                   cond_bias=cast(plan.cond_bias), res_weights=cast_all(plan.res_weights),
                   res_biases=cast_all(plan.res_biases), phase_weights=cast_all(plan.phase_weights),
                   in_biases=cast_all(plan.in_biases))


def _fold_plan(plan: FlowPlan, upsample: nn.Module, n_group: int, in_place_product: bool,
               compute_dtype: torch.dtype) -> FlowPlan:
    """``plan`` with each layer's conditioning folded with ``upsample``.

    The fold runs in the compute dtype when that is bf16/fp16 (faster; the
    product accumulates in fp32 either way), else in at least fp32.
    """
    n_layers = len(plan.in_weights)
    low = compute_dtype in (torch.bfloat16, torch.float16)
    dtype = compute_dtype if low else torch.promote_types(compute_dtype, torch.float32)
    weight, bias = fold_upsampler(upsample, n_group, plan.cond_weight, plan.cond_bias, in_place_product, dtype)
    return replace(plan, cond_weight=None, cond_bias=None, phase_weights=list(weight.chunk(n_layers)),
                   in_biases=list(bias.chunk(n_layers)))


class FastWaveGlow:
    """Folded, fused weights of a :class:`~waveglow.WaveGlow` for fast inference.

    :meth:`infer` takes a checked mel and the latent ``z`` (drawn in NVIDIA's
    order by the caller) and returns audio ``(B, T_mel * 256)``.

    Args:
        model: the source model (kept by reference for the upsampler and noise).
        compute_dtype: dtype of the convolutions (``None``: the model's dtype).
        fold_upsampler: fold the mel upsampler into every layer's conditioning
            (:mod:`waveglow.phase_condition`): faster per second of audio,
            slower to build.

    Raises:
        ValueError: ``fold_upsampler`` for a model whose upsampler cannot be
            folded (see :func:`waveglow.phase_condition.phase_geometry`).
    """

    def __init__(self, model: nn.Module, compute_dtype: Optional[torch.dtype] = None,
                 fold_upsampler: bool = False) -> None:
        self.model = model
        weight = model.upsample.weight
        self.compute_dtype = weight.dtype if compute_dtype is None else compute_dtype
        self.geometry: Optional[PhaseGeometry] = None
        if fold_upsampler:
            self.geometry = phase_geometry(model.upsample, model.n_group)
            if self.geometry is None:
                raise ValueError("fold_upsampler=True needs an upsampler whose stride is a multiple of n_group "
                                 "and whose kernel is a multiple of its stride; use fold_upsampler=False")
        # fp32 on CPU: one batched product per item accumulates into the layer input (see add_phase_condition)
        self.in_place_product = weight.device.type == "cpu" and self.compute_dtype in (torch.float32, torch.float64)
        flows = []
        with torch.inference_mode(False), torch.no_grad():
            for k in range(model.n_flows):
                wn = model.WN[k]
                n_half = model.config.flow_channels(k) // 2
                plan = FlowPlan(**fold_wn(wn, n_half), inverse_weight=model.convinv[k].inverse_weight().float().squeeze(-1),
                                swapped=model._swapped(k), early=model.config.is_early(k))
                if self.geometry is not None:
                    plan = _fold_plan(plan, model.upsample, model.n_group, self.in_place_product, self.compute_dtype)
                flows.append(_cast_plan(plan, self.compute_dtype))
        self.flows = flows
        self.n_channels = model.config.WN_config.n_channels
        self.kernel_size = model.config.WN_config.kernel_size
        self.nbytes = sum(plan_bytes(plan) for plan in flows)

    def _conditions(self, plan: FlowPlan, spect: torch.Tensor) -> Iterator[torch.Tensor]:
        """Each WN layer's conditioning ``(B, 2C, T)`` (``cond_layers`` plus ``in_layers`` bias) in turn.

        On CUDA all layers of the flow are one stacked 1x1 convolution; on CPU
        each layer's slice of the stacked weight is applied just before the
        layer needs it, which keeps the result in cache (measured faster in
        fp32 than the stacked product, equal in bf16).
        """
        rows = 2 * self.n_channels
        n_layers = len(plan.in_weights)
        if spect.is_cuda:
            stacked = F.conv1d(spect, plan.cond_weight, plan.cond_bias)
            yield from (stacked[:, rows * i:rows * (i + 1)] for i in range(n_layers))
            return
        for i in range(n_layers):
            yield F.conv1d(spect, plan.cond_weight[rows * i:rows * (i + 1)], plan.cond_bias[rows * i:rows * (i + 1)])

    def _layer_input(self, plan: FlowPlan, i: int, x: torch.Tensor, cond_input: torch.Tensor,
                     conditions: Optional[Iterator[torch.Tensor]]) -> torch.Tensor:
        """WN layer ``i``'s dilated convolution of its input ``x`` plus its conditioning: ``z`` ``(B, 2C, T)``.

        ``x`` is the residual stream, or for layer 0 the kept half with a
        channel of ones (``plan.first_in_weight``). ``cond_input`` is the
        stacked mel frames (:func:`~waveglow.phase_condition.stack_frames`)
        when the upsampler is folded (``conditions`` is then ``None``);
        otherwise ``conditions`` yields the layer's conditioning (:meth:`_conditions`).
        """
        dilation = plan.dilations[i]
        padding = (self.kernel_size - 1) * dilation // 2
        weight = plan.first_in_weight if i == 0 else plan.in_weights[i]
        if conditions is None:
            z = F.conv1d(x, weight, plan.in_biases[i], padding=padding, dilation=dilation)
            return add_phase_condition(z, plan.phase_weights[i], cond_input, self.in_place_product)
        z = F.conv1d(x, weight, None, padding=padding, dilation=dilation)
        z += next(conditions)
        return z

    def _coupling(self, plan: FlowPlan, kept: torch.Tensor, cond_input: torch.Tensor) -> torch.Tensor:
        """``kept`` ``(B, h, T)`` and the conditioning input -> ``[b, log_s]`` ``(B, 2h, T)``, at least fp32."""
        width = self.n_channels
        conditions = None if plan.phase_weights is not None else self._conditions(plan, cond_input)

        ones = kept.new_ones(kept.size(0), 1, kept.size(2))
        kept_and_ones = torch.cat([kept, ones], 1)

        def activations(i: int, x: torch.Tensor) -> torch.Tensor:
            source = kept_and_ones if i == 0 else x
            return gated_activation(self._layer_input(plan, i, source, cond_input, conditions), width)

        # the skip sum is only 2h channels wide: accumulate it in at least fp32
        return wn_layer_loop(F.conv1d(kept, plan.start_weight, plan.start_bias), len(plan.in_weights), width,
                             activations, lambda i, acts: F.conv1d(acts, plan.res_weights[i], plan.res_biases[i]),
                             skip_dtype=torch.promote_types(self.compute_dtype, torch.float32))

    def _flow(self, plan: FlowPlan, audio: torch.Tensor, cond_input: torch.Tensor) -> torch.Tensor:
        """Invert one flow: ``audio`` ``(B, c, T)`` fp32 or compute dtype -> same shape."""
        kept, changed = split_halves(audio, plan.swapped)
        n_half = kept.size(1)
        out = self._coupling(plan, kept.to(self.compute_dtype), cond_input).to(audio.dtype)
        changed = affine_inverse(changed, out[:, :n_half], out[:, n_half:])
        return pointwise(merge_halves(kept, changed, plan.swapped), plan.inverse_weight.to(audio.dtype))

    def _condition_input(self, mel: torch.Tensor) -> torch.Tensor:
        """What the conditioning is computed from, in the compute dtype: the stacked mel frames when the
        upsampler is folded, else the upsampled, squeezed mel (upsampled in the model's dtype)."""
        if self.geometry is not None:
            return stack_frames(mel.to(self.compute_dtype), self.geometry.frames)
        return self.model.squeezed_condition(mel).to(self.compute_dtype)

    def infer(self, mel: torch.Tensor, sigma: float, z: torch.Tensor) -> torch.Tensor:
        """Checked mel ``(B, n_mel, T_mel)`` and latent ``z`` -> audio ``(B, T_mel * 256)``.

        The audio stream is kept in the model's dtype, or in fp32 when a lower
        ``compute_dtype`` was chosen; the result has that dtype.
        """
        model = self.model
        cond_input = self._condition_input(mel)
        stream_dtype = mel.dtype if self.compute_dtype == mel.dtype else torch.float32
        slices = iter(latent_slices(model.config))
        start, size = next(slices)
        audio = sigma * z[:, start:start + size].to(stream_dtype)
        for k in reversed(range(model.n_flows)):
            plan = self.flows[k]
            audio = self._flow(plan, audio, cond_input)
            if plan.early:
                start, size = next(slices)
                audio = torch.cat([sigma * z[:, start:start + size].to(stream_dtype), audio], 1)
        return audio.permute(0, 2, 1).reshape(mel.size(0), -1)
