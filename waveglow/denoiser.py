"""Removal of WaveGlow's constant bias hiss by spectral subtraction."""
from __future__ import annotations

import torch
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
        """Audio ``(B, T)`` -> denoised audio ``(B, 1, T')`` in ``audio``'s dtype.

        ``T'`` is ``hop * (frames - 1)`` as NVIDIA's STFT inverse gives.
        """
        magnitude, phase = self.stft.transform(audio.float())
        magnitude = torch.clamp(magnitude - self.bias_spec * strength, min=0.0)
        return self.stft.inverse(magnitude, phase).to(audio.dtype)
