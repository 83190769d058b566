"""Fixtures for the audio tests: devices and the golden mel case."""
from pathlib import Path
from typing import Dict

import numpy as np
import pytest
import torch

_DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=_DEVICES)
def device(request) -> torch.device:
    """Every available device: CPU always, CUDA when present."""
    return torch.device(request.param)


@pytest.fixture(scope="session")
def mel_case(golden_dir: Path) -> Dict[str, np.ndarray]:
    """NVIDIA reference arrays: audio, mel, mel_basis, magnitude, istft_roundtrip."""
    with np.load(golden_dir / "mel_cases.npz") as data:
        return {key: data[key] for key in data.files}
