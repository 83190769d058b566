"""Mel spectrogram -> waveform for the pipeline: WaveGlow (+ denoiser) or Griffin-Lim."""
from __future__ import annotations

from typing import List, Optional, Sequence

import torch

HOP_LENGTH = 256
SAMPLING_RATE = 22050


class WaveGlowVocoder:
    """WaveGlow ``infer`` on the padded batch, trimmed per item (as DLE's ``inference.py``), then denoised.

    The denoiser (bias removal in the STFT domain) is built on first use with
    a strength > 0; it runs WaveGlow once on a silent mel to estimate the bias.
    ``fold_upsampler``, ``compute_dtype``: as for ``WaveGlow.infer`` (the
    fold is faster per second of audio after a one-off fold of a few seconds;
    ``torch.int8`` is the fastest CPU path; both for servers and long jobs).
    """

    name = "waveglow"

    def __init__(self, waveglow: torch.nn.Module, fold_upsampler: Optional[bool] = None,
                 compute_dtype: Optional[torch.dtype] = None) -> None:
        self.waveglow = waveglow
        self.fold_upsampler = fold_upsampler
        self.compute_dtype = compute_dtype
        self._denoiser: Optional[torch.nn.Module] = None

    def to(self, device: torch.device) -> "WaveGlowVocoder":
        self.waveglow = self.waveglow.to(device)
        if self._denoiser is not None:
            self._denoiser = self._denoiser.to(device)
        return self

    def _denoise(self, audio: torch.Tensor, strength: float) -> torch.Tensor:
        if strength <= 0 or audio.numel() == 0:
            return audio
        if self._denoiser is None:
            from waveglow import Denoiser

            self._denoiser = Denoiser(self.waveglow)
        return self._denoiser(audio.unsqueeze(0).float(), strength=strength).reshape(-1)[:audio.numel()]

    def __call__(self, mel: torch.Tensor, lengths: Sequence[int], *, sigma: float = 0.6,
                 denoise: float = 0.0) -> List[torch.Tensor]:
        """``mel (B, n_mels, T)`` and frame counts -> per item float32 audio ``(lengths[b] * 256,)``."""
        audio = self.waveglow.infer(mel, sigma=sigma, fold_upsampler=self.fold_upsampler,
                                    compute_dtype=self.compute_dtype).float()
        return [self._denoise(audio[b, :n * HOP_LENGTH], denoise) for b, n in enumerate(lengths)]


class GriffinLimVocoder:
    """Griffin-Lim phase reconstruction from the mel spectrogram (no vocoder weights needed).

    Wraps :class:`voice.vocoder.GriffinLimVocoder` (any mel length, fixed
    initial phase) with a :class:`audio.TacotronSTFT` of the Tacotron 2 model's
    ``n_mel_channels`` (1024/256/1024 Hann, 22050 Hz, 0-8000 Hz), run on each
    item's trimmed mel; its ``256 * (frames - 1)`` samples are padded with
    zeros to ``256 * frames`` so that every vocoder gives ``mel_length * 256``
    samples. It runs on the CPU whatever the pipeline's device (its initial phase comes
    from a CPU generator). Much lower quality than WaveGlow; ``sigma`` and ``denoise`` do not apply.
    """

    name = "griffin-lim"

    def __init__(self, n_mel_channels: int, n_iters: int = 60) -> None:
        from audio import TacotronSTFT
        from voice.vocoder import GriffinLimVocoder as _GriffinLim

        if n_iters < 1:
            raise ValueError(f"n_iters must be at least 1, got {n_iters}")
        self._griffin_lim = _GriffinLim(TacotronSTFT(n_mel_channels=n_mel_channels), n_iters=n_iters)

    def to(self, device: torch.device) -> "GriffinLimVocoder":
        """Griffin-Lim stays on the CPU; returns self."""
        return self

    def __call__(self, mel: torch.Tensor, lengths: Sequence[int], *, sigma: float = 0.0,
                 denoise: float = 0.0) -> List[torch.Tensor]:
        """``mel (B, n_mels, T)`` and frame counts -> per item float32 audio ``(lengths[b] * 256,)``."""
        out = []
        for b, n in enumerate(lengths):
            if n == 0:
                out.append(mel.new_zeros(0, dtype=torch.float32))
                continue
            audio = self._griffin_lim(mel[b:b + 1, :, :n].float().cpu()).reshape(-1)
            out.append(torch.nn.functional.pad(audio, (0, n * HOP_LENGTH - audio.numel())))
        return out
