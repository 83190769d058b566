"""Short-time Fourier transform as a pair of strided convolutions.

Same semantics as the ``STFT`` class of NVIDIA's Tacotron 2 and WaveGlow code:
a periodic window centred in ``filter_length``, reflect padding of
``filter_length // 2`` on both sides, magnitude and phase out, and an inverse
that divides by the summed squared window and rescales by
``filter_length / hop_length``.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np
import torch
import torch.nn.functional as F


def real_dft_pinv_weights(filter_length: int) -> np.ndarray:
    """Row weights ``w`` with ``pinv(F) == (w[:, None] * F).T`` for the stacked real DFT basis ``F``.

    ``F`` is ``[Re; Im]`` of the first ``filter_length // 2 + 1`` DFT rows,
    ``(2 * cutoff, filter_length)``.  Its Gram matrix ``F.T @ F`` is
    ``N/2 * I`` plus half the projection onto the DC (and, for even ``N``, the
    alternating Nyquist) vector, so the pseudo-inverse is ``F.T`` scaled by
    ``2 / N``, except ``1 / N`` for the DC and Nyquist rows.  This equals
    ``np.linalg.pinv`` (NVIDIA's choice) to float64 rounding without its
    ``O(N^3)`` SVD.
    """
    cutoff = filter_length // 2 + 1
    weights = np.full(cutoff, 2.0 / filter_length)
    weights[0] = 1.0 / filter_length
    if filter_length % 2 == 0:
        weights[-1] = 1.0 / filter_length
    return np.concatenate([weights, weights])


def _fourier_bases(filter_length: int, hop_length: int, window: np.ndarray) -> Tuple[torch.Tensor, torch.Tensor]:
    """Forward and inverse DFT bases, each ``(2 * (filter_length // 2 + 1), 1, filter_length)``."""
    cutoff = filter_length // 2 + 1
    fourier = np.fft.fft(np.eye(filter_length))
    fourier = np.vstack([np.real(fourier[:cutoff, :]), np.imag(fourier[:cutoff, :])])
    scale = filter_length / hop_length
    forward_basis = torch.tensor(fourier[:, None, :], dtype=torch.float32)
    inverse = fourier * (real_dft_pinv_weights(filter_length)[:, None] / scale)
    inverse_basis = torch.tensor(inverse[:, None, :], dtype=torch.float32)
    win = torch.from_numpy(window).float()
    return forward_basis * win, inverse_basis * win


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
        forward_basis, inverse_basis = _fourier_bases(filter_length, hop_length, fft_window)
        self.register_buffer("forward_basis", forward_basis, persistent=False)
        self.register_buffer("inverse_basis", inverse_basis, persistent=False)
        self.register_buffer("window_squared", torch.from_numpy(fft_window ** 2).float(), persistent=False)

    def transform(self, audio: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Audio ``(B, T)`` -> ``(magnitude, phase)``, each ``(B, filter_length // 2 + 1, frames)``."""
        if audio.dim() != 2:
            raise ValueError(f"STFT.transform expects audio of shape (B, T), got {tuple(audio.shape)}")
        pad = self.filter_length // 2
        if audio.size(1) <= pad:
            raise ValueError(
                f"audio of {audio.size(1)} samples is too short for reflect padding of {pad}: "
                f"give at least {pad + 1} samples")
        padded = F.pad(audio.unsqueeze(1), (pad, pad), mode="reflect")
        spec = F.conv1d(padded, self.forward_basis.to(padded.dtype), stride=self.hop_length)
        cutoff = self.filter_length // 2 + 1
        real, imag = spec[:, :cutoff, :], spec[:, cutoff:, :]
        magnitude = torch.sqrt(real ** 2 + imag ** 2)
        phase = torch.atan2(imag.detach(), real.detach())
        return magnitude, phase

    def window_sum(self, n_frames: int) -> torch.Tensor:
        """Overlap-added squared window, ``(filter_length + hop_length * (n_frames - 1),)``."""
        ones = self.window_squared.new_ones(1, 1, n_frames)
        return F.conv_transpose1d(ones, self.window_squared.view(1, 1, -1), stride=self.hop_length).view(-1)

    def inverse(self, magnitude: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        """``(magnitude, phase)`` ``(B, n_freq, frames)`` -> audio ``(B, 1, hop_length * (frames - 1))``."""
        spec = torch.cat([magnitude * torch.cos(phase), magnitude * torch.sin(phase)], dim=1)
        audio = F.conv_transpose1d(spec, self.inverse_basis.to(spec.dtype), stride=self.hop_length)
        wsum = self.window_sum(magnitude.size(-1)).to(audio.dtype)
        nonzero = wsum > torch.finfo(torch.float32).tiny
        audio = torch.where(nonzero, audio / torch.where(nonzero, wsum, torch.ones_like(wsum)), audio)
        audio = audio * (float(self.filter_length) / self.hop_length)
        pad = self.filter_length // 2
        return audio[:, :, pad:-pad]

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """Round trip ``inverse(transform(audio))``: ``(B, T)`` -> ``(B, 1, T')``."""
        return self.inverse(*self.transform(audio))
