"""Tacotron 2: text symbols -> mel spectrogram."""
from __future__ import annotations

import math
import os
import sys
import warnings
from typing import Optional, Union

import torch
from torch import Tensor, nn

from .config import Tacotron2Config
from .decoder import Decoder
from .encoder import Encoder
from .masks import padding_mask
from .outputs import Tacotron2Inference, Tacotron2InferenceWithLimit, Tacotron2Output
from .postnet import Postnet

GATE_PADDING_LOGIT = 1e3
#: Frames in these files are skipped when a warning is attributed to the caller's line
#: (``infer`` is wrapped by ``torch.no_grad``, whose frame lies in torch).
_INTERNAL_FILES = (os.path.dirname(torch.__file__) + os.sep, os.path.abspath(__file__))


class Tacotron2(nn.Module):
    """NVIDIA's Tacotron 2 with the same parameter names, so its state dicts load strictly.

    Example::

        model = Tacotron2(Tacotron2Config()).eval()
        mel, mel_lengths, alignments = model.infer(text_padded, input_lengths)
    """

    def __init__(self, config: Optional[Tacotron2Config] = None) -> None:
        super().__init__()
        if config is None:
            config = Tacotron2Config()
        if not isinstance(config, Tacotron2Config):
            raise TypeError(f"config must be a Tacotron2Config (use Tacotron2Config.from_dict for a dict), "
                            f"got {type(config).__name__}")
        self.config = config
        self.embedding = nn.Embedding(config.n_symbols, config.symbols_embedding_dim)
        bound = math.sqrt(3.0) * math.sqrt(2.0 / (config.n_symbols + config.symbols_embedding_dim))
        nn.init.uniform_(self.embedding.weight, -bound, bound)
        self.encoder = Encoder(config.encoder_n_convolutions, config.encoder_embedding_dim,
                               config.encoder_kernel_size)
        self.decoder = Decoder(config)
        self.postnet = Postnet(config.n_mel_channels, config.postnet_embedding_dim,
                               config.postnet_kernel_size, config.postnet_n_convolutions)

    def encode(self, text_padded: Tensor, input_lengths: Tensor) -> Tensor:
        """Encoder outputs (B, max(input_lengths), encoder_embedding_dim) for ``text_padded`` (B, T_in)."""
        _check_text(text_padded, input_lengths, self.config.n_symbols)
        return self.encoder(self.embedding(text_padded).transpose(1, 2), input_lengths)

    def forward(self, text_padded: Tensor, input_lengths: Tensor, mel_padded: Tensor, output_lengths: Tensor,
                *, prenet_dropout: bool = True) -> Tacotron2Output:
        """Teacher-forced pass.

        ``text_padded`` (B, T_in) long, ``input_lengths`` (B,), ``mel_padded``
        (B, n_mels, T) targets, ``output_lengths`` (B,). Returns
        :class:`Tacotron2Output`; with ``config.mask_padding`` frames past each
        output length are 0 (mels) and 1e3 (gate logits), as NVIDIA's.
        """
        if mel_padded.dim() != 3 or mel_padded.size(1) != self.config.n_mel_channels:
            raise ValueError(f"mel_padded must be (B, {self.config.n_mel_channels}, T), "
                             f"got shape {tuple(mel_padded.shape)}")
        memory = self.encode(text_padded, input_lengths)
        mel, gate, alignments = self.decoder(memory, mel_padded.to(memory.dtype), input_lengths,
                                             prenet_dropout=prenet_dropout)
        mel_postnet = mel + self.postnet(mel)
        if self.config.mask_padding:
            pad = padding_mask(output_lengths, mel.size(2))
            mel = mel.masked_fill(pad.unsqueeze(1), 0.0)
            mel_postnet = mel_postnet.masked_fill(pad.unsqueeze(1), 0.0)
            gate = gate.masked_fill(pad, GATE_PADDING_LOGIT)
        return Tacotron2Output(mel, mel_postnet, gate, alignments)

    @torch.no_grad()
    def infer(self, text_padded: Tensor, input_lengths: Tensor, *, early_stopping: Optional[bool] = None,
              max_decoder_steps: Optional[int] = None, prenet_dropout: Optional[bool] = None,
              return_reached_limit: bool = False, method: str = "fast", precision: str = "fp32",
              stop_check_interval: Optional[int] = None,
              ) -> Union[Tacotron2Inference, Tacotron2InferenceWithLimit]:
        """Synthesise mels as NVIDIA's DLE hub model does (batch in any order).

        ``early_stopping`` defaults to ``not config.decoder_no_early_stopping``,
        ``max_decoder_steps`` to the config's, ``prenet_dropout`` to True (NVIDIA's
        behaviour, and needed: a model trained with prenet dropout, as NVIDIA's
        and ours are, rarely stops without it and runs to ``max_decoder_steps``;
        to get the same output twice, call ``torch.manual_seed(seed)`` first,
        not ``prenet_dropout=False``). Returns
        :class:`Tacotron2Inference`, or :class:`Tacotron2InferenceWithLimit`
        with ``return_reached_limit=True``. Warns when early stopping is on
        and some items were cut by ``max_decoder_steps``.

        ``method="fast"`` (default) decodes with preallocated buffers and
        checks the stop gate every ``stop_check_interval`` steps (default 8),
        with the same numbers as ``method="faithful"``, the step-by-step
        reference loop, to rounding (its fused LSTM products sum in another
        order; ``precision="fp32_exact"`` is bitwise the faithful loop on CPU,
        somewhat slower). ``method="cuda_graph"`` replays the decoder from CUDA
        graphs (CUDA only). ``precision="bf16"`` (CPU), ``"fp16"`` (CUDA) or
        ``"int8"`` (CPU) runs the decoder LSTMs' matrix products in reduced
        precision with everything else in fp32; see the README's Performance
        section for their measured error.
        """
        if max_decoder_steps is not None and (isinstance(max_decoder_steps, bool)
                                              or not isinstance(max_decoder_steps, int) or max_decoder_steps < 1):
            raise ValueError(f"max_decoder_steps must be a positive int, got {max_decoder_steps!r}")
        memory = self.encode(text_padded, input_lengths)
        result = self.decoder.infer(memory, input_lengths, early_stopping=early_stopping,
                                    max_decoder_steps=max_decoder_steps,
                                    prenet_dropout=True if prenet_dropout is None else bool(prenet_dropout),
                                    method=method, precision=precision, stop_check_interval=stop_check_interval)
        mel_postnet = result.mel + self.postnet(result.mel)
        stopping = self.decoder.early_stopping if early_stopping is None else early_stopping
        if stopping and bool(result.reached_limit.any()):
            cut = torch.nonzero(result.reached_limit).flatten().tolist()
            warnings.warn(f"Tacotron2.infer reached max_decoder_steps={result.mel.size(2)} before the gate "
                          f"stopped {len(cut)} of {len(result.reached_limit)} batch items (indices {cut}); "
                          "their mels are cut off. Raise max_decoder_steps if the text is long.",
                          RuntimeWarning, stacklevel=_caller_stacklevel())
        if return_reached_limit:
            return Tacotron2InferenceWithLimit(mel_postnet, result.mel_lengths, result.alignments,
                                               result.reached_limit)
        return Tacotron2Inference(mel_postnet, result.mel_lengths, result.alignments)


def _caller_stacklevel() -> int:
    """``stacklevel`` that makes a warning raised in :meth:`Tacotron2.infer` name the caller's line.

    Counts the frames above the caller of this function that belong to this
    file or to torch (the ``no_grad`` decorator), however many there are.
    """
    level, frame = 1, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_INTERNAL_FILES):
        frame, level = frame.f_back, level + 1
    return level


def _check_text(text_padded: Tensor, input_lengths: Tensor, n_symbols: int) -> None:
    """Raise ``ValueError`` for inputs NVIDIA's model would fail on obscurely."""
    if text_padded.dim() != 2 or text_padded.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"text_padded must be an integer tensor (B, T_in), got {tuple(text_padded.shape)} "
                         f"{text_padded.dtype}")
    if input_lengths.dim() != 1 or input_lengths.numel() != text_padded.size(0):
        raise ValueError(f"input_lengths must have shape ({text_padded.size(0)},), got {tuple(input_lengths.shape)}")
    lengths = input_lengths.detach().cpu()
    if bool((lengths < 1).any()) or bool((lengths > text_padded.size(1)).any()):
        raise ValueError(f"input_lengths {lengths.tolist()} must lie in [1, {text_padded.size(1)}] "
                         "(the padded text length)")
