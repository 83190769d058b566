"""Fixtures of the WaveGlow tests."""
import pytest
import torch

from tests.waveglow.tiny import onednn, randomize, tiny_config  # noqa: F401  (autouse fixture)
from waveglow import WaveGlow


@pytest.fixture
def tiny_model():
    torch.manual_seed(1)
    return randomize(WaveGlow(tiny_config()))
