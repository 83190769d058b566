"""The GEMM benchmark reports every shape and dtype (no timing assertions)."""
import argparse
import json

import pytest
import torch

from benchmarks.gemm_bench import bench_gemm, main, parse_shape


def test_rows_for_every_shape_and_dtype_and_threads_restored():
    before = torch.get_num_threads()
    rows = bench_gemm([(8, 16, 4), (3, 5, 7)], repeats=2, threads=1, show_progress=False)
    assert [(r["shape"], r["dtype"]) for r in rows] == [
        ("8x16x4", "fp32"), ("8x16x4", "bf16"), ("8x16x4", "int8"),
        ("3x5x7", "fp32"), ("3x5x7", "bf16"), ("3x5x7", "int8")]
    for r in rows:
        assert r["ms"] > 0 and len(r["times_s"]) == 2
        assert r["gmacs"] == pytest.approx(int(r["shape"].split("x")[0]) * int(r["shape"].split("x")[1])
                                           * int(r["shape"].split("x")[2]) / (r["ms"] / 1e3) / 1e9)
    assert torch.get_num_threads() == before


def test_bad_shapes_and_dtypes():
    assert parse_shape("3200x768x512") == (3200, 768, 512)
    for bad in ("3200x768", "0x1x2", "axbxc"):
        with pytest.raises(argparse.ArgumentTypeError, match="MxKxN"):
            parse_shape(bad)
    with pytest.raises(ValueError, match="unknown dtypes"):
        bench_gemm([(2, 2, 2)], dtypes=["fp64"], show_progress=False)


def test_cli_writes_json(tmp_path, capsys):
    out = tmp_path / "rows.json"
    assert main(["--shapes", "4x8x4", "--repeats", "1", "--threads", "1", "--quiet", "--json", str(out)]) == 0
    assert "GMAC/s" in capsys.readouterr().out
    assert [r["dtype"] for r in json.loads(out.read_text())["rows"]] == ["fp32", "bf16", "int8"]
