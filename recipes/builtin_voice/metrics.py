"""Objective checks of a synthesized utterance: attention alignment, duration, MCD.

All functions accept NumPy arrays or torch tensors (moved to the CPU) and
return plain Python numbers.
"""
from __future__ import annotations

import math
from typing import Optional, Union

import numpy as np
import torch
from scipy.fft import dct


Array = Union[np.ndarray, torch.Tensor]
_MCD_SCALE = 10.0 / math.log(10.0)


def _as_numpy(array: Array, name: str, ndim: int) -> np.ndarray:
    if isinstance(array, torch.Tensor):
        array = array.detach().to("cpu", torch.float64).numpy()
    array = np.asarray(array, dtype=np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return array


def _frames(alignment: Array, length: Optional[int]) -> np.ndarray:
    """The first ``length`` decoder frames of an alignment ``(T_dec, N_enc)``."""
    frames = _as_numpy(alignment, "alignment", 2)
    if length is not None:
        if not 1 <= int(length) <= frames.shape[0]:
            raise ValueError(f"length must be in 1..{frames.shape[0]} (the decoder frames), got {length}")
        frames = frames[: int(length)]
    if frames.shape[0] == 0 or frames.shape[1] == 0:
        raise ValueError(f"alignment must have decoder frames and encoder positions, got shape {frames.shape}")
    return frames


def alignment_monotonicity(alignment: Array, length: Optional[int] = None) -> float:
    """Share of decoder frames whose most-attended encoder position did not move back.

    Args:
        alignment: attention weights ``(T_dec, N_enc)`` of one utterance.
        length: decoder frames to consider (the utterance's ``mel_length``);
            default all.

    Returns:
        ``#{t >= 1 : argmax(a_t) >= argmax(a_{t-1})} / (T - 1)``, in [0, 1];
        1.0 for a single frame.
    """
    peaks = _frames(alignment, length).argmax(axis=1)
    if peaks.shape[0] < 2:
        return 1.0
    return float(np.mean(peaks[1:] >= peaks[:-1]))


def alignment_reaches_end(alignment: Array, input_length: int, last_k: int = 3,
                          length: Optional[int] = None) -> bool:
    """True when some decoder frame attends most to one of the last ``last_k`` input tokens.

    Args:
        alignment: attention weights ``(T_dec, N_enc)``; columns past
            ``input_length`` (padding) are ignored.
        input_length: tokens in this utterance's text.
        last_k: how close to the end counts as reaching it.
        length: decoder frames to consider; default all.
    """
    frames = _frames(alignment, length)
    if not 1 <= int(input_length) <= frames.shape[1]:
        raise ValueError(f"input_length must be in 1..{frames.shape[1]}, got {input_length}")
    if int(last_k) < 1:
        raise ValueError(f"last_k must be >= 1, got {last_k}")
    peaks = frames[:, : int(input_length)].argmax(axis=1)
    return bool(peaks.max() >= int(input_length) - int(last_k))


def duration_ratio(n_samples_ours: int, n_samples_ref: int) -> float:
    """``n_samples_ours / n_samples_ref``: 1.0 is the reference's length, 1.2 is 20 % longer."""
    if n_samples_ref <= 0 or n_samples_ours < 0:
        raise ValueError(f"sample counts must be ours >= 0 and reference > 0, got "
                         f"{n_samples_ours} and {n_samples_ref}")
    return float(n_samples_ours) / float(n_samples_ref)


def mel_dynamics(mel: Array) -> float:
    """Mean absolute change of a log mel ``(n_mels, T)`` from one frame to the next (0 for ``T < 2``).

    Speech moves: formants glide, fricatives start and stop. An over-smoothed
    voice (a Tacotron 2 that has learned the average of what may come next)
    has a fraction of its teacher's dynamics even when its durations and
    alignment are right, so the ratio of the two is a measure of smearing.
    """
    log_mel = _as_numpy(mel, "mel", 2)
    if log_mel.shape[1] < 2:
        return 0.0
    return float(np.abs(np.diff(log_mel, axis=1)).mean())


def mel_cepstra(mel: Array, n_mfcc: int = 13) -> np.ndarray:
    """Cepstra ``(n_mfcc - 1, T)`` of a log-mel spectrogram ``(n_mels, T)``, c0 dropped.

    The DCT-II (orthonormal) over the mel axis of the natural-log mel
    magnitudes, as MFCCs are made; c0 (overall loudness) is left out.
    """
    log_mel = _as_numpy(mel, "mel", 2)
    if not 2 <= n_mfcc <= log_mel.shape[0]:
        raise ValueError(f"n_mfcc must be in 2..{log_mel.shape[0]} (n_mels), got {n_mfcc}")
    return dct(log_mel, type=2, axis=0, norm="ortho")[1:n_mfcc]


def _mcd(diff: np.ndarray) -> np.ndarray:
    """MCD in dB of cepstral differences ``(D, ...)``, summed over the first axis."""
    return _MCD_SCALE * np.sqrt(2.0 * np.sum(diff ** 2, axis=0))


def mel_cepstral_distortion(mel_a: Array, mel_b: Array, n_mfcc: int = 13, use_dtw: bool = True) -> float:
    """Mel cepstral distortion in dB between two log-mel spectrograms.

    ``MCD = (10 / ln 10) * sqrt(2 * sum_d (c_a[d] - c_b[d]) ** 2)`` averaged over
    aligned frame pairs, with cepstra from :func:`mel_cepstra`. Frames are paired
    along the DTW path that minimises the summed MCD (``use_dtw=True``), or
    index by index up to the shorter length (``use_dtw=False``). The value is
    for comparing systems on the same features; it is not on the scale of MCDs
    computed from SPTK mel-cepstra.

    Args:
        mel_a: ``(n_mels, T_a)`` natural-log mel magnitudes (``TacotronSTFT`` output).
        mel_b: ``(n_mels, T_b)``, same ``n_mels``.
        n_mfcc: cepstra computed, c0 included (then dropped).
        use_dtw: align with DTW rather than frame by frame.
    """
    ceps_a, ceps_b = mel_cepstra(mel_a, n_mfcc), mel_cepstra(mel_b, n_mfcc)
    if np.shape(mel_a)[0] != np.shape(mel_b)[0]:
        raise ValueError(f"mel_a and mel_b must have the same n_mels, got shapes "
                         f"{tuple(np.shape(mel_a))} and {tuple(np.shape(mel_b))}")
    if use_dtw:
        from librosa.sequence import dtw

        accumulated, path = dtw(C=_mcd(ceps_a[:, :, None] - ceps_b[:, None, :]), backtrack=True)
        return float(accumulated[-1, -1]) / len(path)
    frames = min(ceps_a.shape[1], ceps_b.shape[1])
    return float(np.mean(_mcd(ceps_a[:, :frames] - ceps_b[:, :frames])))


def spectral_convergence(target: Array, estimate: Array) -> float:
    """``||target - estimate||_F / ||target||_F`` of two magnitude spectrograms ``(F, T)`` (0 is perfect).

    The usual measure of how well a phase reconstruction (Griffin-Lim)
    reproduces the magnitudes it was given; frames are compared up to the
    shorter length.
    """
    a, b = _as_numpy(target, "target", 2), _as_numpy(estimate, "estimate", 2)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"target and estimate must have the same bins, got shapes {a.shape} and {b.shape}")
    frames = min(a.shape[1], b.shape[1])
    norm = np.linalg.norm(a[:, :frames])
    if frames == 0 or norm == 0:
        raise ValueError("target is empty or silent; spectral convergence needs a non-zero target")
    return float(np.linalg.norm(a[:, :frames] - b[:, :frames]) / norm)
