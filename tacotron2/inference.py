"""The inference vocabulary of Tacotron 2: backends, precisions, and which combinations run.

The same words are used by ``Tacotron2.infer``, ``WaveGlow.infer``
(:mod:`waveglow.inference`, same tuples, checked equal by the tests), the
synthesis pipeline, the streaming API, the ``tacotron2-tts`` CLI and the hub
entry points (``tacotron2_waveglow.synthesis.inference.InferenceConfig``
bundles them for both models). The two model packages are siblings and import
nothing from each other, so each declares the words next to the table of what
it supports; docs/performance.md ("Inference engine") is the reference.

Backends:

* ``"reference"``: NVIDIA's step-by-step loop (:meth:`Decoder.step`), the
  numbers every other backend is tested against; runs in any mode and dtype.
* ``"fast"``: preallocated buffers, fused LSTM products, one stop check per
  block of steps (:mod:`tacotron2.fast_decoder`); eval mode, no autocast.
* ``"cuda_graph"``: the fast loop replayed from CUDA graphs (CUDA only).
* ``"onnxruntime"``: exported ONNX models run by ONNX Runtime; those are separate
  model objects (not ``Tacotron2.infer``), so asking a ``Tacotron2`` for it raises.

Precisions (of the decoder's LSTM gate products, about 98% of its weights; the
prenet, attention, projections, encoder and postnet stay in the model's dtype):

* ``"fp32"``: the model's own dtype (fp32, or fp16 for a ``model.half()``);
  with ``"fast"`` the fused products sum in another order than the reference,
  so outputs agree to rounding;
* ``"fp32_exact"``: bitwise the reference computation (the fast loop keeps the
  two products of each cell apart);
* ``"bf16"``, ``"fp16"`` (CUDA), ``"int8"`` (CPU, dynamic quantization): the
  products in reduced precision, everything else fp32; errors in
  :data:`DOCUMENTED_RELATIVE_ERROR`.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import torch

BACKENDS = ("reference", "fast", "cuda_graph", "onnxruntime")
PRECISIONS = ("fp32", "fp32_exact", "bf16", "fp16", "int8")
FULL_PRECISIONS = ("fp32", "fp32_exact")  # the model's own dtype
REDUCED_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}

#: (backend, precision) -> device types it runs on.
SUPPORTED: Dict[Tuple[str, str], Tuple[str, ...]] = {
    ("reference", "fp32"): ("cpu", "cuda"),
    ("reference", "fp32_exact"): ("cpu", "cuda"),
    ("fast", "fp32"): ("cpu", "cuda"),
    ("fast", "fp32_exact"): ("cpu", "cuda"),
    ("fast", "bf16"): ("cpu", "cuda"),
    ("fast", "fp16"): ("cuda",),
    ("fast", "int8"): ("cpu",),
    ("cuda_graph", "fp32"): ("cuda",),
    ("cuda_graph", "fp32_exact"): ("cuda",),
    ("cuda_graph", "bf16"): ("cuda",),
    ("cuda_graph", "fp16"): ("cuda",),
}

# Documented bound on ||mel - mel_reference|| / ||mel_reference|| (postnet mels, prenet dropout off, fixed
# number of steps) with about 5x margin over what was measured on random tiny and hub-size models
# (measured: bf16 5e-4 to 8e-4, fp16 5e-5 to 1.3e-4, int8 1.8e-3 to 2.1e-3).
DOCUMENTED_RELATIVE_ERROR = {"fp32": 1e-6, "fp32_exact": 0.0, "bf16": 5e-3, "fp16": 1e-3, "int8": 1e-2}


def working_combinations(device_type: str) -> str:
    """``"backend/precision, ..."``: what runs on ``device_type``, for error messages."""
    return ", ".join(f"{b}/{p}" for (b, p), devices in SUPPORTED.items() if device_type in devices)


def check_words(backend: str, precision: str) -> None:
    """Raise ``ValueError`` unless ``backend`` and ``precision`` are words of the vocabulary."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")


DEFAULT_STOP_CHECK_INTERVAL = 8


def check_stop_check_interval(value: Optional[int]) -> int:
    """``stop_check_interval`` (steps between looks at the gate; ``None``: 8) as a positive int."""
    if value is None:
        return DEFAULT_STOP_CHECK_INTERVAL
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"stop_check_interval must be a positive int, got {value!r}")
    return value


def resolve_backend(backend: Optional[str], precision: str, device: torch.device, model_dtype: torch.dtype,
                    training: bool) -> str:
    """The backend that will run, after refusing what cannot run (one ``ValueError`` naming it).

    ``backend=None`` (the default of ``Tacotron2.infer``) is ``"fast"``, or
    ``"reference"`` in training mode or under autocast (whose dropout draws and
    per-op casts the fast loop does not reproduce) when ``precision`` is a full
    precision. An explicit backend is never replaced by another. Every backend
    runs models with any ``n_frames_per_step``.
    """
    context = training or torch.is_autocast_enabled(device.type)
    if backend is None:
        backend = "reference" if context and precision in FULL_PRECISIONS else "fast"
    check_words(backend, precision)
    if backend == "onnxruntime":
        raise ValueError("backend='onnxruntime' runs exported ONNX models, which are separate model objects "
                         "(see docs/performance.md); Tacotron2.infer runs 'reference', 'fast' or 'cuda_graph'")
    devices = SUPPORTED.get((backend, precision), ())
    if device.type not in devices:
        where = f"on {device.type}" if devices else "anywhere"
        raise ValueError(f"backend={backend!r} with precision={precision!r} does not run {where}; "
                         f"on {device.type} these do: {working_combinations(device.type)}")
    if backend != "reference" and context:
        raise ValueError(f"backend={backend!r} needs eval mode and no autocast (it does not reproduce their "
                         "semantics); call model.eval() and leave autocast, or use backend='reference'")
    if precision not in FULL_PRECISIONS and model_dtype != torch.float32:
        raise ValueError(f"precision={precision!r} expects an fp32 model (it keeps fp32 islands), "
                         f"the model is {model_dtype}; call model.float() first or use precision='fp32'")
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(f"precision='bf16' is not supported by {torch.cuda.get_device_name(device)}; use 'fp16'")
    return backend
