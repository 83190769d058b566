"""Tacotron 2: text symbols -> mel spectrogram."""
from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor, nn

from .config import Tacotron2Config
from .decoder import Decoder
from .encoder import Encoder
from .masks import padding_mask
from .outputs import Tacotron2Generation, Tacotron2Inference, Tacotron2Output
from .postnet import Postnet
from .prepared import PreparedTacotron2

GATE_PADDING_LOGIT = 1e3


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
                *, prenet_dropout: bool = True, feedback: float = 0.0) -> Tacotron2Output:
        """Teacher-forced pass.

        ``text_padded`` (B, T_in) long, ``input_lengths`` (B,), ``mel_padded``
        (B, n_mels, T) targets, ``output_lengths`` (B,). Returns
        :class:`Tacotron2Output`; with ``config.mask_padding`` frames past each
        output length are 0 (mels) and 1e3 (gate logits), as NVIDIA's.
        ``feedback`` (opt-in, 0 = NVIDIA's teacher forcing): scheduled
        sampling, see :meth:`Decoder.forward <tacotron2.decoder.Decoder.forward>`.
        """
        if mel_padded.dim() != 3 or mel_padded.size(1) != self.config.n_mel_channels:
            raise ValueError(f"mel_padded must be (B, {self.config.n_mel_channels}, T), "
                             f"got shape {tuple(mel_padded.shape)}")
        memory = self.encode(text_padded, input_lengths)
        mel, gate, alignments = self.decoder(memory, mel_padded.to(memory.dtype), input_lengths,
                                             prenet_dropout=prenet_dropout, feedback=feedback)
        mel_postnet = mel + self.postnet(mel)
        if self.config.mask_padding:
            pad = padding_mask(output_lengths, mel.size(2))
            mel = mel.masked_fill(pad.unsqueeze(1), 0.0)
            mel_postnet = mel_postnet.masked_fill(pad.unsqueeze(1), 0.0)
            gate = gate.masked_fill(pad, GATE_PADDING_LOGIT)
        return Tacotron2Output(mel, mel_postnet, gate, alignments)

    def prepare_inference(self, backend: Optional[str] = None, precision: str = "fp32",
                          stop_check_interval: Optional[int] = None) -> PreparedTacotron2:
        """This model prepared for ``backend`` and ``precision``: a :class:`PreparedTacotron2` the caller holds.

        It reports ``nbytes`` and ``prepare_seconds`` and has :meth:`infer` and
        :meth:`generate` like the model's. Prepare again after changing the
        weights. Words and combinations: :mod:`tacotron2.inference`.
        """
        return PreparedTacotron2(self, backend, precision, stop_check_interval)

    def infer(self, text_padded: Tensor, input_lengths: Tensor, *, early_stopping: Optional[bool] = None,
              max_decoder_steps: Optional[int] = None, prenet_dropout: Optional[bool] = None,
              backend: Optional[str] = None, precision: str = "fp32",
              stop_check_interval: Optional[int] = None) -> Tacotron2Inference:
        """Synthesise mels as NVIDIA's DLE hub model does (batch in any order).

        Returns :class:`Tacotron2Inference` ``(mel_postnet (B, n_mels, T),
        mel_lengths int32 (B,), alignments (B, T, N))``, NVIDIA's triple.
        ``early_stopping`` defaults to ``not config.decoder_no_early_stopping``,
        ``max_decoder_steps`` to the config's, ``prenet_dropout`` to True (NVIDIA's
        behaviour, and needed: a model trained with prenet dropout, as NVIDIA's
        and ours are, rarely stops without it and runs to ``max_decoder_steps``;
        to get the same output twice, call ``torch.manual_seed(seed)`` first,
        not ``prenet_dropout=False``). Warns, naming the caller's line, when
        early stopping is on and some items were cut by ``max_decoder_steps``
        (:meth:`generate` also returns which).

        ``backend``, ``precision``, ``stop_check_interval``: the inference
        vocabulary (:mod:`tacotron2.inference`, docs/performance.md). The
        default is the ``"fast"`` decoder in fp32, NVIDIA's numbers to
        rounding (``"reference"`` in training mode or under autocast);
        ``precision="fp32_exact"`` is bitwise the reference loop. Each call
        prepares a transient :class:`PreparedTacotron2`; hold one from
        :meth:`prepare_inference` to pay that once.
        """
        prepared = PreparedTacotron2(self, backend, precision, stop_check_interval)
        return Tacotron2Inference(*prepared.generate(text_padded, input_lengths, early_stopping=early_stopping,
                                                     max_decoder_steps=max_decoder_steps,
                                                     prenet_dropout=prenet_dropout)[:3])

    def generate(self, text_padded: Tensor, input_lengths: Tensor, *, early_stopping: Optional[bool] = None,
                 max_decoder_steps: Optional[int] = None, prenet_dropout: Optional[bool] = None,
                 backend: Optional[str] = None, precision: str = "fp32",
                 stop_check_interval: Optional[int] = None) -> Tacotron2Generation:
        """:meth:`infer` that also returns ``reached_limit`` bool (B,) (:class:`Tacotron2Generation`)."""
        prepared = PreparedTacotron2(self, backend, precision, stop_check_interval)
        return prepared.generate(text_padded, input_lengths, early_stopping=early_stopping,
                                 max_decoder_steps=max_decoder_steps, prenet_dropout=prenet_dropout)


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
