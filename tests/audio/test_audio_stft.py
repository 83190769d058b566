"""STFT / inverse STFT: NVIDIA golden values and closed-form properties."""
import numpy as np
import pytest
import torch
from scipy.signal import get_window

from audio import STFT

GOLDEN_ATOL = 1e-4
# The FFT sums in another order than NVIDIA's DFT-basis convolution: float32 rounding of magnitudes up to ~65.
GOLDEN_RTOL = 1e-5


def test_magnitude_matches_reference(mel_case):
    audio = torch.from_numpy(mel_case["audio"])[None]
    magnitude, phase = STFT().transform(audio)
    assert magnitude.shape == (1, 513, 130) and phase.shape == magnitude.shape
    np.testing.assert_allclose(magnitude[0].numpy(), mel_case["magnitude"], atol=GOLDEN_ATOL, rtol=GOLDEN_RTOL)


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


def _nvidia_stft_numpy(filter_length, hop_length, window):
    """NVIDIA's ``STFT`` (explicit DFT basis, ``np.linalg.pinv`` inverse) in float64 NumPy, as two functions."""
    scale = filter_length / hop_length
    cutoff = filter_length // 2 + 1
    full = np.fft.fft(np.eye(filter_length))
    basis = np.vstack([full.real[:cutoff], full.imag[:cutoff]])
    forward_basis = basis * window
    inverse_basis = np.linalg.pinv(scale * basis).T * window
    pad = filter_length // 2

    def transform(signal):
        padded = np.pad(signal, (pad, pad), mode="reflect")
        n_frames = 1 + (padded.size - filter_length) // hop_length
        frames = np.stack([padded[i * hop_length:i * hop_length + filter_length] for i in range(n_frames)], 1)
        spec = forward_basis @ frames
        return np.hypot(spec[:cutoff], spec[cutoff:]), np.arctan2(spec[cutoff:], spec[:cutoff])

    def inverse(magnitude, phase):
        spec = np.concatenate([magnitude * np.cos(phase), magnitude * np.sin(phase)])
        n_frames = magnitude.shape[1]
        length = filter_length + hop_length * (n_frames - 1)
        audio, wsum = np.zeros(length), np.zeros(length)
        for i in range(n_frames):
            audio[i * hop_length:i * hop_length + filter_length] += inverse_basis.T @ spec[:, i]
            wsum[i * hop_length:i * hop_length + filter_length] += window ** 2
        nonzero = wsum > np.finfo(np.float32).tiny
        audio[nonzero] /= wsum[nonzero]
        return (audio * scale)[pad:length - pad]

    return transform, inverse


@pytest.mark.parametrize("filter_length,hop_length,win_length", [(16, 4, 16), (15, 4, 12), (64, 16, 48),
                                                                  (32, 24, 16)])
def test_fft_stft_equals_nvidia_dft_basis_and_pinv(filter_length, hop_length, win_length):
    """FFT transform and irfft inverse == NVIDIA's DFT basis and pseudo-inverse, for any spectrum.

    The spectrum given to the inverse is random (imaginary DC and Nyquist parts,
    no Hermitian consistency), which is what Griffin-Lim hands it; the last case
    leaves gaps where the window sum is zero.
    """
    stft = STFT(filter_length, hop_length, win_length).double()
    transform, inverse = _nvidia_stft_numpy(filter_length, hop_length, stft.fft_window.double().numpy())
    rng = np.random.default_rng(0)
    signal = rng.standard_normal(200)
    magnitude, phase = stft.transform(torch.from_numpy(signal)[None])
    ref_magnitude, ref_phase = transform(signal)
    np.testing.assert_allclose(magnitude[0].numpy(), ref_magnitude, atol=1e-10, rtol=0)
    strong = ref_magnitude > 1e-6
    np.testing.assert_allclose(np.angle(np.exp(1j * (phase[0].numpy() - ref_phase)))[strong], 0, atol=1e-8)
    magnitude = rng.random(magnitude.shape[1:])
    phase = rng.uniform(-np.pi, np.pi, magnitude.shape)
    ours = stft.inverse(torch.from_numpy(magnitude)[None], torch.from_numpy(phase)[None])
    np.testing.assert_allclose(ours[0, 0].numpy(), inverse(magnitude, phase), atol=1e-10, rtol=0)
