"""Both vocoders on mels of 1, 2 and 3 frames (what an untrained model or a one-word text gives)."""
import pytest
import torch

from tacotron2_waveglow.synthesis.vocoders import GriffinLimVocoder, WaveGlowVocoder

HOP = 256


@pytest.mark.parametrize("frames", [1, 2, 3])
def test_waveglow_vocoder_short_mels_equal_plain_infer_and_warn(tiny_models, frames):
    _, glow = tiny_models
    mel = torch.randn(2, 8, frames)
    torch.manual_seed(3)
    with torch.no_grad():
        expected = glow.infer(mel, sigma=0.6)
    torch.manual_seed(3)
    with pytest.warns(UserWarning, match="mel frame"):
        audio = WaveGlowVocoder(glow)(mel, [frames, 1], sigma=0.6, denoise=0.0)
    torch.testing.assert_close(audio[0], expected[0], atol=0, rtol=0)
    torch.testing.assert_close(audio[1], expected[1, :HOP], atol=0, rtol=0)


@pytest.mark.parametrize("frames", [1, 2, 3])
def test_waveglow_vocoder_short_mels_with_the_denoiser(tiny_models, frames):
    _, glow = tiny_models
    with pytest.warns(UserWarning, match="mel frame"):
        audio = WaveGlowVocoder(glow)(torch.randn(1, 8, frames), [frames], sigma=0.6, denoise=0.05)
    assert audio[0].shape == (frames * HOP,) and torch.isfinite(audio[0]).all()


@pytest.mark.parametrize("frames", [1, 2, 3])
def test_griffin_lim_vocoder_short_mels(frames):
    with pytest.warns(UserWarning, match="mel frame"):
        audio = GriffinLimVocoder(n_mel_channels=8, n_iters=2)(torch.randn(1, 8, frames) - 4.0, [frames])
    assert audio[0].shape == (frames * HOP,) and torch.isfinite(audio[0]).all()


def test_no_warning_for_ordinary_lengths(tiny_models, recwarn):
    _, glow = tiny_models
    WaveGlowVocoder(glow)(torch.randn(1, 8, 6), [6], denoise=0.0)
    assert not [w for w in recwarn if "mel frame" in str(w.message)]
