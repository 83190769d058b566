"""The Tacotron 2 benchmark harness runs and reports every field (no timing assertions)."""
import json

import pytest
import torch

from benchmarks.tacotron2_bench import bench_tacotron2, format_table, lstm_weight_bytes, main
from tacotron2.inference import PRECISIONS
from tacotron2.inference import DOCUMENTED_RELATIVE_ERROR
from text import text_to_sequence
from tacotron2 import Tacotron2Config
from tests.tacotron2.conftest import TINY


def test_bench_tacotron2_rows_on_a_tiny_model():
    rows = bench_tacotron2(Tacotron2Config(**TINY), paths=["reference", "fast", "int8"], batch_sizes=[2],
                           n_steps=3, repeats=1, threads=1, text_length=5, profile_steps=2)
    assert [r["path"] for r in rows] == ["reference", "fast", "int8"]
    by_path = {r["path"]: r for r in rows}
    assert by_path["fast"]["max_abs_err"] < 1e-5 < by_path["int8"]["max_abs_err"]
    assert by_path["reference"]["speedup_vs_reference"] == pytest.approx(1.0)
    for row in rows:
        assert row["ms_per_step"] > 0 and row["peak_mem_mb"] > 0 and len(row["times_s"]) == 1
        assert row["prepare_s"] >= 0 and row["prepared_mb"] >= 0
        assert 0 < row["lstm_products_ms_per_step"] and row["speedup_bound"] > 0
        assert 0 < row["weights_read_ms_per_step"]
    # the profiled breakdown names every region of the fast loop
    assert set(by_path["fast"]["breakdown"]["regions_ms_per_step"]) == {
        "prenet", "attention_lstm", "attention", "decoder_lstm", "projections"}
    assert "aten::addmm" in by_path["reference"]["breakdown"]["top_ops_ms_per_step"]
    table = format_table(rows)
    assert "int8" in table and "region decoder_lstm" in table and "read ms" in table
    torch.set_num_threads(2)


def test_bench_tacotron2_measures_a_given_checkpoint_on_a_sentence(tiny_model, tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"state_dict": tiny_model.state_dict(), "config": tiny_model.config.to_dict()}, path)
    out = tmp_path / "rows.json"
    main(["--checkpoint", str(path), "--text", "Hello world.", "--paths", "reference", "bf16", "--batch-sizes", "1",
          "--steps", "3", "--repeats", "1", "--threads", "1", "--profile-steps", "0", "--quiet",
          "--json", str(out)])
    rows = json.loads(out.read_text())["rows"]
    assert [r["text_length"] for r in rows] == [len(text_to_sequence("Hello world."))] * 2
    assert 0 < rows[1]["rel_err"] <= DOCUMENTED_RELATIVE_ERROR["bf16"]
    torch.set_num_threads(2)


def test_bench_tacotron2_rejects_unknown_paths():
    with pytest.raises(ValueError, match="unknown paths"):
        bench_tacotron2(Tacotron2Config(**TINY), paths=["warp"])


def test_the_memory_floor_reads_the_lstm_weights_bytes(tiny_model):
    # TINY: attention LSTM 4 * 48 x (24 + 32 + 48), decoder LSTM 4 * 40 x (48 + 32 + 40)
    weights = 4 * 48 * (24 + 32 + 48) + 4 * 40 * (48 + 32 + 40)
    assert lstm_weight_bytes(tiny_model.decoder, "fp32") == 4 * weights
    assert lstm_weight_bytes(tiny_model.decoder, "int8") == weights
    assert lstm_weight_bytes(tiny_model.decoder, "bf16") == lstm_weight_bytes(tiny_model.decoder, "fp16") == 2 * weights
    assert {p: lstm_weight_bytes(tiny_model.decoder, p) > 0 for p in PRECISIONS} == dict.fromkeys(PRECISIONS, True)
    with pytest.raises(ValueError, match="precision must be one of"):
        lstm_weight_bytes(tiny_model.decoder, "fp8")
