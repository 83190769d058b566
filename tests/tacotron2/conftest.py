"""Fixtures for the Tacotron 2 tests: a tiny config and the golden reference files."""
from pathlib import Path
from typing import Dict

import pytest
import torch

from tacotron2 import Tacotron2, Tacotron2Config

TINY = dict(n_mel_channels=8, symbols_embedding_dim=32, encoder_embedding_dim=32, attention_rnn_dim=48,
            attention_dim=16, attention_location_n_filters=4, decoder_rnn_dim=40, prenet_dim=24,
            postnet_embedding_dim=24, max_decoder_steps=40)


@pytest.fixture
def tiny_config() -> Tacotron2Config:
    """A small config that runs in milliseconds (the golden files' hyperparameters)."""
    return Tacotron2Config(**TINY)


@pytest.fixture
def tiny_model(tiny_config: Tacotron2Config) -> Tacotron2:
    """A randomly initialised tiny model in eval mode."""
    torch.manual_seed(1)
    return Tacotron2(tiny_config).eval()


@pytest.fixture(scope="session")
def expected(golden_dir: Path) -> Dict[str, object]:
    """Inputs and NVIDIA reference outputs for the ``tacotron2_tiny_*`` checkpoints."""
    return torch.load(golden_dir / "tacotron2_tiny_expected.pt", weights_only=True)


@pytest.fixture(scope="session")
def golden_config(golden_dir: Path) -> dict:
    """The config dict stored in the hub-layout golden checkpoint."""
    return torch.load(golden_dir / "tacotron2_tiny_ngc.pt", weights_only=True)["config"]
