"""Fixtures for the synthesis tests: run ``tacotron2-tts`` in-process, check its one-line errors."""
from __future__ import annotations

import io
from typing import Callable, Sequence, Tuple

import pytest

from tacotron2_waveglow.synthesis.cli import main


@pytest.fixture
def cli(capsys) -> Callable[..., Tuple[int, str, str]]:
    """``cli(argv, stdin="") -> (exit status, stdout, stderr)``."""
    return lambda argv, stdin="": run_cli(capsys, argv, stdin)


@pytest.fixture
def one_line_error() -> Callable[..., None]:
    """``one_line_error((status, out, err), *fragments)`` asserts the CLI's user-error discipline."""
    return lambda outcome, *fragments: assert_one_line_error(*outcome, *fragments)


def run_cli(capsys, argv: Sequence[str], stdin: str = "") -> Tuple[int, str, str]:
    """``(exit status, stdout, stderr)`` of ``main(argv)`` with ``stdin`` as standard input."""
    status = main(list(argv), stdin=io.StringIO(stdin))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status: int, out: str, err: str, *fragments: str) -> None:
    """Exit 2, nothing on stdout, exactly one stderr line ``tacotron2-tts: error: ...`` containing ``fragments``."""
    lines = err.strip().splitlines()
    assert status == 2, err
    assert out == ""
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith("tacotron2-tts: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="session")
def tiny_tacotron2_path(golden_dir):
    """NVIDIA-made tiny Tacotron 2 (8 mels, max_decoder_steps 40), hub layout."""
    return golden_dir / "tacotron2_tiny_ngc.pt"


@pytest.fixture(scope="session")
def tiny_waveglow_path(golden_dir):
    """NVIDIA-made tiny WaveGlow (8 mels), hub layout: pairs with ``tiny_tacotron2_path``."""
    return golden_dir / "waveglow_tiny_ngc.pt"


@pytest.fixture(scope="session")
def tiny_models(tiny_tacotron2_path, tiny_waveglow_path):
    """``(tacotron2, waveglow)`` loaded from the golden tiny checkpoints; tests that modify them deep-copy first."""
    from checkpoints import load_tacotron2, load_waveglow

    return load_tacotron2(tiny_tacotron2_path), load_waveglow(tiny_waveglow_path)
