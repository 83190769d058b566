"""Named results of the Tacotron 2 passes."""
from __future__ import annotations

from typing import NamedTuple

from torch import Tensor


class Tacotron2Output(NamedTuple):
    """Teacher-forced pass (T = mel frames, N = text steps).

    ``mel`` and ``mel_postnet`` (B, n_mels, T); ``gate`` logits (B, T);
    ``alignments`` (B, T, N). With ``mask_padding`` the mels are 0 and the
    gate logits 1e3 past each ``output_lengths`` entry, as NVIDIA's.
    """

    mel: Tensor
    mel_postnet: Tensor
    gate: Tensor
    alignments: Tensor


class Tacotron2Inference(NamedTuple):
    """Free-running inference: ``mel_postnet`` (B, n_mels, T), ``mel_lengths`` int32 (B,),
    ``alignments`` (B, T, N); T is the number of frames of the decoder steps run (padded to the longest)."""

    mel_postnet: Tensor
    mel_lengths: Tensor
    alignments: Tensor


class Tacotron2Generation(NamedTuple):
    """What :meth:`Tacotron2.generate` returns: :class:`Tacotron2Inference` plus
    ``reached_limit`` bool (B,), the items still going when ``max_decoder_steps`` ended the loop."""

    mel_postnet: Tensor
    mel_lengths: Tensor
    alignments: Tensor
    reached_limit: Tensor


class DecoderInference(NamedTuple):
    """Raw decoder inference: ``mel`` (B, n_mels, T), ``gate`` logits (B, T),
    ``alignments`` (B, T, N), ``mel_lengths`` int32 (B,), ``reached_limit`` bool (B,)."""

    mel: Tensor
    gate: Tensor
    alignments: Tensor
    mel_lengths: Tensor
    reached_limit: Tensor
