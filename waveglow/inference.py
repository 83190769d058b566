"""The inference vocabulary of WaveGlow: backends, precisions, options, and which combinations run.

The words are those of :mod:`tacotron2.inference` (the tests check the tuples
are equal; the two model packages are siblings and import nothing from each
other) and mean the same here; docs/performance.md ("Inference engine") is the
reference.

Backends: ``"reference"`` (NVIDIA's layer-by-layer inverse pass,
:meth:`WaveGlow.infer_reference`), ``"fast"`` (weight norm folded, ``end``
folded into the skip convolutions, fused conditioning;
:mod:`waveglow.fast_infer`, or :mod:`waveglow.int8_infer` for int8),
``"cuda_graph"`` (the fast form replayed from a CUDA graph per mel shape),
``"onnxruntime"`` (exported ONNX models: separate model objects, not ``WaveGlow.infer``).

Precisions: ``"fp32"`` (the model's own dtype; fast agrees with the reference
to rounding), ``"fp32_exact"`` (bitwise the reference computation: only the
reference backend gives it), ``"bf16"`` / ``"fp16"`` (CUDA) (the convolutions in
that dtype, the audio stream, ``exp(log_s)``, the affine update and the 1x1
inverse in fp32), ``"int8"`` (CPU: int8 WN products, upsampler always folded).

Options: ``fold_upsampler`` (fast only: fold the mel upsampler into every
layer's conditioning, :mod:`waveglow.phase_condition`; ``None`` means False,
except True for int8, which needs it), ``chunk_frames`` / ``overlap_frames``
(synthesize long mels in chunks with bounded memory, :mod:`waveglow.chunked`;
reference and fast).
"""
from __future__ import annotations

from typing import Dict, NamedTuple, Optional, Tuple

import torch

BACKENDS = ("reference", "fast", "cuda_graph", "onnxruntime")
PRECISIONS = ("fp32", "fp32_exact", "bf16", "fp16", "int8")
FULL_PRECISIONS = ("fp32", "fp32_exact")
COMPUTE_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "int8": torch.int8}

#: (backend, precision) -> device types it runs on.
SUPPORTED: Dict[Tuple[str, str], Tuple[str, ...]] = {
    ("reference", "fp32"): ("cpu", "cuda"),
    ("reference", "fp32_exact"): ("cpu", "cuda"),
    ("fast", "fp32"): ("cpu", "cuda"),
    ("fast", "bf16"): ("cpu", "cuda"),
    ("fast", "fp16"): ("cuda",),
    ("fast", "int8"): ("cpu",),
    ("cuda_graph", "fp32"): ("cuda",),
    ("cuda_graph", "bf16"): ("cuda",),
    ("cuda_graph", "fp16"): ("cuda",),
}

#: Documented bound on ``||audio - audio_reference|| / ||audio_reference||`` (seeded noise) that the tests
#: hold every form to. int8: hub-size random weights measured 3.6e-3 with 256 WN channels, 5.6e-3 with 512,
#: tiny test models about 7e-4; bf16 has an 8-bit mantissa, fp16 11 bits.
DOCUMENTED_RELATIVE_ERROR = {"fp32": 1e-4, "fp32_exact": 0.0, "bf16": 0.05, "fp16": 0.01, "int8": 0.01}


class WaveGlowInference(NamedTuple):
    """A resolved request: every field concrete (what :class:`~waveglow.prepared.PreparedWaveGlow` runs)."""

    backend: str
    precision: str
    fold_upsampler: bool
    chunk_frames: Optional[int]
    overlap_frames: Optional[int]

    def describe(self) -> str:
        """``"fast/bf16 folded chunks of 512"``."""
        text = f"{self.backend}/{self.precision}" + (" folded" if self.fold_upsampler else "")
        return text + (f" chunks of {self.chunk_frames}" if self.chunk_frames else "")


#: x86 instructions (``torch.cpu.get_capabilities()`` names) that multiply ``precision``'s matrices natively.
#: With none of them PyTorch emulates the products, and WaveGlow runs much slower in that precision than in fp32.
NATIVE_X86_PRODUCTS: Dict[str, Tuple[str, ...]] = {"bf16": ("avx512_bf16", "amx_bf16", "avx_ne_convert"),
                                                   "int8": ("avx512_vnni", "avx_vnni", "amx_int8")}


def emulated_products(precision: str, device: torch.device) -> Optional[str]:
    """Why ``precision``'s products would be emulated on this x86 CPU (a one-line warning), or ``None``.

    ``None`` for other devices, precisions and architectures, whose support is not known here.
    """
    needed = NATIVE_X86_PRODUCTS.get(precision)
    if device.type != "cpu" or needed is None:
        return None
    isa = torch.cpu.get_capabilities()
    if isa.get("architecture") != "x86_64" or any(isa.get(name) for name in needed):
        return None
    return (f"precision={precision!r}: this CPU has none of {', '.join(needed)}, so PyTorch emulates {precision} "
            "matrix products and WaveGlow runs much slower than in fp32; use precision='fp32' here")


def working_combinations(device_type: str) -> str:
    """``"backend/precision, ..."``: what runs on ``device_type``, for error messages."""
    return ", ".join(f"{b}/{p}" for (b, p), devices in SUPPORTED.items() if device_type in devices)


def _positive(name: str, value: Optional[int], minimum: int) -> Optional[int]:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
        raise ValueError(f"{name} must be an int >= {minimum} or None, got {value!r}")
    return value


def resolve(backend: Optional[str], precision: str, fold_upsampler: Optional[bool], chunk_frames: Optional[int],
            overlap_frames: Optional[int], device: torch.device, model_dtype: torch.dtype,
            training: bool) -> WaveGlowInference:
    """The request made concrete, or one ``ValueError`` naming what cannot run and what can.

    ``backend=None`` is ``"fast"``, or ``"reference"`` in training mode or
    under autocast (whose per-op casts the fast form does not reproduce) when
    ``precision`` is a full precision. An explicit backend is never replaced.
    """
    context = training or torch.is_autocast_enabled(device.type)
    if backend is None:
        backend = "reference" if (context or precision == "fp32_exact") and precision in FULL_PRECISIONS else "fast"
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if backend == "onnxruntime":
        raise ValueError("backend='onnxruntime' runs exported ONNX models, which are separate model objects "
                         "(see docs/performance.md); WaveGlow.infer runs 'reference', 'fast' or 'cuda_graph'")
    devices = SUPPORTED.get((backend, precision), ())
    if device.type not in devices:
        where = f"on {device.type}" if devices else "anywhere"
        hint = " (fp32_exact is the reference computation: backend='reference')" if precision == "fp32_exact" else ""
        raise ValueError(f"WaveGlow backend={backend!r} with precision={precision!r} does not run {where}{hint}; "
                         f"on {device.type} these do: {working_combinations(device.type)}")
    if backend != "reference" and context:
        raise ValueError(f"backend={backend!r} needs eval mode and no autocast; call model.eval() and leave "
                         "autocast, or use backend='reference'")
    if precision not in FULL_PRECISIONS and model_dtype != torch.float32:
        raise ValueError(f"precision={precision!r} expects an fp32 model (it keeps fp32 islands), the model is "
                         f"{model_dtype}; call model.float() first or use precision='fp32'")
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(f"precision='bf16' is not supported by {torch.cuda.get_device_name(device)}; use 'fp16'")
    if fold_upsampler and backend != "fast":
        raise ValueError(f"fold_upsampler=True needs backend='fast', not {backend!r}")
    if fold_upsampler is False and precision == "int8":
        raise ValueError("precision='int8' always folds the upsampler; leave fold_upsampler unset")
    fold = precision == "int8" if fold_upsampler is None else bool(fold_upsampler)
    _positive("chunk_frames", chunk_frames, 1)
    _positive("overlap_frames", overlap_frames, 0)
    if overlap_frames is not None and chunk_frames is None:
        raise ValueError("overlap_frames applies to chunked synthesis: give chunk_frames too")
    if chunk_frames is not None and backend == "cuda_graph":
        raise ValueError("chunk_frames applies to backend 'reference' and 'fast'; a CUDA graph is captured per "
                         "whole mel shape")
    return WaveGlowInference(backend, precision, fold, chunk_frames, overlap_frames)


def snr_db(estimate: torch.Tensor, reference: torch.Tensor) -> float:
    """Signal-to-noise ratio ``10 log10(sum ref^2 / sum (est - ref)^2)`` in dB (inf when equal)."""
    reference = reference.double()
    noise = (estimate.double() - reference).pow(2).sum()
    if noise == 0:
        return float("inf")
    return float(10.0 * torch.log10(reference.pow(2).sum() / noise))


def relative_error(estimate: torch.Tensor, reference: torch.Tensor) -> float:
    """``||estimate - reference|| / ||reference||`` in float64."""
    reference = reference.double()
    return float((estimate.double() - reference).norm() / reference.norm())
