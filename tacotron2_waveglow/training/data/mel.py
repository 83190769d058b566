"""Mel spectrograms for training: computed with ``audio.TacotronSTFT`` or loaded from ``.pt`` files."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Union

import torch



@dataclass(frozen=True)
class MelSettings:
    """STFT / mel parameters; defaults are NVIDIA's (22050 Hz, 1024/256/1024, 80 mels, 0-8000 Hz)."""

    sampling_rate: int = 22050
    filter_length: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_mel_channels: int = 80
    mel_fmin: float = 0.0
    mel_fmax: float = 8000.0

    def to_dict(self) -> dict:
        return asdict(self)


class MelExtractor:
    """Audio -> log-mel exactly as NVIDIA's loaders, plus safe loading of cached mels."""

    def __init__(self, settings: MelSettings = MelSettings()) -> None:
        from audio import TacotronSTFT
        self.settings = settings
        self.stft = TacotronSTFT(filter_length=settings.filter_length, hop_length=settings.hop_length,
                                 win_length=settings.win_length, n_mel_channels=settings.n_mel_channels,
                                 sampling_rate=settings.sampling_rate, mel_fmin=settings.mel_fmin,
                                 mel_fmax=settings.mel_fmax)

    @torch.no_grad()
    def from_audio(self, audio: torch.Tensor) -> torch.Tensor:
        """``audio (T,)`` in ``[-1, 1]`` -> mel ``(n_mels, frames)``."""
        return self.stft.mel_spectrogram(audio.unsqueeze(0)).squeeze(0)

    def load_audio(self, path: Union[str, os.PathLike]) -> torch.Tensor:
        """Audio ``(T,)`` in ``[-1, 1]``; ``ValueError`` for a wrong rate, stereo, empty or corrupt file."""
        from audio import load_wav
        return load_wav(path, expected_sampling_rate=self.settings.sampling_rate)

    def from_wav(self, path: Union[str, os.PathLike]) -> torch.Tensor:
        """Mel ``(n_mels, frames)`` of the WAV file at ``path``."""
        return self.from_audio(self.load_audio(path))

    def from_cache(self, path: Union[str, os.PathLike]) -> torch.Tensor:
        """A mel ``(n_mels, frames)`` saved with ``torch.save``, read with ``weights_only=True``."""
        mel = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(mel, torch.Tensor) or mel.dim() != 2 or mel.size(0) != self.settings.n_mel_channels:
            shape = tuple(mel.shape) if isinstance(mel, torch.Tensor) else type(mel).__name__
            raise ValueError(f"mel file {str(path)!r} holds {shape}; expected a ({self.settings.n_mel_channels}, "
                             "frames) tensor (re-run python -m tacotron2_waveglow.training.preprocess)")
        return mel.float()
