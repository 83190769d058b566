"""WaveGlow inference speed and accuracy of each path.

Run ``python -m benchmarks.waveglow_bench`` from the repository root
(``--help`` for options); :func:`bench_waveglow` is the entry point of the
shared harness ``benchmarks/bench_inference.py``.

What is measured: ``WaveGlow.infer`` on a random mel of ``frames`` frames
(``frames * 256`` samples per item), random hub-size weights (hub config
with ``n_channels`` WN channels; the zero-initialised ``end`` layers get
N(0, 0.02) weights so every coupling really transforms), ``sigma=0.6``, a
fixed seed per run. Each path is a prepared model
(``model.prepare_inference(**options)``, built once before timing; its
``prepare_s`` and ``prepared_mb`` are reported), one warm-up run, then the
median of ``repeats`` timed runs, round robin over the paths. Accuracy: each
path's output for seed 0 against the reference fp32 path's on the same device
(max and mean absolute error, SNR in dB). With ``--nvidia-dle PATH`` NVIDIA's
own DLE WaveGlow (same weights) is one more row, ``nvidia``. Progress goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch

from waveglow import WaveGlow, WaveGlowConfig, WNConfig
from waveglow.inference import snr_db
from tacotron2_waveglow.synthesis.allocator import parse_args_applying_malloc

from tacotron2_waveglow.bundles import HOP_LENGTH, SAMPLE_RATE as SAMPLING_RATE  # noqa: E402  (the voices' one source)
SIGMA = 0.6

# path name -> (device, prepare_inference keyword arguments; "chunk_frames": True takes the run's chunk size)
PATHS: Dict[str, tuple] = {
    "reference": ("cpu", {"backend": "reference"}),
    "fast": ("cpu", {}),
    "bf16": ("cpu", {"precision": "bf16"}),
    "folded": ("cpu", {"fold_upsampler": True}),
    "bf16_folded": ("cpu", {"precision": "bf16", "fold_upsampler": True}),
    "int8": ("cpu", {"precision": "int8"}),
    "chunked": ("cpu", {"chunk_frames": True}),
    "chunked_bf16": ("cpu", {"precision": "bf16", "chunk_frames": True}),
    "cuda_reference": ("cuda", {"backend": "reference"}),
    "cuda_fast": ("cuda", {}),
    "cuda_fp16": ("cuda", {"precision": "fp16"}),
    "cuda_bf16": ("cuda", {"precision": "bf16"}),
    "cuda_graph_fp32": ("cuda", {"backend": "cuda_graph"}),
    "cuda_graph_fp16": ("cuda", {"backend": "cuda_graph", "precision": "fp16"}),
    "cuda_graph_fp16_folded": ("cuda", {"backend": "cuda_graph", "precision": "fp16", "fold_upsampler": True}),
}
NVIDIA_PATH = "nvidia"
CPU_PATHS = ("reference", "fast", "bf16", "folded", "bf16_folded", "int8", "chunked", "chunked_bf16")
CUDA_PATHS = ("cuda_reference", "cuda_fast", "cuda_fp16", "cuda_bf16", "cuda_graph_fp32", "cuda_graph_fp16",
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


def progress(message: str, enabled: bool = True) -> None:
    """One line of progress on stderr."""
    if enabled:
        print(f"[waveglow_bench] {message}", file=sys.stderr, flush=True)


def _options(name: str, chunk_frames: int, overlap_frames: Optional[int]) -> dict:
    options = dict(PATHS[name][1])
    if options.get("chunk_frames"):
        options.update(chunk_frames=chunk_frames, overlap_frames=overlap_frames)
    return options


def _runner(run: Callable[[torch.Tensor, float], torch.Tensor], mel: torch.Tensor) -> Callable[[int], torch.Tensor]:
    """``run(seed)``: seeded ``run(mel, sigma)``."""
    def seeded(seed: int) -> torch.Tensor:
        torch.manual_seed(seed)
        with torch.no_grad():
            return run(mel, SIGMA)
    return seeded


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


def round_robin_seconds(runs: Dict[str, Callable[[int], torch.Tensor]], repeats: int,
                        devices: Optional[Dict[str, str]] = None, show_progress: bool = False) -> Dict[str, List[float]]:
    """One warm-up call of every path, then ``repeats`` rounds timing each path once per round.

    Interleaving the paths spreads slow spells of a shared machine over all of
    them instead of penalising whichever path ran during one.
    """
    devices = {name: PATHS[name][0] for name in runs} if devices is None else devices
    times: Dict[str, List[float]] = {name: [] for name in runs}
    for repeat in range(repeats + 1):
        progress("warm-up round" if repeat == 0 else f"timing round {repeat}/{repeats}", show_progress)
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
                   chunk_frames: Optional[int] = None, overlap_frames: Optional[int] = None,
                   nvidia_dle: Optional[str] = None, show_progress: bool = False,
                   cache_dir: Optional[str] = None) -> List[dict]:
    """Time and check each WaveGlow path; one dict per (channels, path, batch size).

    Each dict holds ``model`` (``waveglow_<channels>``), ``path``, ``device``,
    ``batch_size``, ``threads``, ``frames``, ``seconds`` (median),
    ``samples_per_s`` (audio samples of all items per second),
    ``x_real_time``, ``s_per_s_audio`` (compute seconds per second of audio),
    ``speedup_vs_reference`` (same device, channels and batch size, when
    measured; the paths are timed round-robin, see :func:`round_robin_seconds`),
    ``max_abs_err``/``mean_abs_err``/``snr_db`` against the reference fp32
    path, ``prepare_s``, ``prepared_mb`` and ``peak_mem_mb``. ``chunk_frames``
    defaults to half of ``frames``; ``overlap_frames`` to the exact overlap
    (99 frames for the hub config). ``nvidia_dle`` adds NVIDIA's WaveGlow as
    the ``nvidia`` row (:mod:`benchmarks.nvidia_dle`). ``cache_dir``: the int8
    paths keep their prepared form there (:mod:`waveglow.int8_cache`), so a
    second run reports the warm-cache preparation; ``prepared_from_cache``
    says which it was.
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
        prepared = {}
        for name in paths:
            device = PATHS[name][0]
            if device == "cuda" and not torch.cuda.is_available():
                continue
            if device not in models:
                models[device] = random_waveglow(n_channels).to(device)
            progress(f"waveglow_{n_channels}: preparing {name}", show_progress)
            options = _options(name, chunk, overlap_frames)
            if cache_dir is not None and options.get("precision") == "int8":
                options["cache_dir"] = cache_dir
            prepared[name] = models[device].prepare_inference(**options)
        theirs = None
        if nvidia_dle:
            from benchmarks.nvidia_dle import dle_waveglow

            theirs = dle_waveglow(nvidia_dle, cpu_model)
        devices = dict({name: PATHS[name][0] for name in prepared}, **({NVIDIA_PATH: "cpu"} if theirs else {}))
        for batch in batch_sizes:
            mel_cpu = torch.randn(batch, cpu_model.config.n_mel_channels, frames,
                                  generator=torch.Generator().manual_seed(1234))
            mels = {device: mel_cpu.to(device) for device in set(devices.values())}
            references = {device: _runner(models[device].prepare_inference(backend="reference").infer, mel)(0)
                          for device, mel in mels.items()}
            runs: Dict[str, Callable[[int], torch.Tensor]] = {
                name: _runner(engine.infer, mels[devices[name]]) for name, engine in prepared.items()}
            if theirs is not None:
                runs[NVIDIA_PATH] = _runner(lambda mel, sigma: theirs.infer(mel, sigma), mels["cpu"])
            progress(f"waveglow_{n_channels}, batch {batch}: {len(runs)} paths", show_progress)
            times = round_robin_seconds(runs, repeats, devices, show_progress)
            for name, run in runs.items():
                device = devices[name]
                seconds = statistics.median(times[name])
                if device == "cuda":
                    torch.cuda.reset_peak_memory_stats()
                audio = run(0)  # the accuracy run also gives this path's own CUDA peak memory
                audio_s = batch * frames * HOP_LENGTH / SAMPLING_RATE
                engine = prepared.get(name)
                row = {"model": f"waveglow_{n_channels}", "path": name, "device": device, "batch_size": batch,
                       "threads": threads, "frames": frames, "seconds": seconds,
                       "samples_per_s": batch * frames * HOP_LENGTH / seconds,
                       "x_real_time": audio_s / seconds, "s_per_s_audio": seconds / audio_s,
                       "engine": NVIDIA_PATH if engine is None else engine.describe(),
                       "prepare_s": None if engine is None else engine.prepare_seconds,
                       "prepared_mb": None if engine is None else engine.nbytes / 2 ** 20,
                       "prepared_from_cache": None if engine is None else engine.from_cache,
                       **accuracy(audio, references[device]), "peak_mem_mb": peak_memory_mb(device)}
                if engine is not None and engine.config.chunk_frames:
                    row["chunk_frames"] = chunk
                    row["overlap_frames"] = engine.overlap_frames
                rows.append(row)
            _add_speedups(rows, n_channels, batch)
    return rows


def _add_speedups(rows: List[dict], n_channels: int, batch: int) -> None:
    mine = [r for r in rows if r["model"] == f"waveglow_{n_channels}" and r["batch_size"] == batch]
    base = {r["device"]: r["seconds"] for r in mine if r["path"] in ("reference", "cuda_reference")}
    for row in mine:
        if row["device"] in base:
            row["speedup_vs_reference"] = base[row["device"]] / row["seconds"]


def format_table(rows: Sequence[dict]) -> str:
    """Plain-text table of :func:`bench_waveglow` rows."""
    header = (f"{'model':14} {'path':14} {'B':>2} {'samples/s':>11} {'xRT':>7} {'s/s audio':>9} "
              f"{'speedup':>7} {'max err':>9} {'mean err':>9} {'SNR dB':>7} {'prep s':>7} {'prep MB':>8} {'peak MB':>8}")
    lines = [header, "-" * len(header)]
    for r in rows:
        speedup = f"{r['speedup_vs_reference']:.2f}" if "speedup_vs_reference" in r else "-"
        prep_s = "-" if r["prepare_s"] is None else f"{r['prepare_s']:.2f}{'*' if r.get('prepared_from_cache') else ''}"
        prep_mb = "-" if r["prepared_mb"] is None else f"{r['prepared_mb']:.0f}"
        lines.append(f"{r['model']:14} {r['path']:14} {r['batch_size']:>2} {r['samples_per_s']:>11.0f} "
                     f"{r['x_real_time']:>7.3f} {r['s_per_s_audio']:>9.3f} {speedup:>7} {r['max_abs_err']:>9.2e} "
                     f"{r['mean_abs_err']:>9.2e} {r['snr_db']:>7.1f} {prep_s:>7} {prep_mb:>8} {r['peak_mem_mb']:>8.0f}")
    if any(r.get("prepared_from_cache") for r in rows):
        lines.append("prep s*: the prepared form was read from --cache-dir")
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
    parser.add_argument("--nvidia-dle", default=None, metavar="PATH",
                        help="DeepLearningExamples/PyTorch/SpeechSynthesis/Tacotron2 checkout: add NVIDIA's WaveGlow")
    parser.add_argument("--cache-dir", default=None, metavar="DIR",
                        help="int8: keep the prepared form in DIR (a second run reports the warm-cache preparation)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--json", default=None, help="write the rows to this JSON file")
    args, malloc = parse_args_applying_malloc(parser, argv)
    rows = bench_waveglow(args.channels, args.paths, args.batch, args.frames, args.repeats, args.threads,
                          args.chunk_frames, args.overlap_frames, nvidia_dle=args.nvidia_dle,
                          show_progress=not args.quiet, cache_dir=args.cache_dir)
    for row in rows:
        row["malloc"] = malloc
    print(format_table(rows))
    print(f"malloc: {malloc}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
