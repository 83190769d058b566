"""Slaney-style mel filterbank and its non-negative pseudo-inverse."""
from __future__ import annotations

from typing import Optional

import librosa
import torch


def mel_filterbank(sampling_rate: int = 22050, filter_length: int = 1024, n_mel_channels: int = 80,
                   mel_fmin: float = 0.0, mel_fmax: Optional[float] = 8000.0) -> torch.Tensor:
    """Mel filterbank ``(n_mel_channels, filter_length // 2 + 1)`` in float32.

    The same matrix NVIDIA's ``TacotronSTFT`` uses: ``librosa.filters.mel`` with
    its defaults (``htk=False``, ``norm='slaney'``), i.e. Slaney's mel scale with
    area-normalised triangles.  ``mel_fmax=None`` means ``sampling_rate / 2``.
    """
    nyquist = sampling_rate / 2
    top = nyquist if mel_fmax is None else mel_fmax
    if sampling_rate <= 0:
        raise ValueError(f"sampling_rate must be positive, got {sampling_rate}")
    if n_mel_channels <= 0:
        raise ValueError(f"n_mel_channels must be positive, got {n_mel_channels}")
    if not 0 <= mel_fmin < top <= nyquist:
        raise ValueError(
            f"need 0 <= mel_fmin < mel_fmax <= sampling_rate / 2 = {nyquist}, got mel_fmin={mel_fmin}, "
            f"mel_fmax={mel_fmax}; lower mel_fmax or raise the sampling rate")
    basis = librosa.filters.mel(sr=sampling_rate, n_fft=filter_length, n_mels=n_mel_channels,
                                fmin=mel_fmin, fmax=mel_fmax)
    return torch.from_numpy(basis).float()


def mel_basis_pinv(mel_basis: torch.Tensor) -> torch.Tensor:
    """Pseudo-inverse ``(n_freq, n_mels)`` of a mel basis, computed in float64."""
    return torch.linalg.pinv(mel_basis.double())


def mel_to_linear(mel_magnitudes: torch.Tensor, mel_basis: torch.Tensor,
                  inverse: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Approximate linear magnitudes from mel magnitudes by the basis pseudo-inverse.

    ``clamp(pinv(mel_basis) @ mel, min=0)``: the least-squares (minimum-norm)
    solution of ``mel_basis @ S = mel``, with the negative values it produces
    set to zero because magnitudes cannot be negative.  Bins above ``mel_fmax``
    (not covered by any filter) come out as zero.  The pseudo-inverse is taken
    in float64 for stability.

    Args:
        mel_magnitudes: linear (not log) mel magnitudes ``(B, n_mels, frames)``.
        mel_basis: ``(n_mels, n_freq)`` as from :func:`mel_filterbank`.
        inverse: its pseudo-inverse when already known (for example
            :meth:`audio.TacotronSTFT.mel_basis_inverse`), to skip recomputing it.

    Returns:
        ``(B, n_freq, frames)`` in the dtype of ``mel_magnitudes``.
    """
    if mel_magnitudes.dim() != 3 or mel_magnitudes.size(1) != mel_basis.size(0):
        raise ValueError(
            f"expected mel magnitudes of shape (B, {mel_basis.size(0)}, frames), got {tuple(mel_magnitudes.shape)}")
    if inverse is None:
        inverse = mel_basis_pinv(mel_basis)
    inverse = inverse.to(device=mel_magnitudes.device, dtype=mel_magnitudes.dtype)
    return torch.clamp(torch.matmul(inverse, mel_magnitudes), min=0.0)
