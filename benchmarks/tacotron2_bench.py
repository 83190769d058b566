"""Tacotron 2 decoder speed, accuracy and per-step breakdown of each inference path.

Run ``python -m benchmarks.tacotron2_bench`` from the repository root (``--help``
for options). It prints progress to stderr, then a table and the per-step
breakdown, and writes JSON. :func:`bench_tacotron2` is the entry point for the
shared harness (``benchmarks/bench_inference.py``).

What is measured: the decoder loop only (the encoder and postnet run once per
utterance and are small), with random hub-size weights, prenet dropout on as in
real inference, no early stopping and a fixed number of steps so every path
does the same work. Each path is a prepared model
(``model.prepare_inference(backend, precision)``, built once; its
``prepare_s`` and ``prepared_mb`` are reported), one warm-up run, then the
timed runs go round robin over the paths and the median is kept. Accuracy: one
run per path with prenet dropout off against the reference fp32 path on the
same inputs (decoder mels, before the postnet). With ``--nvidia-dle PATH``
NVIDIA's own DLE decoder (same weights) is one more row, ``nvidia``.

Breakdown (``--profile-steps``, 20 by default): ``torch.profiler`` over
``profile_steps`` steps of each CPU path (the fast loop with its named
regions on, which the timed runs leave off); ``regions`` gives milliseconds per
step spent in each part of the fast loop (prenet, attention LSTM, attention,
decoder LSTM, projections; the LSTM regions hold the two big matrix products),
``top_ops`` the operators with the most self time per step.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch

from checkpoints import load_tacotron2
from tacotron2 import Tacotron2, Tacotron2Config
from tacotron2.inference import FULL_PRECISIONS, PRECISIONS, REDUCED_DTYPES
from text import text_to_sequence
from tacotron2_waveglow.synthesis.allocator import parse_args_applying_malloc

# path name -> (device, backend, precision)
PATHS: Dict[str, tuple] = {
    "reference": ("cpu", "reference", "fp32"),
    "fast": ("cpu", "fast", "fp32"),
    "fast_exact": ("cpu", "fast", "fp32_exact"),
    "bf16": ("cpu", "fast", "bf16"),
    "int8": ("cpu", "fast", "int8"),
    "cuda_reference": ("cuda", "reference", "fp32"),
    "cuda_fast": ("cuda", "fast", "fp32"),
    "cuda_fp16": ("cuda", "fast", "fp16"),
    "cuda_graph_fp32": ("cuda", "cuda_graph", "fp32"),
    "cuda_graph_fp16": ("cuda", "cuda_graph", "fp16"),
}
CPU_PATHS = ("reference", "fast", "fast_exact", "bf16", "int8")
CUDA_PATHS = ("cuda_reference", "cuda_fast", "cuda_fp16", "cuda_graph_fp32", "cuda_graph_fp16")
NVIDIA_PATH = "nvidia"
from tacotron2_waveglow.bundles import HOP_LENGTH, SAMPLE_RATE  # noqa: E402  (the voices' one source)

FRAMES_PER_SECOND_OF_AUDIO = SAMPLE_RATE / HOP_LENGTH
REGIONS = ("prenet", "attention_lstm", "attention", "decoder_lstm", "projections")


def default_paths() -> List[str]:
    """Every CPU path, plus the CUDA paths when a GPU is present."""
    return list(CPU_PATHS) + (list(CUDA_PATHS) if torch.cuda.is_available() else [])


def progress(message: str, enabled: bool = True) -> None:
    """One line of progress on stderr."""
    if enabled:
        print(f"[tacotron2_bench] {message}", file=sys.stderr, flush=True)


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


def _peak_memory_mb(device: str) -> float:
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2 ** 20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _decoder_run(prepared, memory, lengths, n_steps: int) -> Callable[[bool], torch.Tensor]:
    """``run(dropout) -> decoder mels`` of one of our prepared models."""
    def run(dropout: bool) -> torch.Tensor:
        return prepared.decode(memory, lengths, early_stopping=False, max_steps=n_steps, prenet_dropout=dropout).mel
    return run


def _nvidia_run(theirs, memory, lengths, n_steps: int) -> Callable[[bool], torch.Tensor]:
    """``run(dropout) -> decoder mels`` of NVIDIA's DLE decoder (its prenet dropout is always on)."""
    decoder = theirs.decoder
    decoder.max_decoder_steps, decoder.early_stopping = n_steps, False

    def run(dropout: bool) -> torch.Tensor:
        with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()):  # it prints "Reached max decoder steps"
            return decoder.infer(memory, lengths)[0]
    return run


def lstm_weight_bytes(decoder, precision: str) -> int:
    """Bytes of the two LSTM cells' weight matrices of ``decoder`` as ``precision``'s products store them
    (the model's dtype, a reduced dtype, or one byte for int8; int8's per-row scales are negligible)."""
    weight = decoder.attention_rnn.weight_ih
    if precision in FULL_PRECISIONS:
        size = weight.element_size()
    elif precision in REDUCED_DTYPES:
        size = REDUCED_DTYPES[precision].itemsize
    elif precision == "int8":
        size = 1
    else:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    return size * sum(cell.weight_ih.numel() + cell.weight_hh.numel()
                      for cell in (decoder.attention_rnn, decoder.decoder_rnn))


def _weights_read_run(decoder, precision: str, device: str) -> Optional[Callable[[int], None]]:
    """``run(n)``: ``n`` sums over an fp32 buffer of :func:`lstm_weight_bytes` bytes.

    A reference read rate for a step's LSTM products on this machine: a
    product at batch 1 reads every weight once. It is not a hard floor (one
    ``sum`` does not always stream at the machine's full rate; on an AVX2
    EPYC the fp32 product split in row blocks over both threads beat it).
    ``None`` on CUDA.
    """
    if device != "cpu":
        return None
    buffer = torch.ones(lstm_weight_bytes(decoder, precision) // 4)

    def run(n_steps: int) -> None:
        for _ in range(n_steps):
            buffer.sum()
    return run


def _lstm_products_run(prepared, decoder, batch: int, device: str) -> Optional[Callable[[int], None]]:
    """``run(n)``: the two LSTM gate products of ``n`` decoder steps alone, as ``prepared`` computes them.

    The fast paths' prepared products (``prepared.linears``); the reference
    path's are ATen's ``lstm_cell`` products (``fp32_exact``: two ``addmm``
    per cell and one add). ``None`` for NVIDIA's row and CUDA paths.
    """
    from tacotron2.precision import make_lstm_linear

    if device != "cpu" or prepared is None:
        return None
    linears = getattr(prepared, "linears", None)
    cells = (decoder.attention_rnn, decoder.decoder_rnn)
    products = ((linears.attention_lstm, linears.decoder_lstm) if linears is not None
                else tuple(make_lstm_linear(cell, "fp32_exact") for cell in cells))
    generator = torch.Generator().manual_seed(0)
    inputs = [torch.randn(batch, cell.input_size + cell.hidden_size, generator=generator) for cell in cells]
    outputs = [torch.empty(batch, 4 * cell.hidden_size) for cell in cells]

    def run(n_steps: int) -> None:
        with torch.no_grad():
            for _ in range(n_steps):
                for product, x, out in zip(products, inputs, outputs):
                    product(x, out)
    return run


def profile_breakdown(run: Callable[[bool], torch.Tensor], n_steps: int, top: int = 8) -> dict:
    """``torch.profiler`` over one run of ``n_steps`` steps: ms per step by region and by top operator."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run(True)
    events = prof.key_averages()
    regions = {e.key: e.cpu_time_total / 1e3 / n_steps for e in events if e.key in REGIONS}
    ops = sorted((e for e in events if e.key not in REGIONS and e.key.startswith("aten::")),
                 key=lambda e: e.self_cpu_time_total, reverse=True)[:top]
    return dict(regions_ms_per_step=regions,
                top_ops_ms_per_step={e.key: e.self_cpu_time_total / 1e3 / n_steps for e in ops},
                calls_per_step={e.key: e.count / n_steps for e in ops},
                total_ms_per_step=sum(e.self_cpu_time_total for e in events) / 1e3 / n_steps)


def bench_tacotron2(config: Optional[Tacotron2Config] = None, paths: Optional[Sequence[str]] = None,
                    batch_sizes: Sequence[int] = (1, 4), n_steps: int = 100, repeats: int = 3, threads: int = 2,
                    text_length: int = 128, model: Optional[Tacotron2] = None, text: Optional[str] = None,
                    nvidia_dle: Optional[str] = None, profile_steps: int = 0,
                    show_progress: bool = False) -> List[dict]:
    """Time and check each decoder path; one dict per (path, batch size).

    ``config`` defaults to the hub model with random weights, or is taken from
    ``model`` (a trained model, measured as given); ``text`` replaces the
    random symbol ids with a sentence; ``paths`` to :func:`default_paths`
    (names in :data:`PATHS`); ``nvidia_dle`` adds NVIDIA's decoder as the
    ``nvidia`` row (see :mod:`benchmarks.nvidia_dle`); ``profile_steps > 0``
    adds a ``breakdown`` (:func:`profile_breakdown`) to each CPU row. Each
    dict holds ``path``, ``device``, ``backend``, ``precision``,
    ``batch_size``, ``threads``, ``n_steps``, ``ms_per_step`` (median),
    ``frames_per_s``, ``x_real_time`` (seconds of 22.05 kHz audio decoded per
    second), ``speedup_vs_reference`` (same device and batch size),
    ``max_abs_err``/``mean_abs_err``/``rel_err`` against the reference fp32
    path (dropout off), ``lstm_products_ms_per_step``, ``weights_read_ms_per_step``
    and ``speedup_bound`` (CPU rows: the two LSTM gate products alone, and
    one sum over as many bytes as their weights, both timed in the same
    rounds, and the speedup left if all else were free), ``prepare_s``, ``prepared_mb`` and ``peak_mem_mb``
    (process peak RSS on CPU, so it only grows from path to path;
    ``torch.cuda.max_memory_allocated`` per path on CUDA).
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
    for device in {PATHS[name][0] for name in paths} - {"cpu"}:
        models[device] = Tacotron2(config).eval()
        models[device].load_state_dict(cpu_model.state_dict())
        models[device].to(device)
    names = paths + ([NVIDIA_PATH] if nvidia_dle else [])
    specs = dict(PATHS, **{NVIDIA_PATH: ("cpu", "nvidia_dle", "fp32")})
    prepared: Dict[str, object] = {}
    for name in paths:
        device, backend, precision = PATHS[name]
        progress(f"preparing {name} ({backend}/{precision} on {device})", show_progress)
        prepared[name] = models[device].prepare_inference(backend=backend, precision=precision)
    theirs = None
    if nvidia_dle:
        from benchmarks.nvidia_dle import dle_tacotron2

        progress(f"loading NVIDIA's DLE Tacotron 2 from {nvidia_dle}", show_progress)
        theirs = dle_tacotron2(nvidia_dle, cpu_model)
    rows: List[dict] = []
    for batch in batch_sizes:
        runs, references, measured = {}, {}, {}
        for name in names:
            device = specs[name][0]
            memory, lengths = _memory(models[device], config, batch, text_length, text, device)
            runs[name] = (_nvidia_run(theirs, memory, lengths, n_steps) if name == NVIDIA_PATH
                          else _decoder_run(prepared[name], memory, lengths, n_steps))
            if device not in references:  # seeded reference mels with prenet dropout off and on
                reference = _decoder_run(models[device].prepare_inference(backend="reference"), memory, lengths,
                                         n_steps)
                references[device] = {}
                for dropout in (False, True):
                    torch.manual_seed(0)
                    references[device][dropout] = reference(dropout).float()
        floors = {name: _lstm_products_run(prepared.get(name), models[specs[name][0]].decoder, batch,
                                           specs[name][0]) for name in names}
        reads = {name: (None if floors[name] is None else
                        _weights_read_run(models[specs[name][0]].decoder, specs[name][2], specs[name][0]))
                 for name in names}
        for name in names:  # warm-up and accuracy run
            device = specs[name][0]
            progress(f"batch {batch}: warm-up and accuracy of {name}", show_progress)
            _timed(runs[name], device, 0)
            # NVIDIA's prenet dropout cannot be turned off: compare it with the seeded reference run with dropout
            dropout = name == NVIDIA_PATH
            torch.manual_seed(0)
            reference = references[device][dropout]
            error = runs[name](dropout).float() - reference
            measured[name] = dict(times_s=[], max_abs_err=float(error.abs().max()),
                                  mean_abs_err=float(error.abs().mean()),
                                  rel_err=float(error.norm() / reference.norm()))
        for repeat in range(repeats):  # round robin, so load changes on a busy machine hit every path alike
            progress(f"batch {batch}: timing round {repeat + 1}/{repeats}", show_progress)
            for name in names:
                device = specs[name][0]
                if device == "cuda":
                    torch.cuda.reset_peak_memory_stats()
                measured[name]["times_s"].append(_timed(runs[name], device, repeat + 1))
                measured[name]["peak_mem_mb"] = _peak_memory_mb(device)
                if floors[name] is not None:  # the products alone, in the same round
                    start = time.perf_counter()
                    floors[name](n_steps)
                    measured[name].setdefault("lstm_products_s", []).append(time.perf_counter() - start)
                    start = time.perf_counter()
                    reads[name](n_steps)
                    measured[name].setdefault("weights_read_s", []).append(time.perf_counter() - start)
        for name in names:
            device, backend, precision = specs[name]
            result = measured[name]
            if profile_steps > 0 and device == "cpu":
                progress(f"batch {batch}: profiling {name}", show_progress)
                result["breakdown"] = profile_breakdown(_shortened(name, runs, theirs, prepared, models, config,
                                                                   batch, text_length, text, profile_steps),
                                                        profile_steps)
            seconds = statistics.median(result["times_s"])
            products = result.pop("lstm_products_s", None)
            result["lstm_products_ms_per_step"] = (None if products is None
                                                   else 1e3 * statistics.median(products) / n_steps)
            reads_s = result.pop("weights_read_s", None)
            result["weights_read_ms_per_step"] = (None if reads_s is None
                                                  else 1e3 * statistics.median(reads_s) / n_steps)
            engine = prepared.get(name)
            rows.append(dict(path=name, device=device, backend=backend, precision=precision, batch_size=batch,
                             threads=threads, n_steps=n_steps, text_length=text_length if text is None else
                             len(text_to_sequence(text)), ms_per_step=1e3 * seconds / n_steps,
                             frames_per_s=batch * n_steps / seconds,
                             x_real_time=batch * n_steps / seconds / FRAMES_PER_SECOND_OF_AUDIO,
                             prepare_s=None if engine is None else engine.prepare_seconds,
                             prepared_mb=None if engine is None else engine.nbytes / 2 ** 20, **result))
    _add_speedups(rows)
    return rows


def _memory(model, config, batch, text_length, text, device="cpu"):
    """Encoder outputs (B, N, E) and lengths of the benchmark's inputs."""
    ids, lengths = _inputs(config, batch, text_length, device, text)
    with torch.no_grad():
        return model.encode(ids, lengths), lengths


def _shortened(name, runs, theirs, prepared, models, config, batch, text_length, text, steps):
    """The path's run over ``steps`` steps (for the profiler), fast paths with their named regions."""
    memory, lengths = _memory(models["cpu"], config, batch, text_length, text)
    if name == NVIDIA_PATH:
        return _nvidia_run(theirs, memory, lengths, steps)
    engine = prepared[name]
    if engine.backend != "fast":
        return _decoder_run(engine, memory, lengths, steps)
    from tacotron2.fast_decoder import fast_infer

    def run(dropout: bool) -> torch.Tensor:
        return fast_infer(models["cpu"].decoder, engine.linears, memory, lengths, early_stopping=False,
                          max_steps=steps, prenet_dropout=dropout, precision=engine.precision, regions=True).mel
    return run


def _timed(run: Callable[[bool], torch.Tensor], device: str, seed: int) -> float:
    torch.manual_seed(seed)
    _sync(device)
    start = time.perf_counter()
    run(True)
    _sync(device)
    return time.perf_counter() - start


def _add_speedups(rows: List[dict]) -> None:
    """``speedup_vs_reference``: ms/step of the reference path on the same device and batch over this path's.

    ``speedup_bound``: the reference's ms/step over this path's LSTM products
    alone, the speedup it would have if every other operation of a step cost
    nothing (CPU rows).
    """
    base = {(r["device"], r["batch_size"]): r["ms_per_step"] for r in rows if r["backend"] == "reference"}
    for row in rows:
        reference = base.get((row["device"], row["batch_size"]))
        row["speedup_vs_reference"] = None if reference is None else reference / row["ms_per_step"]
        products = row.get("lstm_products_ms_per_step")
        row["speedup_bound"] = None if reference is None or not products else reference / products


def format_table(rows: List[dict]) -> str:
    """A plain-text table of :func:`bench_tacotron2`'s rows, then the per-step breakdowns."""
    header = (f"{'path':<16}{'B':>3}{'ms/step':>10}{'LSTM ms':>9}{'read ms':>9}{'rest ms':>9}{'frames/s':>10}{'x RT':>8}"
              f"{'speedup':>9}{'bound':>8}{'max err':>10}{'rel err':>10}{'prep s':>8}{'prep MB':>9}{'peak MB':>9}")
    lines = [header, "-" * len(header)]
    for r in rows:
        speedup = "-" if r["speedup_vs_reference"] is None else f"{r['speedup_vs_reference']:.2f}x"
        prep_s = "-" if r["prepare_s"] is None else f"{r['prepare_s']:.2f}"
        prep_mb = "-" if r["prepared_mb"] is None else f"{r['prepared_mb']:.0f}"
        products = r.get("lstm_products_ms_per_step")
        lstm = "-" if products is None else f"{products:.2f}"
        read = "-" if r.get("weights_read_ms_per_step") is None else f"{r['weights_read_ms_per_step']:.2f}"
        rest = "-" if products is None else f"{r['ms_per_step'] - products:.2f}"
        bound = "-" if r.get("speedup_bound") is None else f"{r['speedup_bound']:.2f}x"
        lines.append(f"{r['path']:<16}{r['batch_size']:>3}{r['ms_per_step']:>10.2f}{lstm:>9}{read:>9}{rest:>9}"
                     f"{r['frames_per_s']:>10.1f}{r['x_real_time']:>8.2f}{speedup:>9}{bound:>8}"
                     f"{r['max_abs_err']:>10.1e}{r['rel_err']:>10.1e}{prep_s:>8}{prep_mb:>9}{r['peak_mem_mb']:>9.0f}")
    lines.append("LSTM ms: the two LSTM gate products alone per step, timed in the same rounds; read ms: one sum "
                 "over as many bytes as their weights (a reference read rate, not a hard floor); rest ms: everything "
                 "else; bound: the speedup if everything else cost nothing")
    for r in rows:
        breakdown = r.get("breakdown")
        if not breakdown:
            continue
        lines.append(f"\n{r['path']} B={r['batch_size']}: {breakdown['total_ms_per_step']:.3f} ms/step profiled")
        for region, ms in breakdown["regions_ms_per_step"].items():
            lines.append(f"  region {region:<22}{ms:>8.3f} ms/step")
        for op, ms in breakdown["top_ops_ms_per_step"].items():
            lines.append(f"  op     {op:<22}{ms:>8.3f} ms/step  ({breakdown['calls_per_step'][op]:.0f} calls/step)")
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
    parser.add_argument("--nvidia-dle", default=None, metavar="PATH",
                        help="DeepLearningExamples/PyTorch/SpeechSynthesis/Tacotron2 checkout: add NVIDIA's decoder")
    parser.add_argument("--profile-steps", type=int, default=20, help="steps profiled per CPU path (0: no breakdown)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--json", default="tacotron2_bench.json", help="where to write the rows")
    args, malloc = parse_args_applying_malloc(parser, argv)
    config = Tacotron2Config(n_mel_channels=8, symbols_embedding_dim=32, encoder_embedding_dim=32,
                             attention_rnn_dim=48, attention_dim=16, attention_location_n_filters=4,
                             decoder_rnn_dim=40, prenet_dim=24, postnet_embedding_dim=24) if args.tiny else None
    model = load_tacotron2(args.checkpoint) if args.checkpoint else None
    rows = bench_tacotron2(config, args.paths, args.batch_sizes, args.steps, args.repeats, args.threads,
                           args.text_length, model=model, text=args.text, nvidia_dle=args.nvidia_dle,
                           profile_steps=args.profile_steps, show_progress=not args.quiet)
    print(format_table(rows))
    print(f"malloc: {malloc}")
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump(dict(torch=torch.__version__, argv=list(sys.argv if argv is None else argv), malloc=malloc,
                       rows=rows), handle,
                  indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
