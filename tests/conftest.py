"""Shared test fixtures: paths to the golden NVIDIA reference files."""
from pathlib import Path

import pytest
import torch

GOLDEN_DIR = Path(__file__).parent / "fixtures" / "golden"


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    """Folder holding the copies of ``../shared/golden`` that the tests use."""
    return GOLDEN_DIR


@pytest.fixture(autouse=True)
def _seed_and_threads():
    """Seed every test and keep the thread count small (CI has two cores)."""
    torch.manual_seed(0)
    torch.set_num_threads(2)
    yield


def cuda_devices():
    """Devices to parametrize over: CPU always, CUDA when present."""
    devs = ["cpu"]
    if torch.cuda.is_available():
        devs.append("cuda")
    return devs
