"""One inference configuration for a Tacotron 2 + vocoder pair, in the words both models use.

:class:`InferenceConfig` is what the :class:`~tacotron2_waveglow.synthesis.Synthesizer`,
:func:`~tacotron2_waveglow.synthesis.stream_speech` (through its synthesizer),
the ``tacotron2-tts`` CLI (``--backend``, ``--precision``, ``--fold-upsampler``,
``--chunk-frames``) and the hub entry points take. Its words are those of
:mod:`tacotron2.inference` and :mod:`waveglow.inference` (the same tuples),
with the same meaning; :meth:`InferenceConfig.prepare` hands each model the
part that concerns it and returns the prepared models the caller then owns.
``precision="bf16"`` is one computation everywhere: the decoder's bf16 LSTM
products and WaveGlow's bf16 convolutions (no autocast).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Dict, Optional

#: The words of :mod:`tacotron2.inference` and :mod:`waveglow.inference` (the tests check all three are
#: equal); declared here too so that ``tacotron2-tts --help`` needs neither torch nor the models.
BACKENDS = ("reference", "fast", "cuda_graph", "onnxruntime")
PRECISIONS = ("fp32", "fp32_exact", "bf16", "fp16", "int8")
#: The words that run on CUDA only, for both models (the tests derive them from the models' tables), so the
#: CLI can refuse them on a CPU-only torch build without importing torch.
CUDA_ONLY_BACKENDS = ("cuda_graph",)
CUDA_ONLY_PRECISIONS = ("fp16",)

__all__ = ["InferenceConfig", "BACKENDS", "PRECISIONS", "CUDA_ONLY_BACKENDS", "CUDA_ONLY_PRECISIONS"]


@dataclass(frozen=True)
class InferenceConfig:
    """Backend, precision and options for both models (see docs/performance.md, "Inference engine").

    Attributes:
        backend: ``"reference"``, ``"fast"``, ``"cuda_graph"``, ``"onnxruntime"``
            or ``None`` (each model's default: ``"fast"``).
        precision: ``"fp32"``, ``"fp32_exact"``, ``"bf16"``, ``"fp16"`` or ``"int8"``.
            ``"fp32_exact"`` is NVIDIA's computation bit for bit: the decoder's
            exact fast loop (with ``backend`` None or ``"fast"``) and WaveGlow's
            reference backend (its fast form folds weights, which changes rounding).
        fold_upsampler: WaveGlow: fold the mel upsampler into the conditioning
            (fast backend; ``None``: only for int8, which needs it).
        chunk_frames, overlap_frames: WaveGlow: synthesize in chunks of this
            many mel frames (bounded memory; ``None``: whole mels).
        stop_check_interval: Tacotron 2: decoder steps between looks at the stop
            gate (fast and cuda_graph; ``None``: 8).
    """

    backend: Optional[str] = None
    precision: str = "fp32"
    fold_upsampler: Optional[bool] = None
    chunk_frames: Optional[int] = None
    overlap_frames: Optional[int] = None
    stop_check_interval: Optional[int] = None

    def __post_init__(self) -> None:
        if self.backend is not None and self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS} or None, got {self.backend!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")

    def replace(self, **changes: Any) -> "InferenceConfig":
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    def tacotron2_options(self) -> Dict[str, Any]:
        """Keyword arguments of ``Tacotron2.prepare_inference`` / ``Tacotron2.infer``."""
        return dict(backend=self.backend, precision=self.precision, stop_check_interval=self.stop_check_interval)

    def waveglow_options(self) -> Dict[str, Any]:
        """Keyword arguments of ``WaveGlow.prepare_inference`` / ``WaveGlow.infer``."""
        backend = self.backend
        if self.precision == "fp32_exact" and backend in (None, "fast"):
            backend = "reference"
        return dict(backend=backend, precision=self.precision, fold_upsampler=self.fold_upsampler,
                    chunk_frames=self.chunk_frames, overlap_frames=self.overlap_frames)

    def prepare_tacotron2(self, tacotron2: Any) -> Any:
        """``tacotron2.prepare_inference(...)`` for this configuration: a ``PreparedTacotron2``."""
        return tacotron2.prepare_inference(**self.tacotron2_options())

    def prepare_waveglow(self, waveglow: Any, cache_dir: Optional[Any] = None) -> Any:
        """``waveglow.prepare_inference(...)`` for this configuration: a ``PreparedWaveGlow``.

        ``cache_dir``: where the int8 form is kept between processes (used for
        ``precision="int8"`` only; see ``waveglow.int8_cache``).
        """
        extra = {"cache_dir": cache_dir} if cache_dir is not None and self.precision == "int8" else {}
        return waveglow.prepare_inference(**self.waveglow_options(), **extra)
