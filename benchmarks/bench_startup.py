"""Start-up benchmark: whole processes, from their start to their exit.

    python -m benchmarks.bench_startup --runs 5
    python -m benchmarks.bench_startup --runs 3 --importtime     # plus -X importtime costs per package
    python -m benchmarks.bench_startup --strict                  # exit 1 when a target fails

Each row is a fresh ``python`` process (or the ``tacotron2-tts`` script), run
once per round for ``--runs`` interleaved rounds (each timing after its own
warm-up run); the median wall and CPU (user + system) seconds are reported. ``farm-bench`` times the processes when it is on
the PATH (it reads the operating system's accounting of each finished child),
else ``subprocess`` with ``time.perf_counter`` and ``resource.getrusage``.

Rows: ``python -c pass`` (the interpreter alone), ``import torch``,
``import tacotron2``, ``import text``, ``import checkpoints``,
``tacotron2-tts --help`` and ``tacotron2-tts "Hello world" -o x.wav
--pretrained builtin`` (the built-in voice, Griffin-Lim; about a second of
audio), and ``tacotron2-tts --precision fp16`` on the CPU (a usage error, exit
status 2, answered before torch is imported on a CPU-only torch build). The
targets of issue 16 are printed as PASS/FAIL lines:

* ``tacotron2-tts "Hello world"`` with the built-in voice: <= 3 s wall;
* ``tacotron2-tts --help``: <= 1 s wall;
* ``import tacotron2``: little beyond ``import torch`` (<= 0.3 s more, read from
  ``-X importtime`` in one process; the wall difference of the rows is shown too);
* an option error that needs the device (``--precision fp16`` on the CPU): <= 1 s wall.

The targets are for an otherwise idle 2-core machine; on a loaded machine
read the CPU column and the differences between rows. Not part of the test
suite (pytest collects ``tests/`` only).
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

HELLO_SECONDS = 3.0
HELP_SECONDS = 1.0
IMPORT_OVER_TORCH_SECONDS = 0.3
_IMPORTTIME_RE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)")


@dataclass
class Timing:
    """Median wall and CPU seconds of one command over its counted runs."""

    name: str
    wall: float
    cpu: float
    runs: int


def _tts_command() -> List[str]:
    script = shutil.which("tacotron2-tts")
    if script is not None:
        return [script]
    return [sys.executable, "-m", "tacotron2_waveglow.synthesis"]


def commands(out_dir: Path) -> Dict[str, List[str]]:
    """Row name -> command line."""
    python = sys.executable
    tts = _tts_command()
    return {
        "python -c pass": [python, "-c", "pass"],
        "import torch": [python, "-c", "import torch"],
        "import tacotron2": [python, "-c", "import tacotron2"],
        "import text": [python, "-c", "import text"],
        "import checkpoints": [python, "-c", "import checkpoints"],
        "tacotron2-tts --help": tts + ["--help"],
        "tacotron2-tts Hello world (builtin)": tts + [
            "Hello world", "-o", str(out_dir / "hello.wav"), "--pretrained", "builtin", "--force", "--quiet",
            "--device", "cpu"],
        "tacotron2-tts --precision fp16 (error)": tts + ["Hello world", "-o", str(out_dir / "fp16.wav"),
                                                         "--precision", "fp16", "--device", "cpu"],
    }


#: Rows that are meant to fail (a usage error, exit status 2): they time how fast the error comes.
EXPECTED_STATUS = {"tacotron2-tts --precision fp16 (error)": 2}


def _time_with_subprocess(command: Sequence[str], runs: int, status: int = 0) -> Timing:
    walls, cpus = [], []
    for index in range(runs + 1):  # the first run is a warm-up
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.returncode != status:
            raise RuntimeError(f"{' '.join(command)} exited {result.returncode}: {result.stderr.strip()[-500:]}")
        if index:
            walls.append(wall)
            cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return Timing(" ".join(command), statistics.median(walls), statistics.median(cpus), runs)


def _time_with_farm_bench(command: Sequence[str], runs: int, status: int = 0) -> Timing:
    result = subprocess.run(
        ["farm-bench", "-n", str(runs), "--warmup", "1", "--timeout", "900", "--", *command],
        capture_output=True, text=True, check=False)
    medians = {}
    for line in result.stdout.splitlines():
        fields = line.split()
        if len(fields) == 6 and fields[0] == "A" and fields[2] == "s" and fields[1] in ("wall", "cpu"):
            medians[fields[1]] = float(fields[4])  # min, median, max
    if set(medians) != {"wall", "cpu"} or f"exit {status}" not in result.stdout:
        raise RuntimeError(f"farm-bench could not time {' '.join(command)}:\n{result.stdout}{result.stderr}")
    return Timing(" ".join(command), medians["wall"], medians["cpu"], runs)


def import_costs(module: str, top: int = 8) -> List[str]:
    """The ``top`` top-level packages by self import time of ``python -X importtime -c 'import module'``."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                            capture_output=True, text=True, check=False)
    per_package: Dict[str, int] = {}
    for match in _IMPORTTIME_RE.finditer(result.stderr):
        package = match.group(2).split(".")[0]
        per_package[package] = per_package.get(package, 0) + int(match.group(1))
    total = sum(per_package.values()) or 1
    ranked = sorted(per_package.items(), key=lambda item: -item[1])[:top]
    return [f"{name} {micros / 1e6:.2f} s ({100 * micros / total:.0f}%)" for name, micros in ranked]


def import_over_torch(runs: int) -> float:
    """Median over ``runs`` processes of what ``import tacotron2`` adds to ``import torch`` in the same process.

    ``python -X importtime -c 'import tacotron2'``: the cumulative time of
    ``tacotron2`` minus that of ``torch`` (which it imports first). Unlike the
    difference of two processes' wall times, this does not carry their noise.
    """
    extras = []
    for _ in range(runs):
        result = subprocess.run([sys.executable, "-X", "importtime", "-c", "import tacotron2"],
                                capture_output=True, text=True, check=True)
        cumulative = {}
        for line in result.stderr.splitlines():
            fields = [field.strip() for field in line.split("|")]
            if len(fields) == 3 and fields[2] in ("torch", "tacotron2"):
                cumulative[fields[2]] = int(fields[1]) / 1e6
        extras.append(cumulative["tacotron2"] - cumulative["torch"])
    return statistics.median(extras)


def verdicts(results: Dict[str, Timing], import_extra: Optional[float] = None) -> List[str]:
    """The issue's targets as ``PASS``/``FAIL`` lines."""
    lines = []

    def check(ok: bool, text: str) -> None:
        lines.append(f"{'PASS' if ok else 'FAIL'}  {text}")

    hello = results["tacotron2-tts Hello world (builtin)"].wall
    check(hello <= HELLO_SECONDS, f'tacotron2-tts "Hello world" (built-in voice): {hello:.2f} s wall <= {HELLO_SECONDS} s')
    help_wall = results["tacotron2-tts --help"].wall
    check(help_wall <= HELP_SECONDS, f"tacotron2-tts --help: {help_wall:.2f} s wall <= {HELP_SECONDS} s")
    extra = results["import tacotron2"].wall - results["import torch"].wall
    if import_extra is None:
        check(extra <= IMPORT_OVER_TORCH_SECONDS,
              f"import tacotron2: {extra:+.2f} s wall over import torch <= {IMPORT_OVER_TORCH_SECONDS} s")
    else:
        check(import_extra <= IMPORT_OVER_TORCH_SECONDS,
              f"import tacotron2: {import_extra:+.3f} s over import torch in one process (-X importtime; "
              f"{extra:+.2f} s between the two rows' wall medians) <= {IMPORT_OVER_TORCH_SECONDS} s")
    error = results.get("tacotron2-tts --precision fp16 (error)")
    if error is not None:
        check(error.wall <= HELP_SECONDS,
              f"tacotron2-tts --precision fp16 on a CPU-only build errs in {error.wall:.2f} s wall <= {HELP_SECONDS} s")
    return lines


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_startup",
                                     description="Time the library's start-up as whole processes.")
    parser.add_argument("--runs", type=int, default=5, help="counted runs per row, after one warm-up (default 5)")
    parser.add_argument("--runner", choices=("auto", "farm-bench", "subprocess"), default="auto",
                        help="how to time the processes (default: farm-bench when installed)")
    parser.add_argument("--only", nargs="+", metavar="ROW", help="time only the rows whose names contain these words")
    parser.add_argument("--importtime", action="store_true",
                        help="also list the costliest packages of each import row (python -X importtime)")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a target fails")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    use_farm_bench = args.runner == "farm-bench" or (args.runner == "auto" and shutil.which("farm-bench"))
    timer: Callable[[Sequence[str], int], Timing] = _time_with_farm_bench if use_farm_bench else _time_with_subprocess
    results: Dict[str, Timing] = {}
    env_note = f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, {os.cpu_count()} CPUs"
    print(f"start-up, {'farm-bench' if use_farm_bench else 'subprocess'} timing, median of {args.runs} "
          f"runs after 1 warm-up, {env_note}")
    print(f"{'row':40} {'wall s':>8} {'cpu s':>8}")
    with tempfile.TemporaryDirectory(prefix="bench_startup_") as tmp:
        rows = {name: command for name, command in commands(Path(tmp)).items()
                if not args.only or any(word in name for word in args.only)}
        rounds: Dict[str, List[Timing]] = {name: [] for name in rows}
        for round_index in range(args.runs):  # interleaved: each round times every row once
            for name, command in rows.items():
                rounds[name].append(timer(command, 1, EXPECTED_STATUS.get(name, 0)))
            print(f"round {round_index + 1}/{args.runs} done", file=sys.stderr, flush=True)
        for name, timings in rounds.items():
            results[name] = Timing(name, statistics.median(t.wall for t in timings),
                                   statistics.median(t.cpu for t in timings), len(timings))
            print(f"{name:40} {results[name].wall:8.2f} {results[name].cpu:8.2f}", flush=True)
    if args.importtime:
        for module in ("tacotron2", "text", "checkpoints"):
            print(f"-X importtime, import {module}: " + "; ".join(import_costs(module)))
    if not all(name in results for name in ("tacotron2-tts Hello world (builtin)", "tacotron2-tts --help",
                                            "import tacotron2", "import torch")):
        return 0
    lines = verdicts(results, import_over_torch(args.runs))
    print("\n".join(lines))
    return 1 if args.strict and any(line.startswith("FAIL") for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
