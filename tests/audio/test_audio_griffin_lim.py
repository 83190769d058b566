"""Griffin-Lim: convergence towards the target magnitude, seeding, mel inversion."""
import numpy as np
import pytest
import torch

from audio import STFT, TacotronSTFT, griffin_lim, mel_to_audio_griffin_lim, random_phase

N_FFT, HOP = 256, 64


def _test_signal(n_samples: int = 2048) -> torch.Tensor:
    """Two harmonic tones and a chirp, ``(1, n_samples)``, peak below 1."""
    t = torch.arange(n_samples, dtype=torch.float64) / 16000
    y = 0.3 * torch.sin(2 * np.pi * 440 * t) + 0.2 * torch.sin(2 * np.pi * 1320 * t)
    y = y + 0.2 * torch.sin(2 * np.pi * (200 + 1500 * t) * t)
    return y.float()[None]


def _spectral_convergence(stft: STFT, signal: torch.Tensor, target: torch.Tensor) -> float:
    """``|| |STFT(signal)| - target ||_F / || target ||_F``."""
    magnitude, _ = stft.transform(signal)
    return float(torch.linalg.norm(magnitude - target) / torch.linalg.norm(target))


def test_spectral_convergence_decreases(device):
    stft = STFT(N_FFT, HOP, N_FFT).to(device)
    target, _ = stft.transform(_test_signal().to(device))
    errors = [
        _spectral_convergence(stft, griffin_lim(target, stft, n, generator=np.random.default_rng(0)), target)
        for n in (0, 3, 20)
    ]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.25, errors


def test_output_shape_and_dtype():
    stft = STFT(N_FFT, HOP, N_FFT)
    magnitudes = torch.rand(2, N_FFT // 2 + 1, 9)
    out = griffin_lim(magnitudes, stft, 2, generator=torch.Generator().manual_seed(0))
    assert out.shape == (2, HOP * 8) and out.dtype == torch.float32


def test_numpy_seed_reproduces_reference_initial_phase():
    """The reference draws ``np.random.rand(*shape)`` and takes ``angle(exp(2j*pi*u))``."""
    stft = STFT(N_FFT, HOP, N_FFT)
    magnitudes, _ = stft.transform(_test_signal(1024))
    np.random.seed(1234)
    expected_phase = np.angle(np.exp(2j * np.pi * np.random.rand(*magnitudes.shape))).astype(np.float32)
    np.random.seed(1234)
    torch.testing.assert_close(random_phase(magnitudes.shape), torch.from_numpy(expected_phase))
    np.random.seed(1234)
    out = griffin_lim(magnitudes, stft, 0)
    torch.testing.assert_close(out, stft.inverse(magnitudes, torch.from_numpy(expected_phase)).squeeze(1))


def test_one_iteration_keeps_phase_of_previous_estimate():
    stft = STFT(N_FFT, HOP, N_FFT)
    magnitudes, _ = stft.transform(_test_signal(1024))
    phase = random_phase(magnitudes.shape, np.random.default_rng(5))
    start = griffin_lim(magnitudes, stft, 0, initial_phase=phase)
    _, start_phase = stft.transform(start)
    expected = stft.inverse(magnitudes, start_phase).squeeze(1)
    torch.testing.assert_close(griffin_lim(magnitudes, stft, 1, initial_phase=phase), expected)


@pytest.mark.parametrize("make_generator", [
    lambda seed: torch.Generator().manual_seed(seed),
    lambda seed: np.random.default_rng(seed),
])
def test_seeded_calls_are_reproducible(make_generator):
    stft = STFT(N_FFT, HOP, N_FFT)
    magnitudes, _ = stft.transform(_test_signal(1024))
    first = griffin_lim(magnitudes, stft, 3, generator=make_generator(7))
    torch.testing.assert_close(griffin_lim(magnitudes, stft, 3, generator=make_generator(7)), first,
                               atol=0, rtol=0)
    assert not torch.allclose(griffin_lim(magnitudes, stft, 3, generator=make_generator(8)), first)


def test_global_numpy_seed_is_reproducible():
    stft = STFT(N_FFT, HOP, N_FFT)
    magnitudes, _ = stft.transform(_test_signal(1024))
    np.random.seed(3)
    first = griffin_lim(magnitudes, stft, 2)
    np.random.seed(3)
    torch.testing.assert_close(griffin_lim(magnitudes, stft, 2), first, atol=0, rtol=0)


def test_random_phase_range():
    phase = random_phase((3, 50, 7), torch.Generator().manual_seed(0))
    assert phase.shape == (3, 50, 7) and phase.dtype == torch.float32
    assert phase.min() >= -np.pi - 1e-6 and phase.max() <= np.pi + 1e-6


def test_mel_inversion_approaches_the_target_mel():
    taco = TacotronSTFT(filter_length=N_FFT, hop_length=HOP, win_length=N_FFT, n_mel_channels=40,
                        sampling_rate=16000, mel_fmax=8000.0)
    mel = taco.mel_spectrogram(_test_signal())

    def mel_error(n_iters: int) -> float:
        """Relative Frobenius error of the linear mel of the reconstruction."""
        audio = mel_to_audio_griffin_lim(mel, taco, n_iters, generator=torch.Generator().manual_seed(0))
        assert audio.shape == (1, HOP * (mel.size(-1) - 1))
        rebuilt = taco.mel_spectrogram(audio.clamp(-1, 1)).exp()
        return float(torch.linalg.norm(rebuilt - mel.exp()) / torch.linalg.norm(mel.exp()))

    assert mel_error(20) < mel_error(0)
    assert mel_error(20) < 0.25


def test_mel_inversion_power_sharpens():
    taco = TacotronSTFT(filter_length=N_FFT, hop_length=HOP, win_length=N_FFT, n_mel_channels=40,
                        sampling_rate=16000, mel_fmax=8000.0)
    mel = taco.mel_spectrogram(_test_signal(1024))
    out = mel_to_audio_griffin_lim(mel, taco, 0, power=1.5, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(out).all()
    with pytest.raises(ValueError, match="power"):
        mel_to_audio_griffin_lim(mel, taco, 0, power=0.0)
    with pytest.raises(ValueError, match="mel magnitudes"):
        mel_to_audio_griffin_lim(mel[:, :10], taco, 0)


def test_bad_arguments():
    stft = STFT(N_FFT, HOP, N_FFT)
    with pytest.raises(ValueError, match="129"):
        griffin_lim(torch.rand(1, 100, 5), stft)
    with pytest.raises(ValueError, match="n_iters"):
        griffin_lim(torch.rand(1, 129, 5), stft, -1)
    with pytest.raises(ValueError, match="initial_phase"):
        griffin_lim(torch.rand(1, 129, 5), stft, 1, initial_phase=torch.zeros(1, 129, 4))
    with pytest.raises(TypeError, match="generator"):
        griffin_lim(torch.rand(1, 129, 5), stft, 1, generator=42)
