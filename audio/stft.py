"""Short-time Fourier transform with the semantics of NVIDIA's ``STFT`` class, computed by FFT.

NVIDIA's Tacotron 2 and WaveGlow code multiply frames by an explicit DFT basis
(strided convolutions, ``O(N^2)`` per frame) and invert with the basis'
pseudo-inverse. This module gives the same numbers to float rounding from
``torch.stft`` and ``torch.fft.irfft`` (``O(N log N)``; a transform and inverse
take 2.4 instead of 4.3 ms per second of audio for ``filter_length=1024`` on
two threads, and Griffin-Lim is mostly that): a periodic
window centred in ``filter_length``, reflect padding of ``filter_length // 2``
on both sides, magnitude and phase out, and an inverse that overlap-adds the
windowed frames, divides by the summed squared window where it is non-zero
and trims the padding. The pseudo-inverse of the stacked ``[Re; Im]`` real DFT
basis is the real inverse FFT (the imaginary parts of the DC and Nyquist bins
drop out of both), which the tests check against ``np.linalg.pinv``.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np
import torch
import torch.nn.functional as F


def periodic_window(window: str, win_length: int, filter_length: int) -> np.ndarray:
    """``librosa.util.pad_center(scipy.signal.get_window(window, win_length, fftbins=True), size=filter_length)``.

    ``"hann"`` (every NVIDIA model) is computed here with scipy's own
    operations, bit for bit (tested against scipy), because importing
    scipy.signal and librosa costs about two seconds at start-up; other window
    names go to scipy. Returns float64 ``(filter_length,)``.
    """
    if window == "hann" and win_length > 1:
        angle = np.linspace(-np.pi, np.pi, win_length + 1, dtype=np.float64)
        values = np.zeros(win_length + 1, dtype=np.float64)
        for k, coefficient in enumerate(np.asarray([0.5, 0.5], dtype=np.float64)):
            values += coefficient * np.cos(k * angle)  # scipy's general_cosine
        values = values[:-1]  # periodic (DFT-even): one sample longer, then truncated
    else:
        from scipy.signal import get_window

        values = get_window(window, win_length, fftbins=True)
    left = (filter_length - win_length) // 2
    return np.pad(values, (left, filter_length - win_length - left))


class STFT(torch.nn.Module):
    """STFT and inverse STFT with NVIDIA's conventions.

    Args:
        filter_length: FFT size (``n_fft``).
        hop_length: samples between frames.
        win_length: window length, centred and zero-padded to ``filter_length``.
        window: a window name understood by :func:`scipy.signal.get_window`
            (periodic, as ``fftbins=True``).
    """

    def __init__(self, filter_length: int = 1024, hop_length: int = 256, win_length: int = 1024,
                 window: str = "hann") -> None:
        super().__init__()
        if win_length > filter_length:
            raise ValueError(f"win_length ({win_length}) must not exceed filter_length ({filter_length})")
        if hop_length <= 0:
            raise ValueError(f"hop_length must be positive, got {hop_length}")
        self.filter_length = filter_length
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        fft_window = periodic_window(window, win_length, filter_length)
        self.register_buffer("fft_window", torch.from_numpy(fft_window).float(), persistent=False)

    def transform(self, audio: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Audio ``(B, T)`` -> ``(magnitude, phase)``, each ``(B, filter_length // 2 + 1, frames)``.

        ``frames = 1 + T // hop_length``. Float32 and float64 are computed in
        their own dtype; other floating dtypes in float32 and cast back.
        """
        if audio.dim() != 2:
            raise ValueError(f"STFT.transform expects audio of shape (B, T), got {tuple(audio.shape)}")
        pad = self.filter_length // 2
        if audio.size(1) <= pad:
            raise ValueError(
                f"audio of {audio.size(1)} samples is too short for reflect padding of {pad}: "
                f"give at least {pad + 1} samples")
        work = audio if audio.dtype in (torch.float32, torch.float64) else audio.float()
        spec = torch.stft(work, self.filter_length, self.hop_length, window=self.fft_window.to(work.dtype),
                          center=True, pad_mode="reflect", normalized=False, onesided=True, return_complex=True)
        real, imag = spec.real, spec.imag
        magnitude = torch.sqrt(real ** 2 + imag ** 2)
        phase = torch.atan2(imag.detach(), real.detach())
        return magnitude.to(audio.dtype), phase.to(audio.dtype)

    def window_sum(self, n_frames: int) -> torch.Tensor:
        """Overlap-added squared window, ``(filter_length + hop_length * (n_frames - 1),)``."""
        squared = self.fft_window ** 2
        ones = squared.new_ones(1, 1, n_frames)
        return F.conv_transpose1d(ones, squared.view(1, 1, -1), stride=self.hop_length).view(-1)

    def inverse(self, magnitude: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        """``(magnitude, phase)`` ``(B, n_freq, frames)`` -> audio ``(B, 1, hop_length * (frames - 1))``."""
        dtype = magnitude.dtype
        work = torch.float64 if dtype == torch.float64 else torch.float32
        spec = torch.polar(magnitude.to(work), phase.to(work))
        frames = torch.fft.irfft(spec, n=self.filter_length, dim=1) * self.fft_window.to(work)[:, None]
        n_frames = magnitude.size(-1)
        length = self.filter_length + self.hop_length * (n_frames - 1)
        audio = F.fold(frames, output_size=(1, length), kernel_size=(1, self.filter_length),
                       stride=(1, self.hop_length)).view(magnitude.size(0), 1, length)
        wsum = self.window_sum(n_frames).to(work)  # in the window's dtype, as NVIDIA's
        nonzero = wsum > torch.finfo(torch.float32).tiny
        audio = torch.where(nonzero, audio / torch.where(nonzero, wsum, torch.ones_like(wsum)), audio)
        pad = self.filter_length // 2
        return audio[:, :, pad:length - pad].to(dtype)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """Round trip ``inverse(transform(audio))``: ``(B, T)`` -> ``(B, 1, T')``."""
        return self.inverse(*self.transform(audio))
