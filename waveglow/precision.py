"""Reduced-precision WaveGlow inference: which compute dtypes are allowed, and what they cost.

``WaveGlow.infer(mel, compute_dtype=torch.bfloat16)`` (CPU or CUDA) or
``compute_dtype=torch.float16`` (CUDA) runs every WN convolution, and the
fused conditioning convolution, in that dtype; ``compute_dtype=torch.int8`` (CPU)
runs them as int8 matrix products (:mod:`waveglow.int8_infer`). These stay in fp32 (the
"islands"): the audio stream between flows, ``exp(-log_s)``, the affine
update ``(x - b) * exp(-log_s)`` and the inverse 1x1 convolution
(inverted in fp32), because errors there compound over the 12 flows; the
upsampled mel is computed in fp32 and then cast.

Measured error against the fp32 path (random hub-size weights, 256 WN
channels, seeded noise, ``sigma=0.6``; ``benchmarks/waveglow_bench.py``
prints these for any model): see the README's Performance section. The
unit tests hold bf16 to a relative error (``||y - y_fp32|| / ||y_fp32||``)
below :data:`BF16_REL_TOL` on tiny models.
"""
from __future__ import annotations

from typing import Optional

import torch

#: Relative L2 error of the bf16 path against fp32 that the tests allow (bf16 has an 8-bit mantissa).
BF16_REL_TOL = 0.05
#: Same for the fp16 CUDA path (11-bit mantissa).
FP16_REL_TOL = 0.01

_ALLOWED = (torch.float32, torch.float64, torch.bfloat16, torch.float16, torch.int8)


def check_compute_dtype(compute_dtype: Optional[torch.dtype], weight: torch.Tensor) -> torch.dtype:
    """Resolve ``compute_dtype`` (``None``: the dtype of ``weight``) and refuse unusable ones.

    Raises:
        TypeError: ``compute_dtype`` is not a ``torch.dtype``.
        ValueError: not a dtype WaveGlow can run in, ``float16`` on CPU (slow
            there and no more accurate than bf16; use ``torch.bfloat16``), or
            ``int8`` on CUDA (:mod:`waveglow.int8_infer` is a CPU path).
    """
    if compute_dtype is None:
        return weight.dtype
    if not isinstance(compute_dtype, torch.dtype):
        raise TypeError(f"compute_dtype must be a torch.dtype such as torch.bfloat16, got {compute_dtype!r}")
    if compute_dtype not in _ALLOWED:
        raise ValueError(f"compute_dtype={compute_dtype} is not supported; use one of {list(_ALLOWED)}")
    if compute_dtype == torch.float16 and weight.device.type == "cpu":
        raise ValueError("compute_dtype=torch.float16 is for CUDA; on CPU use torch.bfloat16")
    if compute_dtype == torch.int8 and weight.device.type != "cpu":
        raise ValueError("compute_dtype=torch.int8 (int8 WN products) is for the CPU; on CUDA use torch.float16")
    return compute_dtype


def snr_db(estimate: torch.Tensor, reference: torch.Tensor) -> float:
    """Signal-to-noise ratio ``10 log10(sum ref^2 / sum (est - ref)^2)`` in dB (inf when equal)."""
    reference = reference.double()
    noise = (estimate.double() - reference).pow(2).sum()
    if noise == 0:
        return float("inf")
    return float(10.0 * torch.log10(reference.pow(2).sum() / noise))
