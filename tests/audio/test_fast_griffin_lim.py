"""Fast Griffin-Lim (momentum): the same iterates as librosa.griffinlim for the same initial phase."""
import numpy as np
import pytest
import torch

from audio import STFT, TacotronSTFT, griffin_lim, mel_to_audio_griffin_lim

librosa = pytest.importorskip("librosa")
N_FFT, HOP = 1024, 256


def _magnitudes() -> np.ndarray:
    """librosa's STFT magnitude ``(513, frames)`` of a tone plus a chirp (float64)."""
    t = np.arange(8192) / 22050
    y = 0.5 * np.sin(2 * np.pi * 220 * t) + 0.3 * np.sin(2 * np.pi * 1330 * t * (1 + t))
    return np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP, window="hann", center=True, pad_mode="reflect"))


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.99])
def test_matches_librosa_griffinlim_for_the_same_initial_phase(momentum):
    S = _magnitudes()
    ours = griffin_lim(torch.from_numpy(S)[None].float(), STFT(N_FFT, HOP, N_FFT), 8,
                       generator=np.random.default_rng(0), momentum=momentum)[0].double().numpy()
    # librosa draws its initial phase as rng.random(S.shape), as audio.random_phase does with a numpy Generator
    reference = librosa.griffinlim(S, n_iter=8, hop_length=HOP, n_fft=N_FFT, window="hann", center=True,
                                   pad_mode="reflect", momentum=momentum, init="random",
                                   random_state=np.random.default_rng(0))
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, atol=2e-5)


def test_momentum_converges_faster_and_zero_is_the_reference_algorithm():
    stft = STFT(N_FFT, HOP, N_FFT)
    target = torch.from_numpy(_magnitudes())[None].float()

    def convergence(signal):
        magnitude, _ = stft.transform(signal)
        return float(torch.linalg.norm(magnitude - target) / torch.linalg.norm(target))

    plain = griffin_lim(target, stft, 20, generator=np.random.default_rng(1))
    fast = griffin_lim(target, stft, 20, generator=np.random.default_rng(1), momentum=0.99)
    assert convergence(fast) < convergence(plain)
    assert torch.equal(plain, griffin_lim(target, stft, 20, generator=np.random.default_rng(1), momentum=0.0))


def test_momentum_reaches_the_mel_inversion_and_is_checked():
    stft = TacotronSTFT(n_mel_channels=8)
    mel = torch.randn(1, 8, 6) - 4.0
    fast = mel_to_audio_griffin_lim(mel, stft, 3, generator=torch.Generator().manual_seed(0), momentum=0.99)
    plain = mel_to_audio_griffin_lim(mel, stft, 3, generator=torch.Generator().manual_seed(0))
    assert fast.shape == plain.shape and not torch.equal(fast, plain)
    with pytest.raises(ValueError, match="momentum"):
        griffin_lim(torch.ones(1, 513, 4), STFT(N_FFT, HOP, N_FFT), 1, momentum=-0.1)
