"""Tiny WaveGlow models for fast tests, and a fixture that runs every WaveGlow test with oneDNN off and on.

PyTorch's CPU convolutions go through oneDNN when it is enabled and through
its plain kernels otherwise; both must give the documented numbers, so every
test in tests/waveglow runs once each way (ids ``onednn-off``, ``onednn-on``).
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


@pytest.fixture(autouse=True, params=[False, True], ids=["onednn-off", "onednn-on"])
def onednn(request):
    """oneDNN enabled or not for the test (skipped "on" where this PyTorch has no oneDNN)."""
    if request.param and not torch.backends.mkldnn.is_available():
        pytest.skip("this PyTorch build has no oneDNN")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the flags context warns about TF32 on Intel GPUs
        with torch.backends.mkldnn.flags(enabled=request.param):
            yield request.param


@pytest.fixture(autouse=True)
def no_onednn():
    """oneDNN off (for test files outside tests/waveglow that import it as their autouse fixture)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.backends.mkldnn.flags(enabled=False):
            yield
