"""Batching with padding, as NVIDIA's ``TextMelCollate`` and WaveGlow's default collation."""
from __future__ import annotations

from typing import List, Sequence, Tuple

import torch

TextMelItem = Tuple[torch.Tensor, torch.Tensor, int]
TextMelBatch = Tuple[torch.Tensor, ...]


class TextMelCollate:
    """Zero-pad text ids and mels; sort by text length, longest first; build gate targets.

    Each item is ``(text_ids (L,), mel (n_mels, T), n_chars)``. Returns
    ``(text_padded (B, L_max) long, input_lengths (B,) long, mel_padded
    (B, n_mels, T_max) float, gate_padded (B, T_max) float, output_lengths (B,)
    long, n_chars (B,) float)`` where ``T_max`` is rounded up to a multiple of
    ``n_frames_per_step`` and the gate is 1 from each item's last real frame on.
    Items with a fourth entry, a known alignment ``(T,)``, add a seventh:
    ``positions (B, T_max)`` float, -1 on padded frames.
    """

    def __init__(self, n_frames_per_step: int = 1) -> None:
        if n_frames_per_step < 1:
            raise ValueError(f"n_frames_per_step must be >= 1, got {n_frames_per_step}")
        self.n_frames_per_step = n_frames_per_step

    def __call__(self, batch: Sequence[TextMelItem]) -> TextMelBatch:
        if not batch:
            raise ValueError("cannot collate an empty batch")
        input_lengths, order = torch.sort(torch.tensor([len(item[0]) for item in batch], dtype=torch.long),
                                          descending=True)
        n_mels = batch[0][1].size(0)
        max_frames = max(item[1].size(1) for item in batch)
        max_frames += (-max_frames) % self.n_frames_per_step
        text_padded = torch.zeros(len(batch), int(input_lengths[0]), dtype=torch.long)
        mel_padded = torch.zeros(len(batch), n_mels, max_frames)
        gate_padded = torch.zeros(len(batch), max_frames)
        output_lengths = torch.zeros(len(batch), dtype=torch.long)
        for row, index in enumerate(order.tolist()):
            text, mel = batch[index][:2]
            if mel.size(0) != n_mels:
                raise ValueError(f"batch mixes mels of {n_mels} and {mel.size(0)} channels")
            text_padded[row, :text.size(0)] = text
            mel_padded[row, :, :mel.size(1)] = mel
            gate_padded[row, mel.size(1) - 1:] = 1
            output_lengths[row] = mel.size(1)
        n_chars = torch.tensor([float(item[2]) for item in batch])
        if len(batch[0]) < 4:
            return text_padded, input_lengths, mel_padded, gate_padded, output_lengths, n_chars
        positions = torch.full((len(batch), max_frames), -1.0)
        for row, index in enumerate(order.tolist()):
            target = batch[index][3]
            positions[row, :target.size(0)] = target
        return text_padded, input_lengths, mel_padded, gate_padded, output_lengths, n_chars, positions


def collate_mel_audio(batch: Sequence[Tuple[torch.Tensor, torch.Tensor, int]]
                      ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Stack WaveGlow items ``(mel (n_mels, F), audio (segment_length,), length)``.

    Returns ``(mel (B, n_mels, F), audio (B, segment_length), lengths (B,) long)``.
    """
    if not batch:
        raise ValueError("cannot collate an empty batch")
    mels: List[torch.Tensor] = [item[0] for item in batch]
    audios: List[torch.Tensor] = [item[1] for item in batch]
    return torch.stack(mels), torch.stack(audios), torch.tensor([int(item[2]) for item in batch])
