"""TacotronSTFT mel features: NVIDIA golden values, librosa cross-check, error paths."""
import librosa
import numpy as np
import pytest
import torch

from audio import TacotronSTFT, dynamic_range_compression, dynamic_range_decompression, mel_filterbank

GOLDEN_ATOL = 1e-4


def test_mel_matches_reference(mel_case, device):
    taco = TacotronSTFT().to(device)
    mel = taco.mel_spectrogram(torch.from_numpy(mel_case["audio"])[None].to(device))
    assert mel.shape == (1, 80, 130)
    np.testing.assert_allclose(mel[0].cpu().numpy(), mel_case["mel"], atol=GOLDEN_ATOL, rtol=0)


def test_mel_basis_matches_reference(mel_case):
    taco = TacotronSTFT()
    np.testing.assert_allclose(taco.mel_basis.numpy(), mel_case["mel_basis"], atol=GOLDEN_ATOL, rtol=0)
    assert "mel_basis" in taco.state_dict()


def test_mel_matches_librosa(mel_case):
    audio = mel_case["audio"].astype(np.float64)
    linear_mel = librosa.feature.melspectrogram(
        y=audio, sr=22050, n_fft=1024, hop_length=256, win_length=1024, window="hann", center=True,
        pad_mode="reflect", power=1.0, n_mels=80, fmin=0.0, fmax=8000.0)
    expected = np.log(np.maximum(linear_mel, 1e-5))
    mel = TacotronSTFT().mel_spectrogram(torch.from_numpy(mel_case["audio"])[None])
    np.testing.assert_allclose(mel[0].numpy(), expected, atol=1e-4, rtol=0)


def test_small_config_matches_librosa():
    gen = torch.Generator().manual_seed(3)
    audio = torch.rand(2, 3000, generator=gen) * 1.6 - 0.8
    taco = TacotronSTFT(filter_length=256, hop_length=64, win_length=256, n_mel_channels=20,
                        sampling_rate=16000, mel_fmin=50.0, mel_fmax=None)
    mel = taco.mel_spectrogram(audio)
    assert mel.shape == (2, 20, 1 + 3000 // 64)
    for i in range(2):
        linear_mel = librosa.feature.melspectrogram(
            y=audio[i].double().numpy(), sr=16000, n_fft=256, hop_length=64, power=1.0, n_mels=20, fmin=50.0,
            pad_mode="reflect")
        np.testing.assert_allclose(mel[i].numpy(), np.log(np.maximum(linear_mel, 1e-5)), atol=1e-4, rtol=0)


def test_batch_equals_single_items():
    taco = TacotronSTFT(filter_length=256, hop_length=64, win_length=256, n_mel_channels=16)
    batch = torch.rand(3, 1500) - 0.5
    mel = taco.mel_spectrogram(batch)
    for i in range(3):
        torch.testing.assert_close(mel[i:i + 1], taco(batch[i:i + 1]), atol=1e-5, rtol=1e-5)


def test_silence_maps_to_log_floor():
    mel = TacotronSTFT(filter_length=256, hop_length=64, win_length=256, n_mel_channels=16).mel_spectrogram(
        torch.zeros(1, 1000))
    torch.testing.assert_close(mel, torch.full_like(mel, float(np.log(1e-5))))


def test_gradient_flows_to_audio():
    taco = TacotronSTFT(filter_length=128, hop_length=32, win_length=128, n_mel_channels=8)
    audio = (torch.rand(1, 400) - 0.5).requires_grad_()
    taco.mel_spectrogram(audio).sum().backward()
    assert audio.grad is not None and torch.isfinite(audio.grad).all() and audio.grad.abs().sum() > 0


@pytest.mark.parametrize("value,match", [(1.5, r"1\.5"), (-1.25, r"-1\.25")])
def test_out_of_range_audio_is_rejected(value, match):
    audio = torch.zeros(1, 2000)
    audio[0, 100] = value
    with pytest.raises(ValueError, match=match):
        TacotronSTFT().mel_spectrogram(audio)


def test_nan_audio_is_rejected():
    audio = torch.zeros(1, 2000)
    audio[0, 5] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        TacotronSTFT().mel_spectrogram(audio)


def test_dynamic_range_roundtrip():
    x = torch.cat([torch.zeros(3), torch.rand(100) * 1e-4, torch.rand(100) * 10])
    torch.testing.assert_close(dynamic_range_decompression(dynamic_range_compression(x)),
                               torch.clamp(x, min=1e-5), rtol=1e-6, atol=0)
    torch.testing.assert_close(dynamic_range_compression(torch.tensor([2.0]), C=3, clip_val=1e-3),
                               torch.tensor([float(np.log(6.0))]))
    torch.testing.assert_close(dynamic_range_decompression(torch.tensor([0.0]), C=4), torch.tensor([0.25]))


def test_spectral_normalize_pair_inverts():
    taco = TacotronSTFT(filter_length=128, hop_length=32, win_length=128, n_mel_channels=8)
    x = torch.rand(2, 8, 5) + 1e-3
    torch.testing.assert_close(taco.spectral_de_normalize(taco.spectral_normalize(x)), x)


@pytest.mark.parametrize("kwargs,match", [
    (dict(mel_fmax=12000.0), "mel_fmax"),
    (dict(mel_fmin=9000.0, mel_fmax=8000.0), "mel_fmin"),
    (dict(sampling_rate=0), "sampling_rate"),
    (dict(n_mel_channels=0), "n_mel_channels"),
])
def test_bad_filterbank_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mel_filterbank(**kwargs)


def test_mel_basis_inverse_is_cached_and_follows_the_buffer():
    stft = TacotronSTFT(n_mel_channels=8)
    first = stft.mel_basis_inverse()
    assert stft.mel_basis_inverse() is first
    torch.testing.assert_close(first, torch.linalg.pinv(stft.mel_basis.double()))
    with torch.no_grad():
        stft.mel_basis.mul_(2.0)
    second = stft.mel_basis_inverse()
    assert second is not first
    torch.testing.assert_close(second, first / 2.0)
