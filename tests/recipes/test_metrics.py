"""Alignment, duration and MCD metrics against closed-form results."""
import math

import numpy as np
import pytest
import torch
from scipy.fft import idct

from recipes.builtin_voice.metrics import (alignment_monotonicity, alignment_reaches_end, duration_ratio,
                           mel_cepstra, mel_cepstral_distortion, mel_dynamics)

K = 10.0 / math.log(10.0)


def one_hot_alignment(peaks, n_enc):
    """Alignment (T, N) whose frame t attends only to encoder position peaks[t]."""
    alignment = np.full((len(peaks), n_enc), 0.01)
    alignment[np.arange(len(peaks)), peaks] = 1.0
    return alignment / alignment.sum(axis=1, keepdims=True)


def test_monotonicity_of_a_staircase_is_one():
    assert alignment_monotonicity(one_hot_alignment([0, 0, 1, 2, 2, 3, 4], 5)) == 1.0


def test_monotonicity_of_a_reversed_alignment_is_zero():
    assert alignment_monotonicity(one_hot_alignment([4, 3, 2, 1, 0], 5)) == 0.0


def test_monotonicity_counts_backward_jumps():
    # 9 transitions, 2 of them backwards (3 -> 1, 4 -> 2).
    peaks = [0, 1, 2, 3, 1, 2, 3, 4, 2, 3]
    assert alignment_monotonicity(one_hot_alignment(peaks, 6)) == pytest.approx(7 / 9)


def test_monotonicity_length_ignores_padding_frames_and_accepts_tensors():
    alignment = torch.tensor(one_hot_alignment([0, 1, 2, 0, 0], 3))
    assert alignment_monotonicity(alignment, length=3) == 1.0
    assert alignment_monotonicity(alignment) == pytest.approx(3 / 4)
    assert alignment_monotonicity(alignment[:1]) == 1.0


@pytest.mark.parametrize("length", [0, 6])
def test_monotonicity_rejects_bad_length(length):
    with pytest.raises(ValueError, match="length must be"):
        alignment_monotonicity(one_hot_alignment([0, 1, 2, 3, 4], 5), length=length)


def test_metrics_reject_wrong_rank_and_nan():
    with pytest.raises(ValueError, match="2-D"):
        alignment_monotonicity(np.zeros(4))
    with pytest.raises(ValueError, match="NaN"):
        alignment_monotonicity(np.full((3, 3), np.nan))


def test_reaches_end():
    alignment = one_hot_alignment([0, 1, 2, 3, 4, 5, 6, 7], 10)  # padding columns 8, 9
    assert alignment_reaches_end(alignment, input_length=8, last_k=1)
    assert alignment_reaches_end(alignment, input_length=10, last_k=3)
    assert not alignment_reaches_end(alignment, input_length=10, last_k=2)
    assert not alignment_reaches_end(alignment, input_length=8, last_k=3, length=4)


def test_reaches_end_ignores_padding_columns():
    alignment = np.zeros((3, 6))
    alignment[:, 0] = 0.6
    alignment[:, 5] = 0.9  # heavy weight on padding must not count
    assert not alignment_reaches_end(alignment, input_length=4, last_k=2)


@pytest.mark.parametrize("kwargs", [{"input_length": 0}, {"input_length": 7}, {"input_length": 3, "last_k": 0}])
def test_reaches_end_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        alignment_reaches_end(one_hot_alignment([0, 1], 6), **kwargs)


def test_duration_ratio():
    assert duration_ratio(24000, 20000) == pytest.approx(1.2)
    assert duration_ratio(0, 5) == 0.0
    with pytest.raises(ValueError, match="reference > 0"):
        duration_ratio(100, 0)


def random_mel(n_mels=20, frames=40, seed=0):
    return np.random.default_rng(seed).normal(-4.0, 2.0, (n_mels, frames))


def test_mcd_with_itself_is_zero():
    mel = random_mel()
    assert mel_cepstral_distortion(mel, mel) == 0.0
    assert mel_cepstral_distortion(torch.tensor(mel), torch.tensor(mel), use_dtw=False) == 0.0


def test_mcd_of_a_time_stretched_copy_is_zero_only_after_dtw():
    mel = random_mel()
    stretched = np.repeat(mel, [1, 2, 3, 1] * 10, axis=1)
    assert mel_cepstral_distortion(mel, stretched) == pytest.approx(0.0, abs=1e-9)
    assert mel_cepstral_distortion(mel, stretched, use_dtw=False) > 1.0


def test_mcd_ignores_loudness_c0():
    mel = random_mel()
    assert mel_cepstral_distortion(mel, mel + 3.0) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("coefficient,size", [(1, 0.5), (4, 1.0), (12, 0.25)])
def test_mcd_closed_form_for_a_known_cepstral_offset(coefficient, size):
    # Adding the inverse DCT of size * e_k to every frame moves cepstrum k by `size`,
    # so MCD = K * sqrt(2) * size on every frame pair.
    mel = random_mel(n_mels=20, frames=12)
    offset = np.zeros(20)
    offset[coefficient] = size
    shifted = mel + idct(offset, type=2, norm="ortho")[:, None]
    expected = K * math.sqrt(2.0) * size
    assert mel_cepstral_distortion(mel, shifted, use_dtw=False) == pytest.approx(expected, rel=1e-9)
    assert mel_cepstral_distortion(mel, shifted, n_mfcc=13) <= expected + 1e-9


def test_mcd_counts_only_the_first_n_mfcc_cepstra():
    mel = random_mel(n_mels=20, frames=5)
    offset = np.zeros(20)
    offset[15] = 1.0
    shifted = mel + idct(offset, type=2, norm="ortho")[:, None]
    assert mel_cepstral_distortion(mel, shifted, n_mfcc=13) == pytest.approx(0.0, abs=1e-9)
    assert mel_cepstral_distortion(mel, shifted, n_mfcc=20, use_dtw=False) == pytest.approx(K * math.sqrt(2))


def test_mel_cepstra_shape_and_errors():
    assert mel_cepstra(random_mel(n_mels=20, frames=7)).shape == (12, 7)
    with pytest.raises(ValueError, match="n_mfcc"):
        mel_cepstra(random_mel(n_mels=8), n_mfcc=13)
    with pytest.raises(ValueError, match="same n_mels"):
        mel_cepstral_distortion(random_mel(n_mels=20), random_mel(n_mels=16))


def test_spectral_convergence_closed_forms():
    from recipes.builtin_voice.metrics import spectral_convergence
    target = np.array([[3.0, 0.0], [0.0, 4.0]])
    assert spectral_convergence(target, target) == 0.0
    assert spectral_convergence(target, np.zeros((2, 2))) == pytest.approx(1.0)
    assert spectral_convergence(target, 0.5 * target) == pytest.approx(0.5)
    # only the shared frames count: the extra frame of the estimate is ignored
    assert spectral_convergence(target, np.hstack([target + [[0.0, 0.0], [0.0, 5.0]], [[9.0], [9.0]]])) \
        == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same bins"):
        spectral_convergence(target, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="silent"):
        spectral_convergence(np.zeros((2, 2)), target)


def test_mel_dynamics_closed_forms():
    ramp = np.arange(6, dtype=np.float64)[None].repeat(4, 0) * 0.5  # every bin rises by 0.5 per frame
    assert mel_dynamics(ramp) == pytest.approx(0.5)
    alternating = np.tile([1.0, -1.0], 5)[None].repeat(3, 0)  # +-1 every frame: changes of 2
    assert mel_dynamics(torch.from_numpy(alternating)) == pytest.approx(2.0)
    assert mel_dynamics(np.full((80, 50), -4.0)) == 0.0 and mel_dynamics(np.zeros((80, 1))) == 0.0
    # smoothing a signal in time lowers its dynamics
    rng = np.random.default_rng(0)
    rough = rng.normal(size=(8, 200))
    smooth = np.stack([np.convolve(row, np.ones(5) / 5, mode="same") for row in rough])
    assert mel_dynamics(smooth) < 0.5 * mel_dynamics(rough)
