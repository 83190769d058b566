"""Inference benchmark: Tacotron 2, WaveGlow, end to end and streaming, per path.

    python -m benchmarks.bench_inference --threads 2 --batch 1 4 --repeats 5 \\
        --decoder-steps 200 --channels 256 512 --json out.json

Random weights at hub sizes, fixed seeds, one warm-up run then the median of
``--repeats`` runs for every number. Reported:

* Tacotron 2: mel frames/s and ms per decoder step, early stopping off and a
  fixed ``--decoder-steps`` so every path does the same work
  (``benchmarks/tacotron2_bench.py`` when present, else ``Tacotron2.infer``).
* WaveGlow (``benchmarks/waveglow_bench.py``): samples/s per path and WN width
  on a mel of ``--decoder-steps`` frames, with its error against the reference
  fp32 path (max, mean, SNR dB).
* End to end: compute seconds per second of audio of each Tacotron 2 path
  plus each WaveGlow path of the same name (and of the fastest pair), the sum
  of the two medians above for the same batch and frame count.
* Streaming (``synthesis.streaming`` when present): time to the first audio of
  a three-sentence text against the time for the whole text.
* Peak memory: CUDA max allocated per path, or the process's peak RSS on CPU
  (which only grows, so read it as an upper bound for the later paths).

It prints tables and writes every row to ``--json``. It is not part of the
test suite (pytest collects ``tests/`` only).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from typing import Dict, List, Optional, Sequence

import torch

from benchmarks.waveglow_bench import (CPU_PATHS, PATHS as WAVEGLOW_PATHS, bench_waveglow, format_table,
                                       median_seconds, peak_memory_mb, random_waveglow)
from tacotron2 import Tacotron2, Tacotron2Config
from tacotron2_waveglow.synthesis.allocator import parse_args_applying_malloc

from tacotron2_waveglow.bundles import HOP_LENGTH, SAMPLE_RATE as SAMPLING_RATE  # noqa: E402  (the voices' one source)
STREAM_TEXT = ("The first sentence is short. The second sentence is a good deal longer than the first one was. "
               "And the third sentence closes the paragraph.")


def _plain_tacotron2_bench(batch_sizes: Sequence[int], n_steps: int, repeats: int, threads: int,
                           text_length: int = 128) -> List[dict]:
    """``Tacotron2.infer(early_stopping=False)`` timing, used when ``tacotron2_bench`` is absent."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    config = Tacotron2Config()
    model = Tacotron2(config).eval()
    rows = []
    for batch in batch_sizes:
        text = torch.randint(1, config.n_symbols, (batch, text_length), generator=torch.Generator().manual_seed(1))
        lengths = torch.full((batch,), text_length, dtype=torch.long)

        def run(seed: int) -> torch.Tensor:
            torch.manual_seed(seed)
            with torch.inference_mode():
                return model.infer(text, lengths, early_stopping=False, max_decoder_steps=n_steps)[0]

        seconds = statistics.median(median_seconds(run, repeats, "cpu"))
        rows.append({"model": "tacotron2", "path": "reference", "device": "cpu", "batch_size": batch,
                     "threads": threads, "n_steps": n_steps, "ms_per_step": 1000 * seconds / n_steps,
                     "frames_per_s": batch * n_steps / seconds, "peak_mem_mb": peak_memory_mb("cpu"),
                     "note": "whole Tacotron2.infer (encoder + decoder + postnet)"})
    return rows


def bench_tacotron2_rows(paths: Optional[Sequence[str]], batch_sizes: Sequence[int], n_steps: int, repeats: int,
                         threads: int, nvidia_dle: Optional[str] = None) -> List[dict]:
    """Rows of ``benchmarks.tacotron2_bench.bench_tacotron2``, or of the plain fallback."""
    try:
        from benchmarks.tacotron2_bench import bench_tacotron2
    except ImportError:
        if paths:
            warnings.warn(f"benchmarks/tacotron2_bench.py is not available: ignoring --tacotron-paths {list(paths)} "
                          "and timing Tacotron2.infer only", UserWarning)
        return _plain_tacotron2_bench(batch_sizes, n_steps, repeats, threads)
    rows = bench_tacotron2(None, paths, batch_sizes, n_steps, repeats, threads, nvidia_dle=nvidia_dle,
                           profile_steps=20, show_progress=True)
    for row in rows:
        row.setdefault("model", "tacotron2")
    return rows


def end_to_end_rows(taco_rows: Sequence[dict], glow_rows: Sequence[dict], n_steps: int) -> List[dict]:
    """Compute seconds per second of audio for Tacotron 2 + WaveGlow path pairs (sum of medians).

    Pairs: paths of the same name (``fast`` + ``fast`` ...), the reference
    WaveGlow behind each Tacotron 2 path, and the fastest pair per device.
    """
    rows = []
    for glow in sorted({r["model"] for r in glow_rows}):
        for batch in sorted({r["batch_size"] for r in glow_rows}):
            audio_s = batch * n_steps * HOP_LENGTH / SAMPLING_RATE
            taco = {r["path"]: r for r in taco_rows if r["batch_size"] == batch}
            wave = {r["path"]: r for r in glow_rows if r["model"] == glow and r["batch_size"] == batch}
            pairs = {(t, w) for t in taco for w in wave
                     if taco[t]["device"] == wave[w]["device"] and (t == w or w.endswith("reference"))}
            for device in sorted({r["device"] for r in wave.values()}):
                t_best = min((t for t in taco if taco[t]["device"] == device),
                             key=lambda t: taco[t]["ms_per_step"], default=None)
                w_best = min((w for w in wave if wave[w]["device"] == device),
                             key=lambda w: wave[w]["seconds"], default=None)
                if t_best and w_best:
                    pairs.add((t_best, w_best))
            for t, w in sorted(pairs):
                seconds = taco[t]["ms_per_step"] * n_steps / 1000 + wave[w]["seconds"]
                rows.append({"model": f"tacotron2+{glow}", "tacotron2_path": t, "waveglow_path": w,
                             "device": wave[w]["device"], "batch_size": batch, "seconds": seconds,
                             "s_per_s_audio": seconds / audio_s, "x_real_time": audio_s / seconds})
    return rows


def streaming_row(channels: int, n_steps: int, threads: int) -> Optional[dict]:
    """Time to first audio of :data:`STREAM_TEXT` through ``synthesis.streaming``, and to the whole text."""
    try:
        from tacotron2_waveglow.synthesis import Synthesizer
        from tacotron2_waveglow.synthesis.streaming import stream_speech
    except ImportError:
        warnings.warn("synthesis.streaming is not available: no time-to-first-audio measurement", UserWarning)
        return None
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    synthesizer = Synthesizer(Tacotron2(Tacotron2Config()).eval(), random_waveglow(channels), device="cpu",
                              denoiser_strength=0.0, max_chars=150, progress=False)  # whole sentences
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        list(stream_speech(synthesizer, "Warm up.", seed=0, max_decoder_steps=8))
        start = time.perf_counter()
        first = None
        samples = 0
        for piece in stream_speech(synthesizer, STREAM_TEXT, seed=0, max_decoder_steps=n_steps):
            first = time.perf_counter() - start if first is None else first
            samples += len(piece.audio)
        total = time.perf_counter() - start
    return {"model": f"stream_waveglow_{channels}", "device": "cpu", "time_to_first_audio_s": first,
            "total_s": total, "audio_s": samples / SAMPLING_RATE, "threads": threads,
            "max_decoder_steps": n_steps, "peak_mem_mb": peak_memory_mb("cpu")}


def tacotron2_table(rows: Sequence[dict]) -> str:
    """The Tacotron 2 table with its per-step breakdown (``tacotron2_bench.format_table``), or a plain one."""
    try:
        from benchmarks.tacotron2_bench import format_table as tacotron2_format
    except ImportError:
        tacotron2_format = None
    if tacotron2_format is not None and all("speedup_vs_reference" in r for r in rows):
        return tacotron2_format(rows)
    lines = [f"{'tacotron2 path':18} {'device':6} {'B':>2} {'ms/step':>9} {'frames/s':>10}"]
    lines += [f"{r['path']:18} {r['device']:6} {r['batch_size']:>2} {r['ms_per_step']:>9.2f} "
              f"{r['frames_per_s']:>10.1f}" for r in rows]
    return "\n".join(lines)


def _e2e_table(rows: Sequence[dict]) -> str:
    lines = [f"{'end to end':22} {'tacotron2':16} {'waveglow':14} {'B':>2} {'s/s audio':>10} {'xRT':>7}"]
    lines += [f"{r['model']:22} {r['tacotron2_path']:16} {r['waveglow_path']:14} {r['batch_size']:>2} "
              f"{r['s_per_s_audio']:>10.3f} {r['x_real_time']:>7.3f}" for r in rows]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, List[dict]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--decoder-steps", type=int, default=200, help="mel frames per item for every model")
    parser.add_argument("--channels", type=int, nargs="+", default=[256, 512], help="WaveGlow WN widths")
    parser.add_argument("--paths", nargs="+", default=None, choices=sorted(WAVEGLOW_PATHS),
                        help="WaveGlow paths (default: every CPU path, plus CUDA ones with a GPU)")
    parser.add_argument("--tacotron-paths", nargs="+", default=None,
                        help="Tacotron 2 paths of benchmarks/tacotron2_bench.py (default: all it offers)")
    parser.add_argument("--chunk-frames", type=int, default=None)
    parser.add_argument("--overlap-frames", type=int, default=None)
    parser.add_argument("--nvidia-dle", default=None, metavar="PATH",
                        help="DeepLearningExamples/PyTorch/SpeechSynthesis/Tacotron2 checkout: NVIDIA's code as baseline rows")
    parser.add_argument("--no-streaming", action="store_true", help="skip the time-to-first-audio measurement")
    parser.add_argument("--json", default=None, help="write every row to this JSON file")
    args, malloc = parse_args_applying_malloc(parser, argv)
    print(f"malloc: {malloc}", end="\n\n")
    taco = bench_tacotron2_rows(args.tacotron_paths, args.batch, args.decoder_steps, args.repeats, args.threads,
                                args.nvidia_dle)
    print(tacotron2_table(taco), end="\n\n")
    glow = bench_waveglow(args.channels, args.paths, args.batch, args.decoder_steps, args.repeats, args.threads,
                          args.chunk_frames, args.overlap_frames, nvidia_dle=args.nvidia_dle, show_progress=True)
    print(format_table(glow), end="\n\n")
    e2e = end_to_end_rows(taco, glow, args.decoder_steps)
    print(_e2e_table(e2e), end="\n\n")
    stream = [] if args.no_streaming else [r for r in [streaming_row(min(args.channels), args.decoder_steps,
                                                                    args.threads)] if r]
    for r in stream:
        print(f"streaming ({r['model']}): first audio after {r['time_to_first_audio_s']:.2f} s, "
              f"whole text {r['total_s']:.2f} s for {r['audio_s']:.2f} s of audio")
    result = {"malloc": malloc, "tacotron2": taco, "waveglow": glow, "end_to_end": e2e, "streaming": stream,
              "settings": {**vars(args), "torch": torch.__version__, "cpu_paths": list(CPU_PATHS)}}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2, default=str)
    return result


if __name__ == "__main__":
    main()
