"""WaveGlow's conditioning computed straight from the mel frames, with the upsampler folded in.

In NVIDIA's WaveGlow every WN layer is conditioned on ``W_cond @ squeeze(upsample(mel))``:
the mel ``(B, n_mel, T_mel)`` is upsampled by a transposed convolution
(kernel ``K = 1024``, stride ``S = 256``) to one vector per audio sample,
``n_group`` consecutive samples are stacked into ``n_mel * n_group``
channels, and a 1x1 convolution maps those to the layer's ``2C`` channels.
All three steps are linear, so the composite is one linear map of the mel.
Group step ``t = k * P + p`` (``P = S / n_group`` phases per mel frame) only
sees the ``M = K / S`` frames ``k, k-1, ..., k-M+1``, through a matrix that
depends on the phase ``p`` alone::

    cond[:, k * P + p] = A_p @ [mel[:, k]; mel[:, k-1]; ...; mel[:, k-M+1]] + bias

Each ``A_p`` is ``(2C, M * n_mel)`` = ``(512, 320)`` for the hub models,
against ``(512, 640)`` for ``W_cond`` on the squeezed mel: half the
multiply-adds of the conditioning (which is ~38 % of WaveGlow's work), and
the upsampled mel is never built; the result equals the faithful path up to
rounding of the reordered sums (the tests hold the whole fast path to 1e-4
of the faithful one). :func:`fold_upsampler` computes the ``A_p`` with one
product of ``W_cond`` and the rearranged upsampler taps, a one-off cost
(``PreparedWaveGlow.prepare_seconds`` reports it; the benchmarks print it)
that pays for itself on long audio, so the fast path folds only when asked
(``fold_upsampler=True``).

:func:`phase_geometry` says whether a model's upsampler allows the fold (the
stride must be a multiple of ``n_group``, the kernel a multiple of the
stride, no padding or dilation); when it does not, the fast path keeps the
stacked 1x1 convolution on the squeezed mel.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn


class PhaseGeometry(NamedTuple):
    """``frames`` (``M``): mel frames each group step depends on; ``phases`` (``P``): group steps per frame."""

    frames: int
    phases: int


def phase_geometry(upsample: nn.ConvTranspose1d, n_group: int) -> Optional[PhaseGeometry]:
    """The fold's geometry for this upsampler and ``n_group``, or ``None`` when it does not apply."""
    kernel, stride = upsample.kernel_size[0], upsample.stride[0]
    plain = (upsample.padding[0] == 0 and upsample.output_padding[0] == 0 and upsample.dilation[0] == 1
             and upsample.groups == 1)
    if not plain or stride % n_group != 0 or kernel % stride != 0:
        return None
    return PhaseGeometry(frames=kernel // stride, phases=stride // n_group)


def fold_upsampler(upsample: nn.ConvTranspose1d, n_group: int, weight: torch.Tensor, bias: torch.Tensor,
                   in_place_product: bool, dtype: torch.dtype = torch.float32) -> Tuple[torch.Tensor, torch.Tensor]:
    """Fold ``upsample`` and the squeeze into a 1x1 conditioning convolution.

    Args:
        upsample: the model's mel upsampler; its weight is ``(n_mel, n_mel, K)``,
            tap ``m * S + p * n_group + j`` for frame offset ``m``, phase ``p``
            and sample ``j`` of the group.
        n_group: audio samples per group step.
        weight: ``(O, n_mel * n_group, 1)`` conditioning weight on the squeezed
            mel, column ``c * n_group + j`` for mel bin ``c``, sample ``j``;
            or several layers' weights stacked along ``O``.
        bias: ``(O,)`` its bias.
        in_place_product: the layout :func:`add_phase_condition` is called with.
        dtype: dtype of the folding product and of the result (the bias is
            computed in at least fp32); bf16 is cheaper to build and loses
            nothing a bf16 inference path would keep.

    Returns:
        ``(phase_weight, phase_bias)``: ``phase_weight`` holds the ``A_p`` of
        the module docstring, columns ``m * n_mel + c`` for bin ``c`` of frame
        ``k - m`` (the rows of :func:`stack_frames`), as ``(O, M * n_mel, P)``
        (``in_place_product``) or ``(O * P, M * n_mel)`` with rows ``o * P + p``;
        ``phase_bias`` ``(O,)`` is ``bias`` plus what the upsampler's bias
        contributes. Costs ``O * n_mel * K * n_mel`` multiply-adds (3.4 G per
        WN layer of the hub models).

    Raises:
        ValueError: :func:`phase_geometry` is ``None`` for this upsampler.
    """
    frames, phases = _checked_geometry(upsample, n_group)
    order = (1, 4, 2, 0, 3) if in_place_product else (1, 4, 3, 2, 0)  # (m, c', p) or (p, m, c')
    cond = weight.detach()[:, :, 0]
    out_channels = cond.size(0)
    folded = cond.to(dtype) @ _upsampler_taps(upsample, n_group, order, dtype)
    if in_place_product:
        phase_weight = folded.view(out_channels, frames * upsample.in_channels, phases)
    else:
        phase_weight = folded.view(out_channels * phases, frames * upsample.in_channels)
    return phase_weight, _folded_bias(upsample, n_group, cond, bias, dtype)


def time_major_taps(upsample: nn.ConvTranspose1d, n_group: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The upsampler's taps as :func:`fold_upsampler_time_major` multiplies them, ``(n_mel * n_group, M * n_mel * P)``.

    The same for every layer of every flow: compute it once and pass it as
    ``taps`` (it is a permuted copy of the upsampler's weight, 26 MB in fp32
    for the hub models, which costs more to build than many a fold).
    """
    _checked_geometry(upsample, n_group)
    return _upsampler_taps(upsample, n_group, (1, 4, 2, 0, 3), dtype)  # columns (m, c', p)


def fold_upsampler_time_major(upsample: nn.ConvTranspose1d, n_group: int, weight: torch.Tensor, bias: torch.Tensor,
                              dtype: torch.dtype = torch.float32,
                              taps: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """:func:`fold_upsampler` for a time-major layout: ``stacked.t() @ phase_weight`` is the conditioning.

    ``taps``: :func:`time_major_taps` of ``upsample`` in ``dtype``, when the
    caller folds many layers (default: computed here).

    Returns:
        ``phase_weight`` ``(M * n_mel, P * O)``, row ``m * n_mel + c`` (the
        rows of :func:`stack_frames`), column ``p * O + o``, so the product
        with the ``(T, M * n_mel)`` stacked frames, viewed as ``(T * P, O)``,
        has one row per group step; and ``phase_bias`` ``(O,)`` as
        :func:`fold_upsampler`'s.
    """
    frames, phases = _checked_geometry(upsample, n_group)
    cond = weight.detach()[:, :, 0]
    if taps is None:
        taps = time_major_taps(upsample, n_group, dtype)
    folded = taps.t() @ cond.to(dtype).t()  # ((m, c', p), O)
    phase_weight = folded.view(frames * upsample.in_channels, phases * cond.size(0))
    return phase_weight, _folded_bias(upsample, n_group, cond, bias, dtype)


def _checked_geometry(upsample: nn.ConvTranspose1d, n_group: int) -> PhaseGeometry:
    geometry = phase_geometry(upsample, n_group)
    if geometry is None:
        raise ValueError("the upsampler cannot be folded (see waveglow.phase_condition.phase_geometry)")
    return geometry


def _upsampler_taps(upsample: nn.ConvTranspose1d, n_group: int, order: Tuple[int, ...],
                    dtype: torch.dtype) -> torch.Tensor:
    """The upsampler's taps as ``(n_mel * n_group, M * n_mel * P)``: rows ``c * n_group + j`` (the squeezed
    mel's channels), columns in ``order``, a permutation of the axes ``(c', c, m, p, j)`` whose first two
    entries are ``(1, 4)`` (``c`` then ``j``)."""
    frames, phases = _checked_geometry(upsample, n_group)
    n_mel = upsample.in_channels
    taps = upsample.weight.detach().to(dtype).view(n_mel, n_mel, frames, phases, n_group)  # (c', c, m, p, j)
    return taps.permute(*order).reshape(n_mel * n_group, frames * n_mel * phases)


def _folded_bias(upsample: nn.ConvTranspose1d, n_group: int, cond: torch.Tensor, bias: torch.Tensor,
                 dtype: torch.dtype) -> torch.Tensor:
    """``bias`` plus what the upsampler's bias contributes through ``cond`` ``(O, n_mel * n_group)``,
    in at least fp32."""
    wide = torch.promote_types(dtype, torch.float32)
    return bias.detach().to(wide) + cond.to(wide) @ upsample.bias.detach().to(wide).repeat_interleave(n_group)


def stack_frames(mel: torch.Tensor, frames: int) -> torch.Tensor:
    """``(B, n_mel, T)`` -> ``(B, frames * n_mel, T)``: row ``m * n_mel + c`` at ``k`` is ``mel[:, c, k - m]`` (0 before 0)."""
    batch, n_mel, length = mel.shape
    padded = F.pad(mel, (frames - 1, 0))
    windows = padded.unfold(2, frames, 1).flip(-1)  # (B, n_mel, T, M): [..., k, m] = mel[k - m]
    return windows.permute(0, 3, 1, 2).reshape(batch, frames * n_mel, length)


def add_phase_condition(z: torch.Tensor, phase_weight: torch.Tensor, stacked: torch.Tensor,
                        in_place_product: bool) -> torch.Tensor:
    """``z`` ``(B, O, T * P)`` += the folded conditioning of ``stacked`` ``(B, M * n_mel, T)``; returns ``z``.

    Args:
        phase_weight: from :func:`fold_upsampler` with the same ``in_place_product``.
        in_place_product: accumulate with one batched product per item
            straight into ``z`` (fastest in fp32 on CPU), instead of one large
            product followed by a transposed add (fastest in bf16 and on CUDA).
    """
    batch, out_channels = z.shape[:2]
    length = stacked.size(2)
    for b in range(batch):
        target = z[b].view(out_channels, length, -1)  # (O, T, P)
        if in_place_product:
            frames_t = stacked[b].t().contiguous()
            target.baddbmm_(frames_t.expand(out_channels, -1, -1), phase_weight)
        else:
            product = torch.mm(phase_weight, stacked[b]).view(out_channels, -1, length)  # (O, P, T)
            target += product.transpose(1, 2).contiguous()
    return z
