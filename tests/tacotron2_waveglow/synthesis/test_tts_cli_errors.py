"""User errors of ``tacotron2-tts`` that are caught before any model is loaded."""
from __future__ import annotations

import sys

import pytest

from tacotron2_waveglow.synthesis.device import torch_build_has_cuda


@pytest.fixture
def dummy_ckpt(tmp_path):
    path = tmp_path / "t2.pt"
    path.write_bytes(b"not a checkpoint")
    return str(path)


def test_unknown_option(cli, one_line_error):
    one_line_error(cli(["--bogus"]), "--bogus")


def test_unknown_pretrained_name(cli, one_line_error):
    one_line_error(cli(["hi", "--pretrained", "nope"]), "nope")


def test_text_and_input_file_together(cli, one_line_error, tmp_path):
    one_line_error(cli(["hi", "-i", str(tmp_path / "x.txt")]), "either TEXT or -i")


@pytest.mark.parametrize("argv,stdin", [(["   "], ""), ([], ""), ([], "  \n\n ")])
def test_empty_text(cli, one_line_error, tmp_path, dummy_ckpt, argv, stdin):
    argv = argv + ["--tacotron2", dummy_ckpt, "--vocoder", "griffin-lim", "-o", str(tmp_path / "a.wav")]
    one_line_error(cli(argv, stdin), "empty text")


def test_input_file_without_text(cli, one_line_error, tmp_path, dummy_ckpt):
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("\n  \n\n")
    argv = ["-i", str(phrases), "--tacotron2", dummy_ckpt, "--vocoder", "griffin-lim", "-o", str(tmp_path / "out")]
    one_line_error(cli(argv), "no text")


def test_missing_checkpoint_path(cli, one_line_error, tmp_path):
    missing = str(tmp_path / "missing.pt")
    one_line_error(cli(["hi", "--tacotron2", missing, "--vocoder", "griffin-lim"]), missing)


def test_existing_output_needs_force(cli, one_line_error, tmp_path, dummy_ckpt):
    out = tmp_path / "a.wav"
    out.write_bytes(b"keep me")
    argv = ["hi", "--tacotron2", dummy_ckpt, "--vocoder", "griffin-lim", "-o", str(out)]
    one_line_error(cli(argv), str(out), "--force")
    assert out.read_bytes() == b"keep me"


@pytest.mark.parametrize("extra,fragment", [
    (["--vocoder", "griffin-lim", "--waveglow", "W"], "--waveglow applies"),
    (["--vocoder", "griffin-lim", "--sigma", "0.5"], "--sigma applies"),
    (["--vocoder", "griffin-lim", "--denoise", "0.1"], "--denoise applies"),
    ([], "needs --waveglow"),
    (["--vocoder", "griffin-lim", "--batch-size", "0"], "--batch-size must be at least 1"),
    (["--vocoder", "griffin-lim", "--max-decoder-steps", "-5"], "--max-decoder-steps"),
    (["--waveglow", "W", "--sigma", "-1"], "--sigma must be >= 0"),
    (["--vocoder", "griffin-lim", "--precision", "fp64"], "fp64"),
])
def test_bad_option_combinations(cli, one_line_error, tmp_path, dummy_ckpt, extra, fragment):
    (tmp_path / "W").write_bytes(b"x")
    extra = [str(tmp_path / "W") if e == "W" else e for e in extra]
    argv = ["hi", "--tacotron2", dummy_ckpt, "-o", str(tmp_path / "a.wav")] + extra
    one_line_error(cli(argv), fragment)


def test_output_must_be_wav(cli, one_line_error, tmp_path, dummy_ckpt):
    argv = ["hi", "--tacotron2", dummy_ckpt, "--vocoder", "griffin-lim", "-o", str(tmp_path / "a.mp3")]
    one_line_error(cli(argv), ".wav")


def test_plot_without_matplotlib(cli, one_line_error, tmp_path, dummy_ckpt, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    argv = ["hi", "--tacotron2", dummy_ckpt, "--vocoder", "griffin-lim", "--plot", "-o", str(tmp_path / "a.wav")]
    one_line_error(cli(argv), "pip install matplotlib")


def test_a_directory_or_fifo_given_as_a_checkpoint_is_named_as_such(tmp_path, capsys):
    import os

    from tacotron2_waveglow.synthesis.cli import main

    fifo = tmp_path / "pipe.pt"
    os.mkfifo(fifo)
    for path, kind in ((tmp_path, "a directory"), (fifo, "a FIFO")):
        status = main(["hi", "--tacotron2", str(path), "--vocoder", "griffin-lim", "-o", str(tmp_path / "a.wav")])
        err = capsys.readouterr().err
        assert status == 2 and len(err.strip().splitlines()) == 1
        assert kind in err and "not found" not in err


def _main_in_fresh_interpreter(argv):
    """``tacotron2-tts`` ``main(argv)`` in a new interpreter: ``(status, whether torch got imported, stderr)``."""
    import subprocess

    code = ("import sys\n"
            "from tacotron2_waveglow.synthesis.cli import main\n"
            f"status = main({list(argv)!r})\n"
            "print(status, 'torch' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    status, torch_loaded = result.stdout.split()
    return int(status), torch_loaded == "True", result.stderr


def test_numeric_option_errors_are_reported_before_torch_is_imported(tmp_path):
    """The checks that need no device answer without importing torch (the slow part of start-up)."""
    status, torch_loaded, err = _main_in_fresh_interpreter(['hi', '--sigma', 'nan', '-o', str(tmp_path / 'a.wav')])
    assert (status, torch_loaded) == (2, False), err
    assert "--sigma" in err


def test_torch_build_is_read_without_importing_torch():
    """``torch_build_has_cuda`` agrees with ``torch.version`` and imports no torch to find it."""
    import subprocess

    import torch

    code = ("import sys\n"
            "from tacotron2_waveglow.synthesis.device import torch_build_has_cuda\n"
            "print(torch_build_has_cuda(), 'torch' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    expected = torch.version.cuda is not None or getattr(torch.version, "hip", None) is not None
    assert result.stdout.split() == [str(expected), "False"], result.stderr
    from tacotron2_waveglow.synthesis.device import torch_build_has_cuda

    assert torch_build_has_cuda() is expected  # torch imported: read from torch.version itself


def test_cuda_only_words_follow_both_models_tables():
    """The CLI's torch-free list of CUDA-only words is what both models' tables say."""
    import tacotron2.inference
    import waveglow.inference
    from tacotron2_waveglow.synthesis.inference import CUDA_ONLY_BACKENDS, CUDA_ONLY_PRECISIONS

    for table in (tacotron2.inference.SUPPORTED, waveglow.inference.SUPPORTED):
        on_cpu = {word for key, devices in table.items() if "cpu" in devices for word in key}
        words = {word for key in table for word in key}
        assert set(CUDA_ONLY_BACKENDS) | set(CUDA_ONLY_PRECISIONS) == words - on_cpu


@pytest.mark.skipif(torch_build_has_cuda() is not False, reason="checks a CPU-only torch build")
@pytest.mark.parametrize("flags,fragment", [(["--device", "cuda"], "device 'cuda' requested"),
                                            (["--precision", "fp16"], "--precision fp16 needs a CUDA GPU"),
                                            (["--backend", "cuda_graph"], "--backend cuda_graph needs a CUDA GPU")])
def test_cuda_options_on_a_cpu_only_build_fail_before_torch_is_imported(tmp_path, flags, fragment):
    status, torch_loaded, err = _main_in_fresh_interpreter(['hi', '-o', str(tmp_path / 'a.wav')] + flags)
    assert (status, torch_loaded) == (2, False), err
    assert fragment in err and "CPU-only build" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("version_py,expected", [
    ("__version__ = '2.13.0+cpu'\ncuda: Optional[str] = None\nhip: Optional[str] = None\n", False),
    ("cuda: Optional[str] = '12.8'\nhip: Optional[str] = None\n", True),
    ("cuda = None\nhip = '6.2'\n", True),
    ("cuda = None\n", None),               # no hip line: another shape, so unknown
    ("cuda = get_cuda()\nhip = None\n", None),  # not a constant
    ("this is not python (", None),
    (None, None),                          # no version.py at all
])
def test_torch_build_has_cuda_reads_version_py_or_says_unknown(tmp_path, monkeypatch, version_py, expected):
    import importlib.machinery
    import importlib.util

    from tacotron2_waveglow.synthesis import device

    package = tmp_path / "torch"
    package.mkdir()
    if version_py is not None:
        (package / "version.py").write_text(version_py, encoding="utf-8")
    spec = importlib.machinery.ModuleSpec("torch", None, is_package=True)
    spec.submodule_search_locations = [str(package)]
    monkeypatch.delitem(sys.modules, "torch")  # as before torch is imported (restored after the test)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec if name == "torch" else None)
    assert device.torch_build_has_cuda() is expected
