"""WaveGlow inference speed and accuracy of each path.

Run ``python -m benchmarks.waveglow_bench`` from the repository root
(``--help`` for options); :func:`bench_waveglow` is the entry point of the
shared harness ``benchmarks/bench_inference.py``.

What is measured: ``WaveGlow.infer`` on a random mel of ``frames`` frames
(``frames * 256`` samples per item), random hub-size weights (hub config
with ``n_channels`` WN channels; the zero-initialised ``end`` layers get
N(0, 0.02) weights so every coupling really transforms), ``sigma=0.6``, a
fixed seed per run. One warm-up run (which also builds the prepared
weights), then the median of ``repeats`` timed runs. Accuracy: each path's
output for seed 0 against the faithful fp32 path's on the same device
(max and mean absolute error, SNR in dB).
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch

from waveglow import WaveGlow, WaveGlowConfig, WNConfig
from waveglow.chunked import exact_overlap_frames, infer_chunked
from waveglow.precision import snr_db

SAMPLING_RATE = 22050
HOP_LENGTH = 256
SIGMA = 0.6

# path name -> (device, infer keyword arguments, how: "infer", "chunked" or "graph")
PATHS: Dict[str, tuple] = {
    "faithful": ("cpu", {"method": "faithful"}, "infer"),
    "fast": ("cpu", {}, "infer"),
    "bf16": ("cpu", {"compute_dtype": torch.bfloat16}, "infer"),
    "folded": ("cpu", {"fold_upsampler": True}, "infer"),
    "bf16_folded": ("cpu", {"compute_dtype": torch.bfloat16, "fold_upsampler": True}, "infer"),
    "int8": ("cpu", {"compute_dtype": torch.int8, "fold_upsampler": True}, "infer"),
    "chunked": ("cpu", {}, "chunked"),
    "chunked_bf16": ("cpu", {"compute_dtype": torch.bfloat16}, "chunked"),
    "cuda_faithful": ("cuda", {"method": "faithful"}, "infer"),
    "cuda_fast": ("cuda", {}, "infer"),
    "cuda_fp16": ("cuda", {"compute_dtype": torch.float16}, "infer"),
    "cuda_bf16": ("cuda", {"compute_dtype": torch.bfloat16}, "infer"),
    "cuda_graph_fp32": ("cuda", {}, "graph"),
    "cuda_graph_fp16": ("cuda", {"compute_dtype": torch.float16}, "graph"),
    "cuda_graph_fp16_folded": ("cuda", {"compute_dtype": torch.float16, "fold_upsampler": True}, "graph"),
}
CPU_PATHS = ("faithful", "fast", "bf16", "folded", "bf16_folded", "int8", "chunked", "chunked_bf16")
CUDA_PATHS = ("cuda_faithful", "cuda_fast", "cuda_fp16", "cuda_bf16", "cuda_graph_fp32", "cuda_graph_fp16",
              "cuda_graph_fp16_folded")


def default_paths() -> List[str]:
    """Every CPU path, plus the CUDA paths when a GPU is present."""
    return list(CPU_PATHS) + (list(CUDA_PATHS) if torch.cuda.is_available() else [])


def random_waveglow(n_channels: int, seed: int = 0) -> WaveGlow:
    """Hub-size WaveGlow (``n_channels`` WN channels) with random weights, in eval mode."""
    torch.manual_seed(seed)
    model = WaveGlow(WaveGlowConfig(WN_config=WNConfig(n_channels=n_channels)))
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(0.0, 0.02)
            wn.end.bias.normal_(0.0, 0.02)
    return model.eval()


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _runner(model: WaveGlow, mel: torch.Tensor, kwargs: dict, how: str, chunk_frames: int,
            overlap_frames: Optional[int]) -> Callable[[int], torch.Tensor]:
    """``run(seed)`` for one path; a CUDA graph is captured on the first (warm-up) call."""
    graphs: list = []
    kwargs = {"fold_upsampler": False, **kwargs}  # unfolded unless the path says so (folded forms are cached too)

    def run(seed: int) -> torch.Tensor:
        torch.manual_seed(seed)
        if how == "chunked":
            return infer_chunked(model, mel, SIGMA, chunk_frames=chunk_frames, overlap_frames=overlap_frames,
                                 **kwargs)
        if how == "graph":
            if not graphs:
                from waveglow.cuda_graph import GraphedWaveGlow
                graphs.append(GraphedWaveGlow(model, mel.size(0), mel.size(2), **kwargs))
            return graphs[0](mel, SIGMA)
        return model.infer(mel, SIGMA, **kwargs)
    return run


def median_seconds(run: Callable[[int], torch.Tensor], repeats: int, device: str) -> List[float]:
    """One warm-up call of ``run(seed)``, then ``repeats`` timed calls (seeds 1..repeats)."""
    times = []
    for repeat in range(repeats + 1):
        _sync(device)
        start = time.perf_counter()
        run(repeat)
        _sync(device)
        if repeat:
            times.append(time.perf_counter() - start)
    return times


def round_robin_seconds(runs: Dict[str, Callable[[int], torch.Tensor]], repeats: int) -> Dict[str, List[float]]:
    """One warm-up call of every path, then ``repeats`` rounds timing each path once per round.

    Interleaving the paths spreads slow spells of a shared machine over all of
    them instead of penalising whichever path ran during one.
    """
    devices = {name: PATHS[name][0] for name in runs}
    times: Dict[str, List[float]] = {name: [] for name in runs}
    for repeat in range(repeats + 1):
        for name, run in runs.items():
            _sync(devices[name])
            start = time.perf_counter()
            run(repeat)
            _sync(devices[name])
            if repeat:
                times[name].append(time.perf_counter() - start)
    return times


def peak_memory_mb(device: str) -> float:
    """CUDA max allocated since the last reset, or this process's peak RSS (only ever grows) on CPU."""
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2 ** 20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def accuracy(estimate: torch.Tensor, reference: torch.Tensor) -> dict:
    """Max and mean absolute error and SNR (dB) of ``estimate`` against ``reference``."""
    diff = (estimate.float() - reference.float()).abs()
    return {"max_abs_err": float(diff.max()), "mean_abs_err": float(diff.mean()),
            "snr_db": snr_db(estimate, reference)}


def bench_waveglow(channels: Sequence[int] = (256, 512), paths: Optional[Sequence[str]] = None,
                   batch_sizes: Sequence[int] = (1, 4), frames: int = 200, repeats: int = 3, threads: int = 2,
                   chunk_frames: Optional[int] = None, overlap_frames: Optional[int] = None) -> List[dict]:
    """Time and check each WaveGlow path; one dict per (channels, path, batch size).

    Each dict holds ``model`` (``waveglow_<channels>``), ``path``, ``device``,
    ``batch_size``, ``threads``, ``frames``, ``seconds`` (median),
    ``samples_per_s`` (audio samples of all items per second),
    ``x_real_time``, ``s_per_s_audio`` (compute seconds per second of audio),
    ``speedup_vs_faithful`` (same device, channels and batch size, when
    measured; the paths are timed round-robin, see :func:`round_robin_seconds`), ``max_abs_err``/``mean_abs_err``/``snr_db`` against the faithful
    fp32 path and ``peak_mem_mb``. ``chunk_frames`` defaults to half of
    ``frames``; ``overlap_frames`` to the exact overlap (99 frames for the hub
    config).
    """
    paths = default_paths() if paths is None else list(paths)
    unknown = [p for p in paths if p not in PATHS]
    if unknown:
        raise ValueError(f"unknown WaveGlow paths {unknown}; choose from {sorted(PATHS)}")
    torch.set_num_threads(threads)
    chunk = chunk_frames or max(1, frames // 2)
    rows: List[dict] = []
    for n_channels in channels:
        cpu_model = random_waveglow(n_channels)
        models = {"cpu": cpu_model}
        for batch in batch_sizes:
            mel_cpu = torch.randn(batch, cpu_model.config.n_mel_channels, frames,
                                  generator=torch.Generator().manual_seed(1234))
            references: Dict[str, torch.Tensor] = {}
            runs: Dict[str, Callable[[int], torch.Tensor]] = {}
            for name in paths:
                device, kwargs, how = PATHS[name]
                if device == "cuda" and not torch.cuda.is_available():
                    continue
                if device not in models:
                    models[device] = random_waveglow(n_channels).to(device)
                model, mel = models[device], mel_cpu.to(device)
                if device not in references:
                    references[device] = _runner(model, mel, {"method": "faithful"}, "infer", chunk, None)(0)
                runs[name] = _runner(model, mel, kwargs, how, chunk, overlap_frames)
            times = round_robin_seconds(runs, repeats)
            for name, run in runs.items():
                device, _, how = PATHS[name]
                seconds = statistics.median(times[name])
                if device == "cuda":
                    torch.cuda.reset_peak_memory_stats()
                audio = run(0)  # the accuracy run also gives this path's own CUDA peak memory
                audio_s = batch * frames * HOP_LENGTH / SAMPLING_RATE
                row = {"model": f"waveglow_{n_channels}", "path": name, "device": device, "batch_size": batch,
                       "threads": threads, "frames": frames, "seconds": seconds,
                       "samples_per_s": batch * frames * HOP_LENGTH / seconds,
                       "x_real_time": audio_s / seconds, "s_per_s_audio": seconds / audio_s,
                       **accuracy(audio, references[device]), "peak_mem_mb": peak_memory_mb(device)}
                if how == "chunked":
                    row["chunk_frames"] = chunk
                    row["overlap_frames"] = (exact_overlap_frames(models[device].config) if overlap_frames is None
                                             else overlap_frames)
                rows.append(row)
            _add_speedups(rows, n_channels, batch)
    return rows


def _add_speedups(rows: List[dict], n_channels: int, batch: int) -> None:
    mine = [r for r in rows if r["model"] == f"waveglow_{n_channels}" and r["batch_size"] == batch]
    base = {r["device"]: r["seconds"] for r in mine if r["path"] in ("faithful", "cuda_faithful")}
    for row in mine:
        if row["device"] in base:
            row["speedup_vs_faithful"] = base[row["device"]] / row["seconds"]


def format_table(rows: Sequence[dict]) -> str:
    """Plain-text table of :func:`bench_waveglow` rows."""
    header = (f"{'model':14} {'path':14} {'B':>2} {'samples/s':>11} {'xRT':>7} {'s/s audio':>9} "
              f"{'speedup':>7} {'max err':>9} {'mean err':>9} {'SNR dB':>7} {'peak MB':>8}")
    lines = [header, "-" * len(header)]
    for r in rows:
        speedup = f"{r['speedup_vs_faithful']:.2f}" if "speedup_vs_faithful" in r else "-"
        lines.append(f"{r['model']:14} {r['path']:14} {r['batch_size']:>2} {r['samples_per_s']:>11.0f} "
                     f"{r['x_real_time']:>7.3f} {r['s_per_s_audio']:>9.3f} {speedup:>7} {r['max_abs_err']:>9.2e} "
                     f"{r['mean_abs_err']:>9.2e} {r['snr_db']:>7.1f} {r['peak_mem_mb']:>8.0f}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--paths", nargs="+", default=None, choices=sorted(PATHS))
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--frames", type=int, default=200, help="mel frames per item (86 per second of audio)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--chunk-frames", type=int, default=None)
    parser.add_argument("--overlap-frames", type=int, default=None)
    parser.add_argument("--json", default=None, help="write the rows to this JSON file")
    args = parser.parse_args(argv)
    rows = bench_waveglow(args.channels, args.paths, args.batch, args.frames, args.repeats, args.threads,
                          args.chunk_frames, args.overlap_frames)
    print(format_table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
