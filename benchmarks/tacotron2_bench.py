"""Tacotron 2 decoder speed and accuracy of each inference path.

Run ``python -m benchmarks.tacotron2_bench`` from the repository root (``--help``
for options). It prints a table and writes JSON. :func:`bench_tacotron2` is the
entry point for the shared harness (``benchmarks/bench_inference.py``).

What is measured: the decoder loop only (the encoder and postnet run once per
utterance and are small), with random hub-size weights, prenet dropout on as in
real inference, ``early_stopping=False`` and a fixed number of steps so every
path does the same work. One warm-up run (which also builds cached bf16/int8
weights or captures CUDA graphs), then the median of ``repeats`` timed runs.
Accuracy: one extra run per path with prenet dropout off, compared with the
faithful fp32 path on the same inputs (decoder mels, before the postnet).
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from typing import Dict, List, Optional, Sequence

import torch

from checkpoints import load_tacotron2
from tacotron2 import Tacotron2, Tacotron2Config
from text import text_to_sequence

# path name -> (device, infer method, precision)
PATHS: Dict[str, tuple] = {
    "faithful": ("cpu", "faithful", "fp32"),
    "fast": ("cpu", "fast", "fp32"),
    "fast_exact": ("cpu", "fast", "fp32_exact"),
    "bf16": ("cpu", "fast", "bf16"),
    "fp16": ("cpu", "fast", "fp16"),
    "int8": ("cpu", "fast", "int8"),
    "cuda_faithful": ("cuda", "faithful", "fp32"),
    "cuda_fast": ("cuda", "fast", "fp32"),
    "cuda_graph_fp32": ("cuda", "cuda_graph", "fp32"),
    "cuda_graph_fp16": ("cuda", "cuda_graph", "fp16"),
}
CPU_PATHS = ("faithful", "fast", "fast_exact", "bf16", "fp16", "int8")
CUDA_PATHS = ("cuda_faithful", "cuda_fast", "cuda_graph_fp32", "cuda_graph_fp16")
FRAMES_PER_SECOND_OF_AUDIO = 22050 / 256


def default_paths() -> List[str]:
    """Every CPU path, plus the CUDA paths when a GPU is present."""
    return list(CPU_PATHS) + (list(CUDA_PATHS) if torch.cuda.is_available() else [])


def _inputs(config: Tacotron2Config, batch: int, text_length: int, device: str, text: Optional[str] = None):
    """Random symbol ids of ``text_length``, or ``text`` through the English cleaners, for every item."""
    if text is None:
        generator = torch.Generator().manual_seed(1234)
        ids = torch.randint(1, config.n_symbols, (batch, text_length), generator=generator)
    else:
        ids = torch.tensor([text_to_sequence(text)] * batch)
    lengths = torch.full((batch,), ids.size(1), dtype=torch.long)
    return ids.to(device), lengths.to(device)


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _decode(model: Tacotron2, memory, lengths, n_steps: int, method: str, precision: str, dropout: bool):
    return model.decoder.infer(memory, lengths, early_stopping=False, max_decoder_steps=n_steps,
                               prenet_dropout=dropout, method=method, precision=precision)


def _time_once(model, memory, lengths, n_steps, method, precision, device, seed) -> float:
    torch.manual_seed(seed)
    _sync(device)
    start = time.perf_counter()
    _decode(model, memory, lengths, n_steps, method, precision, dropout=True)
    _sync(device)
    return time.perf_counter() - start


def _peak_memory_mb(device: str) -> float:
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2 ** 20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _setup(models: dict, cpu_model: Tacotron2, config: Tacotron2Config, name: str, batch: int,
           text_length: int, text: Optional[str] = None):
    """(model on the path's device, encoder outputs, lengths) for one path and batch size."""
    device = PATHS[name][0]
    if device not in models:
        models[device] = Tacotron2(config).eval()
        models[device].load_state_dict(cpu_model.state_dict())
        models[device].to(device)
    model = models[device]
    ids, lengths = _inputs(config, batch, text_length, device, text)
    with torch.no_grad():
        memory = model.encode(ids, lengths)
    return model, memory, lengths


def bench_tacotron2(config: Optional[Tacotron2Config] = None, paths: Optional[Sequence[str]] = None,
                    batch_sizes: Sequence[int] = (1, 4), n_steps: int = 100, repeats: int = 3, threads: int = 2,
                    text_length: int = 128, model: Optional[Tacotron2] = None,
                    text: Optional[str] = None) -> List[dict]:
    """Time and check each decoder path; one dict per (path, batch size).

    After one warm-up run per path, the timed runs go round robin over the
    paths ``repeats`` times and the median is kept.

    ``config`` defaults to the hub model with random weights, or is taken from
    ``model`` (a trained model, measured as given); ``text`` replaces the
    random symbol ids with a sentence; ``paths`` to :func:`default_paths`
    (names in :data:`PATHS`). Each dict holds ``path``, ``device``,
    ``method``, ``precision``, ``batch_size``, ``threads``, ``n_steps``,
    ``ms_per_step`` (median), ``frames_per_s`` (mel frames of all items per
    second), ``x_real_time`` (seconds of 22.05 kHz audio decoded per second),
    ``speedup_vs_faithful`` (same device and batch size, when measured),
    ``max_abs_err``/``mean_abs_err``/``rel_err`` against the faithful fp32 path
    (dropout off) and ``peak_mem_mb`` (process peak RSS on CPU, so it only
    grows from path to path; ``torch.cuda.max_memory_allocated`` per path on CUDA).
    """
    if model is not None:
        config = model.config
    config = Tacotron2Config() if config is None else config
    paths = default_paths() if paths is None else list(paths)
    unknown = [p for p in paths if p not in PATHS]
    if unknown:
        raise ValueError(f"unknown paths {unknown}; choose from {sorted(PATHS)}")
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cpu_model = Tacotron2(config).eval() if model is None else model.cpu().eval()
    models = {"cpu": cpu_model}
    rows: List[dict] = []
    for batch in batch_sizes:
        setups = {name: _setup(models, cpu_model, config, name, batch, text_length, text) for name in paths}
        references = {}
        measured = {}
        for name, (model, memory, lengths) in setups.items():  # warm-up, reference and accuracy run
            device, method, precision = PATHS[name]
            if device not in references:
                references[device] = _decode(model, memory, lengths, n_steps, "faithful", "fp32", False).mel.float()
            _time_once(model, memory, lengths, n_steps, method, precision, device, 0)
            error = _decode(model, memory, lengths, n_steps, method, precision, False).mel.float() - references[device]
            measured[name] = dict(times_s=[], max_abs_err=float(error.abs().max()),
                                  mean_abs_err=float(error.abs().mean()),
                                  rel_err=float(error.norm() / references[device].norm()))
        for repeat in range(repeats):  # round robin, so load changes on a busy machine hit every path alike
            for name, (model, memory, lengths) in setups.items():
                device, method, precision = PATHS[name]
                if device == "cuda":
                    torch.cuda.reset_peak_memory_stats()
                measured[name]["times_s"].append(
                    _time_once(model, memory, lengths, n_steps, method, precision, device, repeat + 1))
                measured[name]["peak_mem_mb"] = _peak_memory_mb(device)
        for name, result in measured.items():
            device, method, precision = PATHS[name]
            seconds = statistics.median(result["times_s"])
            rows.append(dict(path=name, device=device, method=method, precision=precision, batch_size=batch,
                             threads=threads, n_steps=n_steps, text_length=int(setups[name][2][0]),
                             ms_per_step=1e3 * seconds / n_steps, frames_per_s=batch * n_steps / seconds,
                             x_real_time=batch * n_steps / seconds / FRAMES_PER_SECOND_OF_AUDIO, **result))
    _add_speedups(rows)
    return rows


def _add_speedups(rows: List[dict]) -> None:
    """``speedup_vs_faithful``: ms/step of the faithful path on the same device and batch over this path's."""
    faithful = {(r["device"], r["batch_size"]): r["ms_per_step"] for r in rows if r["method"] == "faithful"}
    for row in rows:
        base = faithful.get((row["device"], row["batch_size"]))
        row["speedup_vs_faithful"] = None if base is None else base / row["ms_per_step"]


def format_table(rows: List[dict]) -> str:
    """A plain-text table of :func:`bench_tacotron2`'s rows."""
    header = (f"{'path':<16}{'B':>3}{'ms/step':>10}{'frames/s':>10}{'x RT':>8}{'speedup':>9}"
              f"{'max err':>10}{'mean err':>10}{'peak MB':>9}")
    lines = [header, "-" * len(header)]
    for r in rows:
        speedup = "-" if r["speedup_vs_faithful"] is None else f"{r['speedup_vs_faithful']:.2f}x"
        lines.append(f"{r['path']:<16}{r['batch_size']:>3}{r['ms_per_step']:>10.2f}{r['frames_per_s']:>10.1f}"
                     f"{r['x_real_time']:>8.2f}{speedup:>9}{r['max_abs_err']:>10.1e}{r['mean_abs_err']:>10.1e}"
                     f"{r['peak_mem_mb']:>9.0f}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", nargs="+", default=None, choices=sorted(PATHS))
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 4])
    parser.add_argument("--steps", type=int, default=100, help="decoder steps per run (fixed, no early stop)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--text-length", type=int, default=128)
    parser.add_argument("--tiny", action="store_true", help="tiny config (checks the harness in seconds)")
    parser.add_argument("--checkpoint", default=None,
                        help="measure this Tacotron 2 checkpoint (any layout load_tacotron2 reads) instead of random weights")
    parser.add_argument("--text", default=None, help="decode this sentence instead of random symbol ids")
    parser.add_argument("--json", default="tacotron2_bench.json", help="where to write the rows")
    args = parser.parse_args(argv)
    config = Tacotron2Config(n_mel_channels=8, symbols_embedding_dim=32, encoder_embedding_dim=32,
                             attention_rnn_dim=48, attention_dim=16, attention_location_n_filters=4,
                             decoder_rnn_dim=40, prenet_dim=24, postnet_embedding_dim=24) if args.tiny else None
    model = load_tacotron2(args.checkpoint) if args.checkpoint else None
    rows = bench_tacotron2(config, args.paths, args.batch_sizes, args.steps, args.repeats, args.threads,
                           args.text_length, model=model, text=args.text)
    print(format_table(rows))
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump(dict(torch=torch.__version__, argv=list(sys.argv if argv is None else argv), rows=rows), handle,
                  indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
