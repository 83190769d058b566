"""benchmarks/waveglow_bench.py on a tiny WN width: rows, accuracy columns and the int8 form cache."""
import pytest

from benchmarks.waveglow_bench import bench_waveglow, format_table


@pytest.mark.slow
def test_int8_rows_report_a_cold_then_a_warm_form_cache(tmp_path):
    def run():
        return bench_waveglow(channels=[8], paths=["reference", "int8"], batch_sizes=[1], frames=4, repeats=1,
                              threads=1, cache_dir=str(tmp_path))

    first, second = run(), run()
    by_path = [{r["path"]: r for r in rows} for rows in (first, second)]
    assert by_path[0]["int8"]["prepared_from_cache"] is False
    assert by_path[1]["int8"]["prepared_from_cache"] is True
    assert by_path[1]["reference"]["prepared_from_cache"] is False  # only int8 has a form to keep
    assert by_path[0]["reference"]["snr_db"] == float("inf")
    # the cached form computes exactly what the built one did
    assert by_path[0]["int8"]["max_abs_err"] == by_path[1]["int8"]["max_abs_err"] > 0
    assert "prep s*: the prepared form was read from --cache-dir" in format_table(second)
    assert "prep s*" not in format_table(first)
    assert len(list(tmp_path.glob("*"))) == 1


def test_command_records_the_allocator_setting_it_ran_with(tmp_path):
    import json
    import platform
    import subprocess
    import sys

    out = tmp_path / "rows.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.waveglow_bench", "--channels", "8", "--frames", "4",
                           "--paths", "reference", "fast", "--batch", "1", "--repeats", "1", "--threads", "1",
                           "--quiet", "--malloc", "keep", "--json", str(out)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())
    expected = "keep" if platform.libc_ver()[0] == "glibc" else "system"  # glibc's mallopt, or nothing to set
    assert [r["malloc"] for r in rows] == [expected, expected]
    assert proc.stdout.strip().endswith(f"malloc: {expected}")
