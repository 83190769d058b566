"""``tacotron2-export-onnx`` and ``tacotron2-tts --backend onnxruntime``: success paths and one-line errors."""
from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from tacotron2_waveglow.onnx.cli import main as export_main  # noqa: E402
from tacotron2_waveglow.onnx.manifest import read_manifest  # noqa: E402
from tacotron2_waveglow.synthesis.cli import main as tts_main  # noqa: E402


def _export(capsys, argv):
    status = export_main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _tts(capsys, argv):
    status = tts_main([str(a) for a in argv], stdin=io.StringIO(""))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _one_line_error(outcome, prog, *fragments, status=2):
    code, out, err = outcome
    lines = err.strip().splitlines()
    assert code == status, err
    assert out == "" and "Traceback" not in err and len(lines) == 1, err
    assert lines[0].startswith(f"{prog}: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.slow
def test_export_cli_with_a_config_for_a_file_without_one(capsys, golden_dir, tmp_path):
    import torch

    config = tmp_path / "config.json"
    import json

    config.write_text(json.dumps(torch.load(golden_dir / "tacotron2_tiny_ngc.pt", weights_only=True)["config"]))
    status, out, err = _export(capsys, [tmp_path / "out", "--tacotron2", golden_dir / "tacotron2_tiny_nvidia_repo.pt",
                                        "--tacotron2-config", config])
    assert status == 0, err
    assert out == "" and "verified with ONNX Runtime" in err
    assert read_manifest(tmp_path / "out").has_tacotron2()
    status, out, err = _export(capsys, [tmp_path / "out", "--check", "--tacotron2",
                                        golden_dir / "tacotron2_tiny_ngc.pt"])
    assert status == 0 and "matches PyTorch" in err


@pytest.mark.parametrize("argv, fragments", [
    (["OUT"], ("nothing to export",)),
    (["OUT", "--tacotron2", "missing.pt"], ("--tacotron2: file not found",)),
    (["OUT", "--waveglow-config", "{}"], ("nothing to export",)),
    (["OUT", "--voice", "nobody"], ("invalid choice",)),
    (["OUT", "--opset", "x"], ("invalid int value",)),
    (["OUT", "--precision", "bf16", "--voice", "builtin"], ("invalid choice",)),
])
def test_export_cli_usage_errors(capsys, tmp_path, argv, fragments):
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    _one_line_error(_export(capsys, argv), "tacotron2-export-onnx", *fragments)
    assert not (tmp_path / "out").exists()


def test_export_cli_refuses_an_occupied_folder(capsys, golden_dir, export_copy):
    outcome = _export(capsys, [export_copy, "--waveglow", golden_dir / "waveglow_tiny_ngc.pt"])
    _one_line_error(outcome, "tacotron2-export-onnx", "already holds an export", "--force")


def test_export_cli_check_refuses_another_model(capsys, golden_dir, tiny_export, tmp_path):
    outcome = _export(capsys, [tiny_export, "--check", "--waveglow", golden_dir / "waveglow_tiny_glow_old_pickle.pt"])
    _one_line_error(outcome, "tacotron2-export-onnx", "another config", "alternate_halves")


def test_export_cli_config_for_a_voice_is_refused(capsys, tmp_path):
    outcome = _export(capsys, [tmp_path / "out", "--voice", "builtin", "--tacotron2-config", "{}"])
    _one_line_error(outcome, "tacotron2-export-onnx", "--tacotron2-config applies to a checkpoint file")


def test_tts_with_the_onnxruntime_backend(capsys, tiny_export, tmp_path, tiny_tacotron2_and_waveglow_paths):
    from audio import load_wav

    status, out, err = _tts(capsys, ["Speak this sentence.", "--backend", "onnxruntime", "--onnx-dir", tiny_export,
                                     "-o", tmp_path / "onnx.wav", "--seed", "3", "--denoise", "0"])
    assert status == 0, err
    taco, glow = tiny_tacotron2_and_waveglow_paths
    status, out, err = _tts(capsys, ["Speak this sentence.", "--tacotron2", taco, "--waveglow", glow,
                                     "-o", tmp_path / "torch.wav", "--seed", "3", "--denoise", "0"])
    assert status == 0, err
    got, want = load_wav(tmp_path / "onnx.wav")[0], load_wav(tmp_path / "torch.wav")[0]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=2 / 32768, rtol=0)  # int16 WAVs: at most one step of rounding apart


@pytest.mark.parametrize("argv, fragments", [
    (["--backend", "onnxruntime"], ("--backend onnxruntime and --onnx-dir DIR go together",)),
    (["--onnx-dir", "DIR"], ("go together",)),
    (["--backend", "onnxruntime", "--onnx-dir", "DIR", "--tacotron2", "t.pt"], ("--tacotron2 does not apply",)),
    (["--backend", "onnxruntime", "--onnx-dir", "DIR", "--precision", "bf16"], ("--precision and --device cuda",)),
    (["--backend", "onnxruntime", "--onnx-dir", "missing"], ("--onnx-dir: folder not found",)),
    (["--backend", "tensorrt"], ("invalid choice",)),
])
def test_tts_backend_usage_errors(capsys, tiny_export, tmp_path, argv, fragments):
    argv = [str(tiny_export) if a == "DIR" else str(tmp_path / a) if a == "missing" else a for a in argv]
    _one_line_error(_tts(capsys, ["Hi there.", "-o", tmp_path / "x.wav", *argv]), "tacotron2-tts", *fragments)
    assert not (tmp_path / "x.wav").exists()


def test_tts_refuses_a_damaged_folder(capsys, export_copy, tmp_path):
    (export_copy / "decoder_step.onnx").unlink()
    outcome = _tts(capsys, ["Hi there.", "-o", tmp_path / "x.wav", "--backend", "onnxruntime",
                            "--onnx-dir", export_copy])
    _one_line_error(outcome, "tacotron2-tts", "decoder_step.onnx is missing")


@pytest.fixture(scope="session")
def tiny_tacotron2_and_waveglow_paths(golden_dir):
    return golden_dir / "tacotron2_tiny_ngc.pt", golden_dir / "waveglow_tiny_ngc.pt"
