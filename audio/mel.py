"""``TacotronSTFT``: log-mel features identical to NVIDIA's Tacotron 2 front end."""
from __future__ import annotations

from typing import Optional

import torch

from .dynamic_range import dynamic_range_compression, dynamic_range_decompression
from .mel_basis import mel_basis_pinv, mel_filterbank
from .stft import STFT


def check_audio_range(y: torch.Tensor) -> None:
    """Raise ``ValueError`` unless every sample of ``y`` is finite and in ``[-1, 1]``."""
    if y.numel() == 0:
        raise ValueError(f"audio is empty (shape {tuple(y.shape)})")
    values = y.detach()
    if not bool(torch.isfinite(values).all()):
        bad = int((~torch.isfinite(values)).sum())
        raise ValueError(f"audio contains {bad} NaN/Inf samples; clean the signal before computing features")
    low, high = torch.aminmax(values)
    if low < -1 or high > 1:
        raise ValueError(
            f"audio must lie in [-1, 1] but ranges over [{float(low):.6g}, {float(high):.6g}]; "
            f"integer PCM must be divided by its full scale (32768 for int16) or use audio.load_wav")


class TacotronSTFT(torch.nn.Module):
    """Log-mel spectrogram exactly as NVIDIA's ``TacotronSTFT``.

    STFT magnitude (Hann window, reflect padding, see :class:`audio.STFT`),
    projected with a Slaney mel basis, then ``log(clamp(mel, min=1e-5))``.

    Args:
        filter_length: FFT size.
        hop_length: samples between frames.
        win_length: analysis window length.
        n_mel_channels: number of mel bands.
        sampling_rate: sampling rate of the audio in Hz.
        mel_fmin: lowest mel band edge in Hz.
        mel_fmax: highest mel band edge in Hz (``None``: ``sampling_rate / 2``).

    Attributes:
        stft_fn: the :class:`audio.STFT` used (also what Griffin-Lim needs).
        mel_basis: buffer ``(n_mel_channels, filter_length // 2 + 1)``.
    """

    mel_basis: torch.Tensor

    def __init__(self, filter_length: int = 1024, hop_length: int = 256, win_length: int = 1024,
                 n_mel_channels: int = 80, sampling_rate: int = 22050, mel_fmin: float = 0.0,
                 mel_fmax: Optional[float] = 8000.0) -> None:
        super().__init__()
        self.n_mel_channels = n_mel_channels
        self.sampling_rate = sampling_rate
        self.stft_fn = STFT(filter_length, hop_length, win_length)
        self.register_buffer(
            "mel_basis", mel_filterbank(sampling_rate, filter_length, n_mel_channels, mel_fmin, mel_fmax))

    def mel_basis_inverse(self) -> torch.Tensor:
        """Pseudo-inverse of ``mel_basis`` ``(n_freq, n_mels)``, float64, cached.

        The cache is keyed on the buffer's identity and version counter, so
        loading or editing ``mel_basis`` recomputes it.
        """
        key = (self.mel_basis.data_ptr(), self.mel_basis._version, self.mel_basis.device)
        cached = self.__dict__.get("_mel_basis_inverse")
        if cached is None or cached[0] != key:
            cached = (key, mel_basis_pinv(self.mel_basis))
            self.__dict__["_mel_basis_inverse"] = cached
        return cached[1]

    def spectral_normalize(self, magnitudes: torch.Tensor) -> torch.Tensor:
        """Linear magnitudes -> natural-log magnitudes (clamped at 1e-5); any shape."""
        return dynamic_range_compression(magnitudes)

    def spectral_de_normalize(self, magnitudes: torch.Tensor) -> torch.Tensor:
        """Log magnitudes -> linear magnitudes (``exp``); any shape."""
        return dynamic_range_decompression(magnitudes)

    def mel_spectrogram(self, y: torch.Tensor) -> torch.Tensor:
        """Audio ``(B, T)`` in ``[-1, 1]`` -> log mel ``(B, n_mel_channels, 1 + T // hop_length)``.

        Raises ``ValueError`` for samples outside ``[-1, 1]`` (as the reference's
        assertion) or NaN/Inf.  Unlike the reference, gradients flow to ``y``.
        """
        check_audio_range(y)
        magnitudes, _ = self.stft_fn.transform(y)
        mel = torch.matmul(self.mel_basis.to(magnitudes.dtype), magnitudes)
        return self.spectral_normalize(mel)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`mel_spectrogram`: ``(B, T)`` -> ``(B, n_mel_channels, frames)``."""
        return self.mel_spectrogram(y)
