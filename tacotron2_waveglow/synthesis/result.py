"""What :meth:`Synthesizer.synthesize` returns."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np


@dataclass
class SynthesisResult:
    """Audio and intermediate outputs of one :meth:`Synthesizer.synthesize` call.

    Index ``i`` is the ``i``-th input text; index ``[i][j]`` its ``j``-th piece
    (sentence or clause, see :mod:`synthesis.split`).

    Attributes:
        audio: per text, float32 samples ``(T,)`` at ``sampling_rate``: the
            pieces' audio joined with ``pause_samples`` zeros between them.
        sentences: per text, the pieces that were synthesized.
        mels: per text and piece, the mel spectrogram ``(n_mels, mel_length)``
            trimmed to its ``mel_length`` (natural-log magnitudes).
        mel_lengths: per text and piece, frames before the stop token; each piece
            contributes ``mel_length * hop_length`` samples.
        alignments: per text and piece, attention weights ``(mel_length, n_symbols)``.
        reached_limit: per text and piece, whether decoding hit ``max_decoder_steps``.
        sampling_rate: samples per second (22050 for the NVIDIA models).
        hop_length: audio samples per mel frame (256).
        pause_samples: zeros inserted between consecutive pieces of one text.
        engines: what ran, ``{"tacotron2": "fast/bf16", "vocoder": "fast/bf16 folded"}``
            (the prepared models' ``describe()``, or the vocoder's name).
    """

    audio: List[np.ndarray]
    sentences: List[List[str]]
    mels: List[List[np.ndarray]]
    mel_lengths: List[List[int]]
    alignments: List[List[np.ndarray]]
    reached_limit: List[List[bool]]
    sampling_rate: int
    hop_length: int
    pause_samples: int
    engines: Dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.audio)

    def mel(self, index: int) -> np.ndarray:
        """The pieces' mel spectrograms of text ``index`` side by side, ``(n_mels, sum of mel_lengths)``."""
        return np.concatenate(self.mels[index], axis=1)

    def alignment(self, index: int) -> np.ndarray:
        """Block-diagonal alignment of text ``index``: ``(sum of mel_lengths, sum of piece symbol counts)``."""
        blocks = self.alignments[index]
        out = np.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)), dtype=np.float32)
        row = col = 0
        for block in blocks:
            out[row:row + block.shape[0], col:col + block.shape[1]] = block
            row, col = row + block.shape[0], col + block.shape[1]
        return out
