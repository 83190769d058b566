"""``tools/gpu/check.sh`` runs on a lent GPU machine with minutes of device time: its commands must be valid here.

The script cannot run on CI (no GPU), so a renamed benchmark path or option would
only show up once that time is being spent. These checks parse its commands and
hold them against the benchmarks' own tables and parsers.
"""
import re
import shlex
from pathlib import Path

import pytest

from benchmarks import bench_inference, tacotron2_bench, waveglow_bench

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "gpu" / "check.sh"


def _benchmark_commands():
    """``(module, argv)`` of every ``python3 -m benchmarks.X ...`` step of the script."""
    text = SCRIPT.read_text(encoding="utf-8").replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        match = re.search(r"python3 -m (benchmarks\.\w+)(.*)$", line)
        if match:
            argv = [a for a in shlex.split(match.group(2)) if "$OUT" not in a]
            commands.append((match.group(1), argv))
    return commands


def _values(argv, flag):
    if flag not in argv:
        return []
    values = []
    for item in argv[argv.index(flag) + 1:]:
        if item.startswith("--"):
            break
        values.append(item)
    return values


def test_the_script_runs_the_three_gpu_benchmarks():
    assert sorted(module for module, _ in _benchmark_commands()) == [
        "benchmarks.bench_inference", "benchmarks.tacotron2_bench", "benchmarks.waveglow_bench"]


@pytest.mark.parametrize("module,argv", _benchmark_commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_benchmark_command_parses_and_names_cuda_paths(module, argv):
    tables = {"benchmarks.tacotron2_bench": (tacotron2_bench.PATHS, tacotron2_bench.PATHS),
              "benchmarks.waveglow_bench": (waveglow_bench.PATHS, None),
              "benchmarks.bench_inference": (waveglow_bench.PATHS, tacotron2_bench.PATHS)}
    glow_or_taco, taco = tables[module]
    paths = _values(argv, "--paths")
    assert paths and all(p in glow_or_taco and glow_or_taco[p][0] == "cuda" for p in paths), paths
    for name in _values(argv, "--tacotron-paths"):
        assert taco is not None and name in taco and taco[name][0] == "cuda", name
    parser_of = {"benchmarks.tacotron2_bench": tacotron2_bench, "benchmarks.waveglow_bench": waveglow_bench,
                 "benchmarks.bench_inference": bench_inference}[module]
    source = Path(parser_of.__file__).read_text(encoding="utf-8")
    for flag in (a for a in argv if a.startswith("--")):
        assert f'"{flag}"' in source, f"{module} has no option {flag}"
