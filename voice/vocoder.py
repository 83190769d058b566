"""Griffin-Lim as a vocoder callable that accepts any mel length."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from audio import TacotronSTFT, mel_to_audio_griffin_lim


class GriffinLimVocoder:
    """Log mel ``(B, n_mels, T)`` -> audio ``(B, hop_length * (T - 1))`` by Griffin-Lim.

    :func:`audio.mel_to_audio_griffin_lim` needs a few frames for its STFT's
    reflect padding; shorter mels (an untrained model often stops after one or
    two frames) are padded with silence (``log(1e-5)``) and the output is cut
    back to the length their own frames give, so every ``T >= 1`` works.

    Args:
        taco_stft: the mel extractor the mels were made with.
        n_iters: Griffin-Lim iterations.
        seed: seed of the initial random phase (each call starts from it).
    """

    def __init__(self, taco_stft: TacotronSTFT, n_iters: int = 30, seed: Optional[int] = 0) -> None:
        self.taco_stft = taco_stft
        self.n_iters = n_iters
        self.seed = seed

    def _min_frames(self) -> int:
        stft = self.taco_stft.stft_fn
        return stft.filter_length // (2 * stft.hop_length) + 2

    def __call__(self, mel: Tensor) -> Tensor:
        if mel.dim() != 3 or mel.shape[-1] < 1:
            raise ValueError(f"mel must be (B, n_mels, T) with T >= 1, got {tuple(mel.shape)}")
        frames = mel.shape[-1]
        missing = self._min_frames() - frames
        if missing > 0:
            silence = torch.full((*mel.shape[:2], missing), torch.log(torch.tensor(1e-5)).item(),
                                 dtype=mel.dtype, device=mel.device)
            mel = torch.cat([mel, silence], dim=-1)
        generator = None if self.seed is None else torch.Generator().manual_seed(self.seed)
        audio = mel_to_audio_griffin_lim(mel, self.taco_stft, self.n_iters, generator=generator)
        return audio[..., : self.taco_stft.stft_fn.hop_length * (frames - 1)]
