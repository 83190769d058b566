"""A Tacotron 2 prepared for one backend and precision: an object the caller owns.

``prepared = model.prepare_inference(backend="fast", precision="bf16")``
fuses (and for bf16/fp16/int8 converts or quantizes) the decoder's LSTM
weights once and keeps them, with any captured CUDA graphs, in ``prepared``;
nothing is cached on the model or in a module. ``prepared.nbytes`` is the
memory it holds beyond the model's parameters and ``prepared.prepare_seconds``
what building it cost. ``Tacotron2.infer`` without a prepared object prepares a
transient one per call (for fp32 that is one transposing concatenation of the LSTM weights,
a few decoder steps' worth of memory traffic).

A prepared model is a snapshot of the weights it was built from: after
changing them (``load_state_dict``, an optimizer step, ``.to()``) prepare
again: nothing detects an in-place change of the weights (that would cost a
pass over them on every call), but calls refuse a model that has moved to
another device or dtype.
"""
from __future__ import annotations

import os
import sys
import time
import warnings
from typing import Optional

import torch
from torch import Tensor, nn

from .cuda_graph_decoder import GraphLoops
from .fast_decoder import fast_infer
from .fast_linears import DecoderLinears, build_linears
from .inference import check_stop_check_interval, resolve_backend
from .outputs import DecoderInference, Tacotron2Generation, Tacotron2Inference


#: Frames in these places are skipped when a warning is attributed to the caller's line: this package
#: (``Tacotron2.infer`` -> ``PreparedTacotron2.generate``) and torch (``no_grad`` wrappers).
_INTERNAL_FILES = (os.path.dirname(torch.__file__) + os.sep, os.path.dirname(os.path.abspath(__file__)) + os.sep)


def _caller_stacklevel() -> int:
    """``stacklevel`` that makes a warning raised here name the first line outside this package and torch."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_INTERNAL_FILES):
        frame, level = frame.f_back, level + 1
    return level


class PreparedTacotron2:
    """A :class:`~tacotron2.Tacotron2` prepared for ``backend`` and ``precision`` (see the module doc).

    Args:
        model: the model (kept by reference: the encoder, postnet and the
            small decoder layers run from its own parameters).
        backend: ``"reference"``, ``"fast"``, ``"cuda_graph"`` or ``None``
            (``"fast"``, or ``"reference"`` in training mode / under autocast);
            see :mod:`tacotron2.inference`.
        precision: ``"fp32"``, ``"fp32_exact"``, ``"bf16"``, ``"fp16"`` or ``"int8"``.
        stop_check_interval: steps between looks at the stop gate (fast and
            cuda_graph; default 8). Results do not depend on it.

    Raises:
        ValueError: a word outside the vocabulary, or a combination that does
            not run here (the message lists those that do).
    """

    def __init__(self, model: nn.Module, backend: Optional[str] = None, precision: str = "fp32",
                 stop_check_interval: Optional[int] = None) -> None:
        start = time.perf_counter()
        weight = model.decoder.gate_layer.linear_layer.weight
        self.model = model
        self.device, self.dtype = weight.device, weight.dtype
        self.backend = resolve_backend(backend, precision, self.device, self.dtype, model.training)
        self.precision = precision
        if self.backend == "reference" and stop_check_interval is not None:
            raise ValueError("stop_check_interval applies to backend 'fast' and 'cuda_graph'; "
                             "the reference loop checks the gate after every step")
        self.stop_check_interval = check_stop_check_interval(stop_check_interval)
        self.linears: Optional[DecoderLinears] = None
        self.graphs: Optional[GraphLoops] = None
        with torch.no_grad():
            if self.backend != "reference":
                self.linears = build_linears(model.decoder, precision)
            if self.backend == "cuda_graph":
                self.graphs = GraphLoops(model.decoder, self.linears, precision=precision,
                                         block_size=self.stop_check_interval)
        self.prepare_seconds = time.perf_counter() - start

    @property
    def nbytes(self) -> int:
        """Memory held beyond the model's parameters (prepared products, graph static buffers)."""
        return (0 if self.linears is None else self.linears.nbytes) + (0 if self.graphs is None else self.graphs.nbytes)

    def describe(self) -> str:
        """``"fast/bf16"``: the backend and precision that run."""
        return f"{self.backend}/{self.precision}"

    def _check_model(self) -> None:
        weight = self.model.decoder.gate_layer.linear_layer.weight
        if (weight.device, weight.dtype) != (self.device, self.dtype):
            raise ValueError(f"this prepared model was built for {self.dtype} on {self.device}, the model is now "
                             f"{weight.dtype} on {weight.device}; call model.prepare_inference(...) again")
        resolve_backend(self.backend, self.precision, self.device, self.dtype, self.model.training)

    def decode(self, memory: Tensor, memory_lengths: Tensor, *, early_stopping: bool, max_steps: int,
               prenet_dropout: bool) -> DecoderInference:
        """The decoder alone on encoder outputs ``memory`` (B, N, E); see :meth:`Decoder.infer`."""
        self._check_model()
        decoder = self.model.decoder
        if self.backend == "reference":
            return decoder.infer(memory, memory_lengths, early_stopping, max_steps, prenet_dropout)
        if self.backend == "cuda_graph":
            return self.graphs.infer(memory, memory_lengths, early_stopping=early_stopping, max_steps=max_steps,
                                     prenet_dropout=prenet_dropout)
        return fast_infer(decoder, self.linears, memory, memory_lengths, early_stopping=early_stopping,
                          max_steps=max_steps, prenet_dropout=prenet_dropout, precision=self.precision,
                          stop_check_interval=self.stop_check_interval)

    def generate(self, text_padded: Tensor, input_lengths: Tensor, *, early_stopping: Optional[bool] = None,
                 max_decoder_steps: Optional[int] = None, prenet_dropout: Optional[bool] = None) -> Tacotron2Generation:
        """Synthesise mels: :class:`Tacotron2Generation` (the NVIDIA triple plus ``reached_limit``).

        Arguments as :meth:`Tacotron2.infer`.
        """
        with torch.no_grad():
            model = self.model
            if max_decoder_steps is not None and (isinstance(max_decoder_steps, bool)
                                                  or not isinstance(max_decoder_steps, int) or max_decoder_steps < 1):
                raise ValueError(f"max_decoder_steps must be a positive int, got {max_decoder_steps!r}")
            stopping = model.decoder.early_stopping if early_stopping is None else bool(early_stopping)
            steps = model.decoder.max_decoder_steps if max_decoder_steps is None else max_decoder_steps
            memory = model.encode(text_padded, input_lengths)
            result = self.decode(memory, input_lengths, early_stopping=stopping, max_steps=steps,
                                 prenet_dropout=True if prenet_dropout is None else bool(prenet_dropout))
            mel_postnet = result.mel + model.postnet(result.mel)
            if stopping and bool(result.reached_limit.any()):
                cut = torch.nonzero(result.reached_limit).flatten().tolist()
                warnings.warn(f"Tacotron2.infer reached max_decoder_steps={result.mel.size(2)} before the gate "
                              f"stopped {len(cut)} of {len(result.reached_limit)} batch items (indices {cut}); "
                              "their mels are cut off. Raise max_decoder_steps if the text is long.",
                              RuntimeWarning, stacklevel=_caller_stacklevel())
            return Tacotron2Generation(mel_postnet, result.mel_lengths, result.alignments, result.reached_limit)

    def infer(self, text_padded: Tensor, input_lengths: Tensor, *, early_stopping: Optional[bool] = None,
              max_decoder_steps: Optional[int] = None, prenet_dropout: Optional[bool] = None) -> Tacotron2Inference:
        """``(mel_postnet (B, n_mels, T), mel_lengths int32 (B,), alignments (B, T, N))`` as :meth:`Tacotron2.infer`."""
        result = self.generate(text_padded, input_lengths, early_stopping=early_stopping,
                               max_decoder_steps=max_decoder_steps, prenet_dropout=prenet_dropout)
        return Tacotron2Inference(*result[:3])
