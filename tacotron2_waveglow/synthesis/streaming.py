"""Streaming speech: audio sentence by sentence, so the first audio comes after the first sentence.

:func:`stream_speech` splits the text exactly as :meth:`Synthesizer.synthesize`
does and synthesizes one piece at a time (Tacotron 2, then the vocoder), yielding
each piece's audio as soon as it exists. Playing the items in order gives the
same signal layout as ``synthesize``: the first piece's audio, then for each
later piece ``pause_samples`` zeros followed by its audio.

It runs the synthesizer's prepared models, so the inference configuration
(backend, precision, fold, chunking; ``Synthesizer(..., precision="bf16")`` or
``inference=InferenceConfig(...)``) is the synthesizer's, in the same words as
everywhere else; each chunk's ``engines`` says what ran.

Same seed, same audio? :meth:`Synthesizer.synthesize` decodes its pieces
longest first (by token count, stable for ties) in batches, and Tacotron 2's
prenet dropout and WaveGlow's noise draw from the global generator in that
order. Streaming must go in text order, one piece at a time. So
``stream_speech(text, seed=s)`` concatenated equals
``synthesize(text, seed=s, batch_size=1)`` exactly when the pieces' token
counts never increase along the text (then both orders coincide); otherwise
every piece is still synthesized by the same code, but from a different point
of the random stream.
"""
from __future__ import annotations

from typing import Dict, Iterator, List, NamedTuple, Optional

import numpy as np
import torch

from .pipeline import Synthesizer


class SpeechChunk(NamedTuple):
    """One streamed piece.

    ``audio`` float32 ``(T,)``: for ``index > 0`` it starts with the
    synthesizer's ``pause_samples`` zeros, so the chunks concatenate to the
    whole utterance. ``mel_length``: decoder frames of the piece;
    ``reached_limit``: whether it hit ``max_decoder_steps``; ``engines``: what
    ran (:attr:`SynthesisResult.engines`).
    """

    index: int
    text: str
    audio: np.ndarray
    sampling_rate: int
    mel_length: int
    reached_limit: bool
    engines: Dict[str, str]


def stream_speech(synthesizer: Synthesizer, text: str, *, sigma: float = 0.6, denoise: Optional[float] = None,
                  seed: Optional[int] = None, max_decoder_steps: Optional[int] = None) -> Iterator[SpeechChunk]:
    """Yield :class:`SpeechChunk` items for ``text``, one per piece, in text order.

    Args:
        synthesizer: the :class:`Synthesizer` holding the models, vocoder, device and precision.
        text: the text to speak.
        sigma, denoise, max_decoder_steps: as for :meth:`Synthesizer.synthesize`.
        seed: ``torch.manual_seed(seed)`` once, before the first piece.

    Raises (at the call, before anything is synthesized):
        TypeError: ``text`` is not a string.
        ValueError: ``text`` has nothing to speak.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}; stream one text at a time")
    pieces = synthesizer.split(text, max_decoder_steps)
    if not pieces:
        raise ValueError(f"text {text[:40]!r} has no letters or digits to speak")
    return _stream_pieces(synthesizer, pieces, sigma, denoise, seed, max_decoder_steps)


def _stream_pieces(synthesizer: Synthesizer, pieces: List[str], sigma: float, denoise: Optional[float],
                   seed: Optional[int], max_decoder_steps: Optional[int]) -> Iterator[SpeechChunk]:
    """The generator behind :func:`stream_speech`; seeds when the first piece is requested."""
    if seed is not None:
        torch.manual_seed(seed)
    pause = np.zeros(synthesizer.pause_samples, dtype=np.float32)
    for index, piece in enumerate(pieces):
        result = synthesizer.synthesize(piece, sigma=sigma, denoise=denoise, batch_size=1,
                                        max_decoder_steps=max_decoder_steps, progress=False)
        audio = result.audio[0] if index == 0 else np.concatenate([pause, result.audio[0]])
        yield SpeechChunk(index, piece, audio, result.sampling_rate, sum(result.mel_lengths[0]),
                          any(result.reached_limit[0]), result.engines)
