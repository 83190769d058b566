"""Removal of WaveGlow's constant bias hiss by spectral subtraction."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from audio.stft import STFT

BIAS_FRAMES = 88


class Denoiser(nn.Module):
    """Subtract ``strength`` times the spectrum WaveGlow produces for a silent mel.

    The bias spectrum is the first STFT frame of
    ``waveglow.infer(mel, sigma=0)``, ``mel`` being zeros (``mode='zeros'``)
    or standard normal (``mode='normal'``) of shape ``(1, n_mel_channels, 88)``,
    made on the waveglow's device and dtype, as NVIDIA's ``Denoiser``.

    Args:
        waveglow: a :class:`~waveglow.WaveGlow`.
        filter_length: FFT size.
        n_overlap: frames per window; the hop is ``filter_length // n_overlap``.
        win_length: Hann window length.
        mode: ``'zeros'`` or ``'normal'``.
    """

    def __init__(self, waveglow: nn.Module, filter_length: int = 1024, n_overlap: int = 4,
                 win_length: int = 1024, mode: str = "zeros") -> None:
        super().__init__()
        if mode not in ("zeros", "normal"):
            raise ValueError(f"mode must be 'zeros' or 'normal', got {mode!r}")
        weight = waveglow.upsample.weight
        self.stft = STFT(filter_length=filter_length, hop_length=filter_length // n_overlap,
                         win_length=win_length).to(weight.device)
        shape = (1, waveglow.upsample.in_channels, BIAS_FRAMES)
        if mode == "zeros":
            mel = torch.zeros(shape, dtype=weight.dtype, device=weight.device)
        else:
            mel = torch.randn(shape, dtype=weight.dtype, device=weight.device)
        # sigma = 0 makes the noise irrelevant: pass zeros so the global RNG is left alone.
        z = torch.zeros(1, waveglow.n_group, BIAS_FRAMES * 256 // waveglow.n_group,
                        dtype=weight.dtype, device=weight.device)
        with torch.no_grad():
            bias_audio = waveglow.infer(mel, sigma=0.0, z=z).float()
            bias_spec, _ = self.stft.transform(bias_audio)
        self.register_buffer("bias_spec", bias_spec[:, :, :1])

    def forward(self, audio: torch.Tensor, strength: float = 0.1) -> torch.Tensor:
        """Audio ``(B, T)``, ``T >= 1`` -> denoised audio ``(B, 1, T')`` in ``audio``'s dtype.

        ``T'`` is ``hop * (frames - 1)`` as NVIDIA's STFT inverse gives (``T``
        itself when ``T`` is a multiple of the hop, as WaveGlow's output is).
        Audio too short for the STFT's reflect padding (NVIDIA's denoiser fails
        there: one or two mel frames, 256 or 512 samples) is zero-padded to
        ``filter_length`` samples, denoised and cut back to ``T``.
        """
        if audio.dim() != 2 or audio.size(1) < 1:
            raise ValueError(f"Denoiser expects audio of shape (B, T) with T >= 1, got {tuple(audio.shape)}")
        length = audio.size(1)
        short = length <= self.stft.filter_length // 2
        samples = F.pad(audio.float(), (0, self.stft.filter_length - length)) if short else audio.float()
        magnitude, phase = self.stft.transform(samples)
        magnitude = torch.clamp(magnitude - self.bias_spec * strength, min=0.0)
        denoised = self.stft.inverse(magnitude, phase)
        return (denoised[..., :length] if short else denoised).to(audio.dtype)
