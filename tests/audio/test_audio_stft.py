"""STFT / inverse STFT: NVIDIA golden values and closed-form properties."""
import numpy as np
import pytest
import torch
from scipy.signal import get_window

from audio import STFT
from audio.stft import real_dft_pinv_weights

GOLDEN_ATOL = 1e-4


def test_magnitude_matches_reference(mel_case):
    audio = torch.from_numpy(mel_case["audio"])[None]
    magnitude, phase = STFT().transform(audio)
    assert magnitude.shape == (1, 513, 130) and phase.shape == magnitude.shape
    np.testing.assert_allclose(magnitude[0].numpy(), mel_case["magnitude"], atol=GOLDEN_ATOL, rtol=0)


def test_inverse_roundtrip_matches_reference(mel_case):
    audio = torch.from_numpy(mel_case["audio"])[None]
    stft = STFT()
    out = stft.inverse(*stft.transform(audio))
    assert out.shape == (1, 1, mel_case["istft_roundtrip"].shape[0])
    np.testing.assert_allclose(out[0, 0].numpy(), mel_case["istft_roundtrip"], atol=GOLDEN_ATOL, rtol=0)


@pytest.mark.parametrize("filter_length,hop_length,win_length,window", [
    (1024, 256, 1024, "hann"),
    (256, 64, 200, "hann"),
    (512, 128, 512, "hamming"),
])
def test_inverse_reconstructs_signal(device, filter_length, hop_length, win_length, window):
    stft = STFT(filter_length, hop_length, win_length, window).to(device)
    gen = torch.Generator().manual_seed(1)
    signal = (torch.rand(2, 4000, generator=gen) * 2 - 1).to(device)
    out = stft(signal)
    frames = 1 + signal.size(1) // hop_length
    assert out.shape == (2, 1, hop_length * (frames - 1))
    interior = slice(filter_length, out.size(-1) - filter_length)
    torch.testing.assert_close(out[:, 0, interior], signal[:, interior], atol=1e-5, rtol=0)


def test_sinusoid_peak_bin_and_amplitude():
    n_fft, hop, bin_index, amplitude = 1024, 256, 37, 0.6
    t = np.arange(8192)
    signal = amplitude * np.cos(2 * np.pi * bin_index * t / n_fft)
    magnitude, _ = STFT(n_fft, hop, n_fft).transform(torch.tensor(signal, dtype=torch.float32)[None])
    interior = magnitude[0, :, 4:-4]
    assert (interior.argmax(dim=0) == bin_index).all()
    # A cosine of amplitude A on an exact bin gives |X[k]| = A / 2 * sum(window) (coherent gain).
    expected = amplitude / 2 * get_window("hann", n_fft, fftbins=True).sum()
    torch.testing.assert_close(interior[bin_index], torch.full_like(interior[bin_index], expected),
                               rtol=1e-4, atol=0)


def test_batch_equals_single_items():
    stft = STFT(256, 64, 256)
    batch = torch.randn(3, 1000) * 0.3
    magnitude, phase = stft.transform(batch)
    for i in range(3):
        single_mag, _ = stft.transform(batch[i:i + 1])
        torch.testing.assert_close(magnitude[i:i + 1], single_mag, atol=1e-5, rtol=1e-5)


def test_magnitude_gradient_reaches_audio():
    stft = STFT(16, 4, 16).double()
    audio = torch.randn(1, 40, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(lambda x: stft.transform(x)[0], (audio,), eps=1e-6, atol=1e-4)


@pytest.mark.parametrize("kwargs,match", [
    (dict(filter_length=256, win_length=512), "win_length"),
    (dict(hop_length=0), "hop_length"),
])
def test_bad_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        STFT(**kwargs)


def test_transform_rejects_bad_input():
    stft = STFT()
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        stft.transform(torch.zeros(2000))
    with pytest.raises(ValueError, match="too short"):
        stft.transform(torch.zeros(1, 512))


@pytest.mark.parametrize("filter_length", [16, 15, 64])
def test_closed_form_inverse_basis_equals_pinv(filter_length):
    cutoff = filter_length // 2 + 1
    full = np.fft.fft(np.eye(filter_length))
    basis = np.vstack([full.real[:cutoff], full.imag[:cutoff]])
    closed_form = (real_dft_pinv_weights(filter_length)[:, None] * basis).T
    np.testing.assert_allclose(closed_form, np.linalg.pinv(basis), atol=1e-12, rtol=0)
