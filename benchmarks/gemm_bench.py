"""Matrix-product throughput of this CPU in fp32, bf16 and int8: what each precision's paths can reach.

    python -m benchmarks.gemm_bench --shapes 3200x1536x1024 3200x768x512 --threads 2

For each ``MxKxN`` shape, ``a @ b`` in fp32 and bf16 and ``torch._int_mm`` in
int8 (the int8 WaveGlow's product) run round robin, ``repeats`` rounds after
a warm-up; the table gives each one's median time and multiply-adds per
second. The WaveGlow shapes: 3200 rows is 100 mel frames of WaveGlow's
8-sample groups; ``K x N`` is 768 x 512 for a 256-channel in-layer
convolution (3 taps), 1536 x 1024 for 512 channels. Progress goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

DTYPES = ("fp32", "bf16", "int8")


def parse_shape(text: str) -> Tuple[int, int, int]:
    """``"MxKxN"`` -> ``(M, K, N)``, each a positive int."""
    parts = text.lower().split("x")
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"a shape is MxKxN with positive ints, got {text!r}")
    return int(parts[0]), int(parts[1]), int(parts[2])


def _product(dtype: str, m: int, k: int, n: int, generator: torch.Generator) -> Callable[[], torch.Tensor]:
    if dtype == "int8":
        a = torch.randint(-127, 128, (m, k), dtype=torch.int8, generator=generator)
        b = torch.randint(-127, 128, (k, n), dtype=torch.int8, generator=generator)
        return lambda: torch._int_mm(a, b)
    torch_dtype = torch.float32 if dtype == "fp32" else torch.bfloat16
    a = torch.randn(m, k, generator=generator).to(torch_dtype)
    b = torch.randn(k, n, generator=generator).to(torch_dtype)
    return lambda: a @ b


def bench_gemm(shapes: Sequence[Tuple[int, int, int]], dtypes: Sequence[str] = DTYPES, repeats: int = 15,
               threads: int = 2, show_progress: bool = True) -> List[Dict[str, object]]:
    """One row per shape and dtype: ``shape``, ``dtype``, ``ms`` (median), ``gmacs`` (G multiply-adds/s), ``times_s``."""
    unknown = sorted(set(dtypes) - set(DTYPES))
    if unknown:
        raise ValueError(f"unknown dtypes {unknown}; choose from {', '.join(DTYPES)}")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _bench(shapes, dtypes, repeats, show_progress)
    finally:
        torch.set_num_threads(previous)


def _bench(shapes, dtypes, repeats, show_progress) -> List[Dict[str, object]]:
    rows = []
    for m, k, n in shapes:
        generator = torch.Generator().manual_seed(0)
        runs = {dtype: _product(dtype, m, k, n, generator) for dtype in dtypes}
        times: Dict[str, List[float]] = {dtype: [] for dtype in dtypes}
        for run in runs.values():
            run()
        if show_progress:
            print(f"gemm_bench: {m}x{k}x{n}, {repeats} rounds", file=sys.stderr)
        for _ in range(repeats):
            for dtype, run in runs.items():
                start = time.perf_counter()
                run()
                times[dtype].append(time.perf_counter() - start)
        for dtype in dtypes:
            seconds = statistics.median(times[dtype])
            rows.append(dict(shape=f"{m}x{k}x{n}", dtype=dtype, ms=1e3 * seconds, gmacs=m * k * n / seconds / 1e9,
                             times_s=times[dtype]))
    return rows


def format_table(rows: Sequence[Dict[str, object]]) -> str:
    lines = [f"{'shape':<18}{'dtype':<7}{'ms':>10}{'GMAC/s':>10}", "-" * 45]
    lines += [f"{r['shape']:<18}{r['dtype']:<7}{r['ms']:>10.3f}{r['gmacs']:>10.0f}" for r in rows]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.gemm_bench", description=__doc__.splitlines()[0])
    p.add_argument("--shapes", nargs="+", type=parse_shape, default=[(3200, 1536, 1024), (3200, 768, 512)])
    p.add_argument("--dtypes", nargs="+", choices=DTYPES, default=list(DTYPES))
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--json", help="where to write the rows")
    args = p.parse_args(argv)
    rows = bench_gemm(args.shapes, args.dtypes, args.repeats, args.threads, not args.quiet)
    print(format_table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"rows": rows, "torch": torch.__version__}, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
