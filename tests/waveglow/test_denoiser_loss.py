"""Denoiser on pieces of any length >= 1 frame; WaveGlowLoss with NVIDIA's two-argument call."""
import pytest
import torch

from checkpoints import load_waveglow
from waveglow import Denoiser, WaveGlowLoss

HOP = 256


@pytest.fixture(scope="module")
def hub_model(golden_dir):
    return load_waveglow(golden_dir / "waveglow_tiny_ngc.pt")


@pytest.fixture(scope="module")
def denoiser(hub_model):
    return Denoiser(hub_model)


@pytest.mark.parametrize("frames", [1, 2, 3])
def test_short_audio_strength_zero_is_the_identity(denoiser, frames):
    # STFT then inverse STFT with nothing subtracted gives the signal back (closed form of NVIDIA's STFT pair)
    audio = 0.3 * torch.randn(2, frames * HOP)
    out = denoiser(audio, strength=0.0)
    assert out.shape == (2, 1, frames * HOP)
    torch.testing.assert_close(out[:, 0], audio, atol=1e-5, rtol=0)


@pytest.mark.parametrize("frames", [1, 2, 3])
def test_short_bias_audio_loses_energy(hub_model, denoiser, frames):
    # WaveGlow's output for a silent mel is the bias the denoiser removes: it must shrink
    mel = torch.zeros(1, hub_model.upsample.in_channels, frames)
    with torch.no_grad():
        bias = hub_model.infer(mel, sigma=0.0)
    out = denoiser(bias, strength=1.0)
    assert out.shape == (1, 1, frames * HOP) and torch.isfinite(out).all()
    assert float(out.pow(2).sum()) < float(bias.pow(2).sum())


def test_empty_or_misshaped_audio_is_refused(denoiser):
    with pytest.raises(ValueError, match="T >= 1"):
        denoiser(torch.zeros(1, 0))
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        denoiser(torch.zeros(256))


def test_loss_takes_the_clean_audio_as_second_argument_like_nvidia(hub_model, golden_dir):
    expected = torch.load(golden_dir / "waveglow_tiny_expected.pt", weights_only=True)
    with torch.no_grad():
        out = hub_model(expected["mel"], expected["audio"])
    loss = WaveGlowLoss(sigma=1.0)(out, expected["audio"])  # DLE's train.py calls criterion(y_pred, y)
    torch.testing.assert_close(loss, expected["loss"], atol=1e-5, rtol=0)
    torch.testing.assert_close(WaveGlowLoss(sigma=1.0)(out), loss, atol=0, rtol=0)
