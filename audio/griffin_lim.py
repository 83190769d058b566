"""Griffin-Lim phase reconstruction, as NVIDIA's ``audio_processing.griffin_lim``."""
from __future__ import annotations

from typing import Optional, Sequence, Union

import numpy as np
import torch

from .mel import TacotronSTFT
from .mel_basis import mel_to_linear
from .stft import STFT

Generator = Union[torch.Generator, np.random.Generator]


def random_phase(shape: Sequence[int], generator: Optional[Generator] = None) -> torch.Tensor:
    """Uniform random phase ``angle(exp(2j * pi * u))`` in ``(-pi, pi]``, float32 CPU, of ``shape``.

    With ``generator=None`` the uniform draw ``u`` comes from NumPy's global
    legacy generator (``np.random.rand``), exactly as NVIDIA's reference, so
    ``np.random.seed(s)`` before the call reproduces the reference's phases.
    A ``torch.Generator`` (drawing ``torch.rand`` in float64) or a
    ``np.random.Generator`` gives a draw that touches no global state.
    """
    shape = tuple(int(s) for s in shape)
    if generator is None:
        uniform = np.random.rand(*shape)
    elif isinstance(generator, np.random.Generator):
        uniform = generator.random(shape)
    elif isinstance(generator, torch.Generator):
        uniform = torch.rand(shape, generator=generator, dtype=torch.float64,
                             device=generator.device).cpu().numpy()
    else:
        raise TypeError(
            f"generator must be None, a torch.Generator or a numpy.random.Generator, got {type(generator).__name__}")
    return torch.from_numpy(np.angle(np.exp(2j * np.pi * uniform)).astype(np.float32))


def griffin_lim(magnitudes: torch.Tensor, stft_fn: STFT, n_iters: int = 30, *,
                generator: Optional[Generator] = None,
                initial_phase: Optional[torch.Tensor] = None, momentum: float = 0.0) -> torch.Tensor:
    """Estimate a signal whose STFT magnitude is ``magnitudes``.

    Starts from a random phase (see :func:`random_phase`; or ``initial_phase``
    when given), then ``n_iters`` times keeps the phase of the STFT of the
    current signal and re-synthesises with the target magnitudes, as NVIDIA's
    reference (``momentum=0``).

    ``momentum > 0`` is fast Griffin-Lim (Perraudin, Balazs and Sondergaard,
    2013) as ``librosa.griffinlim`` computes it: the phase is taken from
    ``X_k - momentum / (1 + momentum) * X_{k-1}``, where ``X_k`` is the complex
    STFT of iteration ``k``'s signal (librosa's default ``momentum=0.99``).

    Args:
        magnitudes: target STFT magnitudes ``(B, filter_length // 2 + 1, frames)``.
        stft_fn: the :class:`STFT` that defines the transform.
        n_iters: number of projection iterations (0 returns the random-phase signal).
        generator: source of the initial phase; ``None`` uses NumPy's global
            generator so that ``np.random.seed`` reproduces the reference.
        initial_phase: optional starting phase with the shape of ``magnitudes``.
        momentum: fast Griffin-Lim's extrapolation (0 plain Griffin-Lim; 0.99 librosa's default).

    Returns:
        Audio ``(B, hop_length * (frames - 1))`` in the dtype of ``magnitudes``.
    """
    n_freq = stft_fn.filter_length // 2 + 1
    if magnitudes.dim() != 3 or magnitudes.size(1) != n_freq:
        raise ValueError(
            f"magnitudes must have shape (B, {n_freq}, frames) for filter_length {stft_fn.filter_length}, "
            f"got {tuple(magnitudes.shape)}")
    if n_iters < 0:
        raise ValueError(f"n_iters must be >= 0, got {n_iters}")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum must be in [0, 1] (0.99 is fast Griffin-Lim's usual value), got {momentum}")
    if initial_phase is None:
        initial_phase = random_phase(magnitudes.shape, generator)
    elif initial_phase.shape != magnitudes.shape:
        raise ValueError(
            f"initial_phase shape {tuple(initial_phase.shape)} differs from magnitudes {tuple(magnitudes.shape)}")
    angles = initial_phase.to(device=magnitudes.device, dtype=magnitudes.dtype)
    signal = stft_fn.inverse(magnitudes, angles).squeeze(1)
    previous: Optional[torch.Tensor] = None
    for _ in range(n_iters):
        rebuilt_magnitudes, angles = stft_fn.transform(signal)
        if momentum > 0:
            rebuilt = torch.polar(rebuilt_magnitudes, angles)
            if previous is not None:
                angles = torch.angle(rebuilt - (momentum / (1.0 + momentum)) * previous)
            previous = rebuilt
        signal = stft_fn.inverse(magnitudes, angles).squeeze(1)
    return signal


def mel_to_audio_griffin_lim(mel: torch.Tensor, taco_stft: TacotronSTFT, n_iters: int = 30,
                             power: float = 1.0, *, generator: Optional[Generator] = None,
                             momentum: float = 0.0) -> torch.Tensor:
    """Tacotron log mel ``(B, n_mels, frames)`` -> audio ``(B, hop_length * (frames - 1))`` by Griffin-Lim.

    Steps: ``exp`` undoes the log compression; the linear spectrogram is the
    non-negative least-squares-style estimate ``clamp(pinv(mel_basis) @ mel, 0)``
    (see :func:`audio.mel_basis.mel_to_linear`); it is raised to ``power``
    (values above 1, such as 1.2-1.5, sharpen harmonics and reduce the
    phasiness of Griffin-Lim); then :func:`griffin_lim` with ``taco_stft.stft_fn``
    and ``momentum`` (fast Griffin-Lim when > 0).

    This replaces the ``mel @ mel_basis * 1000`` recipe of NVIDIA's old
    notebook, whose transpose (not inverse) mis-scales every frequency; the
    pseudo-inverse needs no ad-hoc scaling.  The result is not clipped: pass
    it through :func:`audio.save_wav`, which clips and warns.
    """
    if power <= 0:
        raise ValueError(f"power must be positive, got {power}")
    linear = mel_to_linear(taco_stft.spectral_de_normalize(mel), taco_stft.mel_basis,
                           inverse=taco_stft.mel_basis_inverse())
    if power != 1.0:
        linear = linear ** power
    return griffin_lim(linear, taco_stft.stft_fn, n_iters, generator=generator, momentum=momentum)
