"""GriffinLimVocoder: output length for every mel length, and agreement with audio's Griffin-Lim."""
import pytest
import torch

import audio
from tacotron2_waveglow.synthesis.vocoders import GriffinLimVocoder


@pytest.mark.parametrize("frames", [1, 2, 3, 4, 9])
def test_output_length_is_hop_times_frames_minus_one(frames):
    stft = audio.TacotronSTFT(n_mel_channels=8)
    mel = torch.randn(2, 8, frames) - 4.0
    out = GriffinLimVocoder(stft, n_iters=1).waveform(mel)
    assert out.shape == (2, 256 * (frames - 1))


@pytest.mark.parametrize("momentum", [0.0, 0.99])
def test_long_mels_are_plain_griffin_lim(momentum):
    stft = audio.TacotronSTFT(n_mel_channels=8)
    mel = torch.randn(1, 8, 12) - 4.0
    expected = audio.mel_to_audio_griffin_lim(mel, stft, 3, generator=torch.Generator().manual_seed(5),
                                              momentum=momentum)
    assert torch.equal(GriffinLimVocoder(stft, n_iters=3, seed=5, momentum=momentum).waveform(mel), expected)


def test_default_is_fast_griffin_lim():
    stft = audio.TacotronSTFT(n_mel_channels=8)
    mel = torch.randn(1, 8, 12) - 4.0
    fast = audio.mel_to_audio_griffin_lim(mel, stft, 3, generator=torch.Generator().manual_seed(5), momentum=0.99)
    assert torch.equal(GriffinLimVocoder(stft, n_iters=3, seed=5).waveform(mel), fast)


def test_rejects_bad_shapes():
    vocoder = GriffinLimVocoder(audio.TacotronSTFT(n_mel_channels=8))
    with pytest.raises(ValueError, match="B, n_mels, T"):
        vocoder.waveform(torch.zeros(8, 5))
    with pytest.raises(ValueError, match="T >= 1"):
        vocoder.waveform(torch.zeros(1, 8, 0))
