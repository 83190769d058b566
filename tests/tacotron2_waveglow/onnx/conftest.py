"""Fixtures for the ONNX tests: the golden tiny checkpoints exported once per session.

Every test module here starts with ``pytest.importorskip("onnxruntime")``, so
the suite passes without the ``onnx`` extra.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch



def load_tiny(golden_dir: Path, name: str):
    """A golden tiny model by file stem: ``tacotron2_tiny_*`` or ``waveglow_tiny_*`` (configs where files lack one)."""
    from checkpoints import load_tacotron2, load_waveglow

    path = golden_dir / f"{name}.pt"
    if name.startswith("tacotron2"):
        config = None
        if name == "tacotron2_tiny_nvidia_repo":  # that layout stores no config
            config = torch.load(golden_dir / "tacotron2_tiny_ngc.pt", weights_only=True)["config"]
        return load_tacotron2(path, config=config)
    return load_waveglow(path)


@pytest.fixture(scope="session")
def load_golden(golden_dir):
    """``load_golden(name)``: :func:`load_tiny` from the golden folder (a fixture: test modules cannot import
    from a conftest reliably, several share that module name)."""
    return lambda name: load_tiny(golden_dir, name)


@pytest.fixture(scope="session")
def tiny_models(golden_dir):
    """``(tacotron2, waveglow)`` from the hub-layout golden files (do not modify: deep-copy first)."""
    return load_tiny(golden_dir, "tacotron2_tiny_ngc"), load_tiny(golden_dir, "waveglow_tiny_ngc")


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory, tiny_models) -> Path:
    """An export folder of both tiny hub models (verified while exporting). Tests must not change it."""
    pytest.importorskip("onnxruntime")
    from tacotron2_waveglow.onnx import export_onnx

    folder = tmp_path_factory.mktemp("onnx") / "tiny"
    export_onnx(folder, *tiny_models)
    return folder


@pytest.fixture
def export_copy(tiny_export, tmp_path) -> Path:
    """A private copy of :func:`tiny_export` that a test may damage."""
    import shutil

    return Path(shutil.copytree(tiny_export, tmp_path / "copy"))


@pytest.fixture(scope="session")
def mini_waveglow():
    """A random 2-flow, 1-layer WaveGlow: quick to export, for the tests of refusals."""
    from waveglow import WaveGlow, WaveGlowConfig, WNConfig

    torch.manual_seed(5)
    config = WaveGlowConfig(n_mel_channels=8, n_flows=2, n_early_every=4, WN_config=WNConfig(n_layers=1, n_channels=4))
    return WaveGlow(config).eval()


@pytest.fixture(autouse=True)
def _no_onednn():
    """oneDNN off: it sets up kernels per input shape, seconds on these tiny models (same values)."""
    from tacotron2_waveglow.onnx.plain_kernels import plain_cpu_kernels

    with plain_cpu_kernels():
        yield
