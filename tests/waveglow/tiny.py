"""Tiny WaveGlow models for fast tests, and a fixture that turns oneDNN off.

oneDNN sets up kernels per input shape, which costs seconds on the tiny
convolutions of these tests; the plain CPU kernels give the same results.
"""
import warnings

import pytest
import torch

from waveglow import WaveGlow, WaveGlowConfig, WNConfig


def tiny_config(**changes) -> WaveGlowConfig:
    """8 mels, 8 flows (one early output), 2-layer 8-channel WN."""
    settings = dict(n_mel_channels=8, n_flows=8, WN_config=WNConfig(n_layers=2, kernel_size=3, n_channels=8))
    settings.update(changes)
    return WaveGlowConfig(**settings)


def randomize(model: WaveGlow) -> WaveGlow:
    """Non-zero ``end`` layers (zero at init) so every coupling really transforms."""
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(0.0, 0.05)
            wn.end.bias.normal_(0.0, 0.05)
    return model.eval()


@pytest.fixture(autouse=True)
def no_onednn():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.backends.mkldnn.flags(enabled=False):
            yield
