"""Tacotron 2 training items: (text ids, mel), as NVIDIA's ``TextMelLoader``."""
from __future__ import annotations

import os
from typing import List, Optional, Sequence, Tuple, Union

import torch
from torch.utils.data import Dataset

from .attention_targets import load_target, target_paths
from .filelist import Utterance
from .mel import MelExtractor


class TextMelDataset(Dataset):
    """Items ``(text_ids (L,) long, mel (n_mels, T), n_chars)`` for :class:`~training.data.collate.TextMelCollate`.

    Mels are computed from the WAV files, or read from ``.pt`` files when
    ``load_mel_from_disk`` (then the rows' paths name the mel files, as in
    NVIDIA's mel filelists). With ``attention_targets`` (a folder, see
    :mod:`training.data.attention_targets`) each item has a fourth entry, the
    known alignment ``(T,)`` of its mel frames.
    """

    def __init__(self, rows: Sequence[Utterance], mels: MelExtractor,
                 text_cleaners: Sequence[str] = ("english_cleaners",), load_mel_from_disk: bool = False,
                 attention_targets: Optional[Union[str, os.PathLike]] = None) -> None:
        self.rows = list(rows)
        self.mels = mels
        self.text_cleaners = tuple(text_cleaners)
        self.load_mel_from_disk = load_mel_from_disk
        self.targets = target_paths(attention_targets, self.rows) if attention_targets is not None else None

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

    def __getitem__(self, index: int) -> Tuple:
        row = self.rows[index]
        mel = self.mels.from_cache(row.path) if self.load_mel_from_disk else self.mels.from_wav(row.path)
        text_ids = self.text_ids(row.text)
        if self.targets is None:
            return text_ids, mel, len(row.text)
        return text_ids, mel, len(row.text), load_target(self.targets[row.path], mel.size(1), text_ids.numel())
