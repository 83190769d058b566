"""``python -m checkpoints``: inspect, convert, list; user errors are one line with exit 2."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from checkpoints.__main__ import main

GOLDEN_LAYOUTS = [
    ("tacotron2_tiny_ngc.pt", "hub/NGC", "tacotron2", "module."),
    ("tacotron2_tiny_ngc_fp16.pt", "hub/NGC", "tacotron2", "module."),
    ("tacotron2_tiny_dle_train.pt", "DLE training", "tacotron2", "none"),
    ("tacotron2_tiny_nvidia_repo.pt", "NVIDIA/tacotron2 train.py", "tacotron2", "none"),
    ("waveglow_tiny_ngc.pt", "hub/NGC", "waveglow", "module."),
    ("waveglow_tiny_glow_pickle.pt", "pickled model object", "waveglow", "none"),
    ("waveglow_tiny_glow_old_pickle_legacy.pt", "pickled model object", "waveglow", "none"),
]


def _one_line_error(capsys, status: int, *fragments: str) -> None:
    err = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("python -m checkpoints: error: ")
    for fragment in fragments:
        assert fragment in err


@pytest.mark.parametrize("name,layout,model,prefix", GOLDEN_LAYOUTS)
def test_inspect_golden_layouts(capsys, golden_dir, name, layout, model, prefix):
    assert main(["inspect", str(golden_dir / name), "--no-load"]) == 0
    out = capsys.readouterr().out
    assert layout in out
    assert f"model:       {model}" in out
    assert f"key prefix:  {prefix}" in out


def test_inspect_reports_dtypes_and_missing_config(capsys, golden_dir):
    assert main(["inspect", str(golden_dir / "waveglow_tiny_ngc_fp16.pt"), "--no-load"]) == 0
    out = capsys.readouterr().out
    assert "float16" in out and "float32" not in out
    assert "weight_g" in out
    assert main(["inspect", str(golden_dir / "tacotron2_tiny_nvidia_repo.pt"), "--no-load"]) == 0
    assert "no config stored" in capsys.readouterr().out


def test_parameter_count_matches_file(capsys, golden_dir):
    path = golden_dir / "tacotron2_tiny_dle_train.pt"
    state = torch.load(path, weights_only=True)["state_dict"]
    expected = sum(v.numel() for v in state.values() if v.is_floating_point())
    assert main(["inspect", str(path), "--no-load"]) == 0
    assert f"{expected:,}" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["waveglow_tiny_glow_pickle.pt", "waveglow_tiny_glow_old_pickle_legacy.pt"])
def test_inspect_counts_the_tensors_of_pickled_modules(capsys, golden_dir, name):
    from checkpoints import load_waveglow

    # The hub-named state dict keeps weight norm (g, v); the loaded model's is the independent count.
    expected = sum(v.numel() for v in load_waveglow(golden_dir / name).state_dict().values()
                   if v.is_floating_point())
    assert main(["inspect", str(golden_dir / name), "--no-load"]) == 0
    out = capsys.readouterr().out
    assert f"{expected:,} floating-point" in out
    assert "tensors:     none" not in out


def test_inspect_errors(capsys, tmp_path):
    _one_line_error(capsys, main(["inspect", str(tmp_path / "missing.pt")]), "not found")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00garbage")
    _one_line_error(capsys, main(["inspect", str(junk)]), "junk.pt")
    _one_line_error(capsys, main(["inspect", str(junk), "--config", "{bad json"]), "JSON")
    _one_line_error(capsys, main(["frobnicate"]), "frobnicate")


def test_convert_refuses_to_overwrite(capsys, tmp_path, golden_dir):
    out = tmp_path / "out.pt"
    out.write_bytes(b"keep")
    _one_line_error(capsys, main(["convert", str(golden_dir / "waveglow_tiny_ngc.pt"), str(out)]), "--force")
    assert out.read_bytes() == b"keep"
    _one_line_error(capsys, main(["convert", str(tmp_path / "missing.pt"), str(tmp_path / "o.pt")]), "not found")


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "nvidia_tacotron2pyt_fp32_20190427" in out and "--list-voices" in out


def test_runs_as_module(golden_dir):
    proc = subprocess.run([sys.executable, "-m", "checkpoints", "inspect", "--no-load",
                           str(golden_dir / "waveglow_tiny_ngc.pt")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "waveglow" in proc.stdout


@pytest.mark.parametrize("name", ["waveglow_tiny_glow_pickle_legacy.pt", "tacotron2_tiny_nvidia_repo.pt"])
def test_convert_to_hub_layout(capsys, tmp_path, golden_dir, name):
    from checkpoints import load_tacotron2, load_waveglow

    source, target = golden_dir / name, tmp_path / "hub.pt"
    loader = load_waveglow if name.startswith("waveglow") else load_tacotron2
    config = ["--config", '{"n_mel_channels": 8, "symbols_embedding_dim": 32, "encoder_embedding_dim": 32, '
              '"attention_rnn_dim": 48, "attention_dim": 16, "attention_location_n_filters": 4, '
              '"decoder_rnn_dim": 40, "prenet_dim": 24, "postnet_embedding_dim": 24, "max_decoder_steps": 40}'] \
        if name.startswith("tacotron2") else []
    assert main(["convert", str(source), str(target), "--fp16"] + config) == 0, capsys.readouterr().err
    hub = torch.load(target, weights_only=True)
    assert set(hub) == {"state_dict", "config"}
    assert {v.dtype for v in hub["state_dict"].values() if v.is_floating_point()} == {torch.float16}
    original = loader(source, config=None if not config else hub["config"]).state_dict()
    converted = loader(target).state_dict()
    assert original.keys() == converted.keys()
    for key in original:
        torch.testing.assert_close(converted[key], original[key].half().to(original[key].dtype), rtol=0, atol=0)
    assert main(["inspect", str(target)]) == 0
    out = capsys.readouterr().out
    assert "hub/NGC" in out and "loads as" in out
