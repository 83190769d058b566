"""Mel spectrogram -> waveform for the pipeline: WaveGlow (+ denoiser) or Griffin-Lim."""
from __future__ import annotations

from typing import Optional

import torch

HOP_LENGTH = 256
SAMPLING_RATE = 22050


class WaveGlowVocoder:
    """WaveGlow ``infer`` with an optional NVIDIA denoiser (bias removal in the STFT domain).

    The denoiser is built on first use with a strength > 0 (it runs WaveGlow
    once on a silent mel to estimate the bias).
    """

    name = "waveglow"

    def __init__(self, waveglow: torch.nn.Module) -> None:
        self.waveglow = waveglow
        self._denoiser: Optional[torch.nn.Module] = None

    def to(self, device: torch.device) -> "WaveGlowVocoder":
        self.waveglow = self.waveglow.to(device)
        if self._denoiser is not None:
            self._denoiser = self._denoiser.to(device)
        return self

    def _get_denoiser(self) -> torch.nn.Module:
        if self._denoiser is None:
            from waveglow import Denoiser

            device = next(self.waveglow.parameters()).device
            self._denoiser = Denoiser(self.waveglow).to(device)
        return self._denoiser

    def __call__(self, mel: torch.Tensor, *, sigma: float = 0.6) -> torch.Tensor:
        """``mel (B, n_mels, T)`` -> audio ``(B, T * 256)`` float32."""
        return self.waveglow.infer(mel, sigma=sigma).float()

    def denoise(self, audio: torch.Tensor, strength: float) -> torch.Tensor:
        """Denoise ``audio (T,)``; returns ``(T,)``. ``strength`` 0 returns it unchanged."""
        if strength <= 0:
            return audio
        return self._get_denoiser()(audio.unsqueeze(0).float(), strength=strength).reshape(-1)


class GriffinLimVocoder:
    """Griffin-Lim phase reconstruction from the mel spectrogram (no vocoder weights needed).

    Uses a :class:`audio.TacotronSTFT` with the Tacotron 2 model's
    ``n_mel_channels`` (1024/256/1024 Hann, 22050 Hz, 0-8000 Hz) to map the
    natural-log mel back to a linear magnitude spectrogram, then ``n_iters``
    Griffin-Lim iterations. Much lower quality than WaveGlow.
    """

    name = "griffin-lim"

    def __init__(self, n_mel_channels: int, n_iters: int = 60) -> None:
        from audio import TacotronSTFT

        if n_iters < 1:
            raise ValueError(f"n_iters must be at least 1, got {n_iters}")
        self.n_iters = n_iters
        self.stft = TacotronSTFT(n_mel_channels=n_mel_channels)

    def to(self, device: torch.device) -> "GriffinLimVocoder":
        self.stft = self.stft.to(device)
        return self

    def __call__(self, mel: torch.Tensor, *, sigma: float = 0.0) -> torch.Tensor:
        """``mel (B, n_mels, T)`` -> audio ``(B, ~T * 256)`` float32; ``sigma`` is ignored."""
        from audio import mel_to_audio_griffin_lim

        return mel_to_audio_griffin_lim(mel.float(), self.stft, n_iters=self.n_iters).reshape(mel.shape[0], -1)

    def denoise(self, audio: torch.Tensor, strength: float) -> torch.Tensor:
        """Griffin-Lim output is not denoised; returns ``audio`` unchanged."""
        return audio
