"""Our Hann window and Slaney mel filterbank are bit for bit scipy's and librosa's.

audio computes them with numpy alone (importing scipy.signal and librosa costs
seconds at start-up); these tests compare against the libraries themselves.
"""
import warnings

import librosa
import numpy as np
import pytest
from librosa.util import pad_center
from scipy.signal import get_window

from audio.mel_basis import mel_filterbank
from audio.stft import periodic_window

MEL_CONFIGS = [
    (22050, 1024, 80, 0.0, 8000.0),  # NVIDIA's
    (22050, 1024, 80, 0, None),
    (16000, 512, 40, 50.0, None),
    (24000, 2048, 128, 20.0, 12000),
    (44100, 2048, 80, 0.0, 8000.0),
    (22050, 1024, 80, 1500.0, 8000.0),  # starts in the logarithmic part of the scale
    (22050, 1023, 80, 0.0, 8000.0),  # odd FFT size
]


@pytest.mark.parametrize("sampling_rate, n_fft, n_mels, fmin, fmax", MEL_CONFIGS)
def test_mel_filterbank_is_librosas(sampling_rate, n_fft, n_mels, fmin, fmax):
    expected = librosa.filters.mel(sr=sampling_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    ours = mel_filterbank(sampling_rate, n_fft, n_mels, fmin, fmax).numpy()
    np.testing.assert_array_equal(ours, expected)


def test_empty_mel_filters_warn_like_librosa():
    with pytest.warns(UserWarning, match="Empty filters"):
        librosa.filters.mel(sr=8000, n_fft=64, n_mels=128, fmin=0.0, fmax=4000.0)
    with pytest.warns(UserWarning, match="Empty filters"):
        mel_filterbank(8000, 64, 128, 0.0, 4000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mel_filterbank()


@pytest.mark.parametrize("window", ["hann", "hamming", ("kaiser", 4.0)])
@pytest.mark.parametrize("win_length, filter_length", [(1024, 1024), (800, 1024), (801, 1024), (255, 512), (1, 4)])
def test_periodic_window_is_scipys_centred_by_librosa(window, win_length, filter_length):
    expected = pad_center(get_window(window, win_length, fftbins=True), size=filter_length)
    np.testing.assert_array_equal(periodic_window(window, win_length, filter_length), expected)
