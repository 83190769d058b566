"""A WaveGlow prepared for one inference configuration: an object the caller owns.

``prepared = waveglow.prepare_inference(precision="bf16", fold_upsampler=True)``
folds weight norm (and the ``end`` convolution, the conditioning, optionally
the upsampler), casts or quantizes, and for int8 compiles, once; the result
lives in ``prepared`` and nowhere else (no cache on the model or in a module).
``prepared.nbytes`` is the memory it holds beyond the model's parameters and
``prepared.prepare_seconds`` what building it cost. ``WaveGlow.infer`` without
a prepared object prepares a transient one per call.

A prepared model is a snapshot of the weights it was built from: after
changing them (``load_state_dict``, an optimizer step, ``.to()``) prepare
again: nothing detects an in-place change of the weights (that would cost a
pass over them on every call), but calls refuse a model that has moved to
another device or dtype. The reference backend holds nothing and
always runs the model's current weights.
"""
from __future__ import annotations

import time
import warnings
from typing import Iterator, Optional

import torch
from torch import nn

from .chunked import exact_overlap_frames, iter_chunks
from .config import HOP_LENGTH
from .cuda_graph import GraphedWaveGlow
from .fast_infer import FastWaveGlow
from .inference import COMPUTE_DTYPES, WaveGlowInference, emulated_products, resolve
from .int8_cache import PathLike
from .int8_infer import Int8WaveGlow

#: Mel frames of the warm-up call that compiles the int8 form while preparing.
INT8_WARMUP_FRAMES = 8


class PreparedWaveGlow:
    """A :class:`~waveglow.WaveGlow` prepared for one configuration (see the module doc).

    Args:
        model: the model (kept by reference: the reference backend and the
            upsampler of the unfolded fast form run from its parameters).
        backend, precision, fold_upsampler, chunk_frames, overlap_frames: the
            inference vocabulary (:mod:`waveglow.inference`).
        cache_dir: ``precision="int8"`` only: a folder that keeps the folded,
            quantized weights between processes (:mod:`waveglow.int8_cache`;
            a warm cache skips about 4 s of the preparation).

    Attributes:
        config: the resolved :class:`~waveglow.inference.WaveGlowInference`.
        cache_path, from_cache: the int8 form's file in ``cache_dir`` (``None``
            without one) and whether this preparation read it from there.

    Raises:
        ValueError: a word outside the vocabulary, or a combination that does
            not run here (the message lists those that do).
    """

    def __init__(self, model: nn.Module, backend: Optional[str] = None, precision: str = "fp32",
                 fold_upsampler: Optional[bool] = None, chunk_frames: Optional[int] = None,
                 overlap_frames: Optional[int] = None, cache_dir: Optional[PathLike] = None) -> None:
        start = time.perf_counter()
        weight = model.upsample.weight
        self.model = model
        self.device, self.dtype = weight.device, weight.dtype
        self.config: WaveGlowInference = resolve(backend, precision, fold_upsampler, chunk_frames, overlap_frames,
                                                 self.device, self.dtype, model.training)
        slow = emulated_products(self.config.precision, self.device) if self.config.backend != "reference" else None
        if slow:
            warnings.warn(slow, RuntimeWarning, stacklevel=3)
        if cache_dir is not None and self.config.precision != "int8":
            raise ValueError(f"cache_dir keeps the int8 form between processes; precision={precision!r} "
                             "builds in a second or less and is not cached")
        if chunk_frames is not None and HOP_LENGTH % model.n_group != 0:
            raise ValueError(f"chunking needs n_group to divide {HOP_LENGTH}, got n_group={model.n_group}")
        self.overlap_frames = exact_overlap_frames(model.config) if overlap_frames is None else overlap_frames
        self.form = None
        self.graphs: Optional[GraphedWaveGlow] = None
        if self.config.backend != "reference":
            with torch.inference_mode(False), torch.no_grad():
                if self.config.precision == "int8":
                    self.form = Int8WaveGlow(model, cache_dir=cache_dir)
                else:
                    dtype = COMPUTE_DTYPES.get(self.config.precision)
                    self.form = FastWaveGlow(model, dtype, fold_upsampler=self.config.fold_upsampler)
            if self.config.precision == "int8":  # compile now, so that the one-off cost is reported here
                mel = torch.zeros(1, model.config.n_mel_channels, INT8_WARMUP_FRAMES, device=self.device)
                latent = torch.zeros(1, model.n_group, model.latent_steps(INT8_WARMUP_FRAMES), device=self.device)
                self.infer(mel, 0.0, latent)  # an explicit latent: preparing draws no random numbers
        #: the int8 form's file in ``cache_dir`` (``None`` without one), and whether it was read from there
        self.cache_path = getattr(self.form, "cache_path", None)
        self.from_cache = bool(getattr(self.form, "from_cache", False))
        if self.config.backend == "cuda_graph":
            self.graphs = GraphedWaveGlow(self.form)
        self.prepare_seconds = time.perf_counter() - start

    @property
    def nbytes(self) -> int:
        """Memory held beyond the model's parameters (folded/quantized weights, graph static buffers)."""
        return (0 if self.form is None else self.form.nbytes) + (0 if self.graphs is None else self.graphs.nbytes)

    def describe(self) -> str:
        """``"fast/bf16 folded"``: what runs."""
        return self.config.describe()

    def _check_model(self) -> None:
        weight = self.model.upsample.weight
        if (weight.device, weight.dtype) != (self.device, self.dtype):
            raise ValueError(f"this prepared WaveGlow was built for {self.dtype} on {self.device}, the model is "
                             f"now {weight.dtype} on {weight.device}; call prepare_inference(...) again")
        resolve(self.config.backend, self.config.precision, self.config.fold_upsampler or None,
                self.config.chunk_frames, self.config.overlap_frames, self.device, self.dtype, self.model.training)

    def _run(self, mel: torch.Tensor, sigma: float, z: torch.Tensor) -> torch.Tensor:
        """One whole (or chunk of a) checked mel through the backend."""
        if self.graphs is not None:
            return self.graphs.infer(mel, sigma, z)
        if self.form is None:
            return self.model.infer_reference(mel, sigma, z)
        with torch.inference_mode():
            audio = self.form.infer(mel, sigma, z)
        return audio.clone()  # a normal tensor: callers may update it in place

    def _inputs(self, mel: torch.Tensor, z: Optional[torch.Tensor]) -> torch.Tensor:
        self.model.check_mel(mel)
        self._check_model()
        return self.model.latent(mel, z)

    def infer(self, mel: torch.Tensor, sigma: float = 1.0, z: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Mel ``(B, n_mel, T_mel)`` -> audio ``(B, T_mel * 256)``, as :meth:`WaveGlow.infer`
        (chunked when the configuration has ``chunk_frames``)."""
        z = self._inputs(mel, z)
        with torch.no_grad():
            if self.config.chunk_frames is None:
                return self._run(mel, sigma, z)
            return torch.cat(list(iter_chunks(self._run, mel, sigma, z, self.config.chunk_frames,
                                              self.overlap_frames)), 1)

    def iter_chunks(self, mel: torch.Tensor, sigma: float = 1.0, z: Optional[torch.Tensor] = None
                    ) -> Iterator[torch.Tensor]:
        """Yield the audio chunk by chunk, ``(B, chunk_frames * 256)`` each (needs ``chunk_frames``).

        The latent of the whole utterance is drawn (or checked) at this call, before the first piece.
        """
        if self.config.chunk_frames is None:
            raise ValueError("iter_chunks needs a configuration with chunk_frames; "
                             "prepare_inference(..., chunk_frames=512)")
        z = self._inputs(mel, z)

        def pieces() -> Iterator[torch.Tensor]:
            with torch.no_grad():
                yield from iter_chunks(self._run, mel, sigma, z, self.config.chunk_frames, self.overlap_frames)
        return pieces()
