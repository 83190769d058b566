"""Slaney-style mel filterbank and its non-negative pseudo-inverse."""
from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
import torch

# Slaney's mel scale (as librosa's htk=False): linear below 1 kHz, logarithmic above.
_MEL_LINEAR_HZ_PER_MEL = 200.0 / 3
_MEL_LOG_START_HZ = 1000.0
_MEL_LOG_START_MEL = _MEL_LOG_START_HZ / _MEL_LINEAR_HZ_PER_MEL
_MEL_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_mel(hz: float) -> np.ndarray:
    """Slaney mel of one frequency, computed as ``librosa.hz_to_mel(hz)`` does (0-d float64)."""
    hz = np.asanyarray(hz)
    mel = (hz - 0.0) / _MEL_LINEAR_HZ_PER_MEL
    if hz >= _MEL_LOG_START_HZ:
        mel = _MEL_LOG_START_MEL + np.log(hz / _MEL_LOG_START_HZ) / _MEL_LOG_STEP
    return mel


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    """Frequencies ``(N,)`` of Slaney mels ``(N,)``, computed as ``librosa.mel_to_hz`` does."""
    hz = 0.0 + _MEL_LINEAR_HZ_PER_MEL * mels
    log_part = mels >= _MEL_LOG_START_MEL
    hz[log_part] = _MEL_LOG_START_HZ * np.exp(_MEL_LOG_STEP * (mels[log_part] - _MEL_LOG_START_MEL))
    return hz


def _slaney_filterbank(sampling_rate: float, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """``librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax)`` (float32, slaney norm), without librosa.

    The same operations in the same order and dtypes, so the matrix is
    bit-for-bit librosa's (tested against it); importing librosa costs about a
    second at start-up.
    """
    weights = np.zeros((n_mels, 1 + n_fft // 2), dtype=np.float32)
    fft_hz = np.fft.rfftfreq(n=n_fft, d=1.0 / sampling_rate)
    mel_hz = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    widths = np.diff(mel_hz)
    ramps = np.subtract.outer(mel_hz, fft_hz)
    for i in range(n_mels):
        rising = -ramps[i] / widths[i]
        falling = ramps[i + 2] / widths[i + 1]
        weights[i] = np.maximum(0, np.minimum(rising, falling))
    weights *= (2.0 / (mel_hz[2:n_mels + 2] - mel_hz[:n_mels]))[:, np.newaxis]
    if not np.all((mel_hz[:-2] == 0) | (weights.max(axis=1) > 0)):
        warnings.warn(
            "Empty filters detected in mel frequency basis: some mel channels will be silent; "
            "raise the sampling rate (and mel_fmax) or lower n_mel_channels", stacklevel=3)
    return weights


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
    basis = _slaney_filterbank(sampling_rate, filter_length, n_mel_channels, mel_fmin, top)
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
