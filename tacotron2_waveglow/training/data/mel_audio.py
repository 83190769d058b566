"""WaveGlow training items: a random audio segment and its mel, as NVIDIA's ``mel2samp``."""
from __future__ import annotations

import random
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from .filelist import Utterance
from .mel import MelExtractor


class MelAudioDataset(Dataset):
    """Items ``(mel (n_mels, F), audio (segment_length,), segment_length)``.

    Clips at least ``segment_length`` samples long give a segment starting at
    a random offset; shorter ones are zero-padded at the end. The offset is
    drawn from a generator seeded by ``(seed, epoch, index)``, so the data are
    the same whatever the number of loader workers and after a resume; call
    :meth:`set_epoch` at the start of each epoch.
    """

    def __init__(self, rows: Sequence[Utterance], mels: MelExtractor, segment_length: int = 16000,
                 seed: int = 1234) -> None:
        if segment_length < 1:
            raise ValueError(f"segment_length must be positive, got {segment_length}")
        self.rows = list(rows)
        self.mels = mels
        self.segment_length = segment_length
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the random segments of ``epoch``."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.rows)

    def segment(self, audio: torch.Tensor, index: int) -> torch.Tensor:
        """``segment_length`` samples of ``audio (T,)``: a random window, or zero-padded."""
        if audio.size(0) >= self.segment_length:
            rng = random.Random(f"{self.seed}/{self.epoch}/{index}")
            start = rng.randint(0, audio.size(0) - self.segment_length)
            return audio[start:start + self.segment_length]
        return F.pad(audio, (0, self.segment_length - audio.size(0)))

    def __getitem__(self, index: int) -> Tuple[torch.Tensor, torch.Tensor, int]:
        audio = self.segment(self.mels.load_audio(self.rows[index].path), index)
        return self.mels.from_audio(audio), audio, self.segment_length
