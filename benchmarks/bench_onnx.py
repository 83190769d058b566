"""ONNX Runtime against the PyTorch paths: decoder ms/step, WaveGlow s per s of audio, end to end.

    python -m benchmarks.bench_onnx --threads 2 --repeats 5 --decoder-steps 200 --frames 200 --json onnx.json

Random hub-size weights (Tacotron 2 defaults, WaveGlow with ``--channels`` WN
channels), exported once into ``--onnx-dir`` (default: a temporary folder;
the export's own verification runs, so the table is only printed for graphs
that give our numbers). Every path runs in the same process, interleaved
(one warm-up round, then ``--repeats`` rounds timing each path once), and the
medians are reported; PyTorch and ONNX Runtime both get ``--threads``
intra-op threads.

* decoder: ``infer`` with early stopping off for ``--decoder-steps`` steps
  (encoder and postnet included) divided by the steps: PyTorch ``fast`` and
  ``faithful`` against ``OnnxTacotron2``;
* waveglow: ``infer(mel, 0.6)`` on ``--frames`` frames, compute seconds per
  second of audio: PyTorch ``fast`` and ``faithful`` against ``OnnxWaveGlow``;
* end to end: the two above in one call (Tacotron 2 then WaveGlow on its mel),
  seconds per second of audio.

Numbers from a loaded or shared machine are not claims; run it on a quiet one.
It is not part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import torch

from benchmarks.waveglow_bench import random_waveglow
from tacotron2 import Tacotron2, Tacotron2Config
from tacotron2_waveglow.onnx import OnnxTacotron2, OnnxWaveGlow, export_onnx

from tacotron2_waveglow.bundles import HOP_LENGTH, SAMPLE_RATE  # noqa: E402  (the voices' one source)


def interleaved_seconds(runs: Dict[str, Callable[[int], object]], repeats: int) -> Dict[str, List[float]]:
    """One warm-up call of every run, then ``repeats`` rounds timing each once (seed = round)."""
    times: Dict[str, List[float]] = {name: [] for name in runs}
    for repeat in range(repeats + 1):
        for name, run in runs.items():
            start = time.perf_counter()
            run(repeat)
            if repeat:
                times[name].append(time.perf_counter() - start)
    return times


def _seeded(function: Callable[[], object]) -> Callable[[int], object]:
    def run(seed: int) -> object:
        torch.manual_seed(seed)
        return function()
    return run


def main(argv: Optional[Sequence[str]] = None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--decoder-steps", type=int, default=200)
    parser.add_argument("--text-length", type=int, default=120)
    parser.add_argument("--frames", type=int, default=200, help="mel frames vocoded by WaveGlow")
    parser.add_argument("--channels", type=int, default=512, help="WaveGlow WN channels (512 hub, 256 NVIDIA repo)")
    parser.add_argument("--onnx-dir", help="reuse (or write) the export here instead of a temporary folder")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    taco = Tacotron2(Tacotron2Config()).eval()
    glow = random_waveglow(args.channels)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.onnx_dir or Path(scratch) / "export")
        if not (folder / "manifest.json").exists():
            result = export_onnx(folder, taco, glow)
            print(f"exported and verified: {result.report.format()}")
        onnx_taco = OnnxTacotron2(folder, threads=args.threads)
        onnx_glow = OnnxWaveGlow(folder, threads=args.threads)
        rows = _bench(args, taco, glow, onnx_taco, onnx_glow)
    for row in rows:
        print(f"{row['what']:10} {row['path']:20} {row['median']:10.4f} {row['unit']}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"settings": vars(args), "torch": torch.__version__, "rows": rows}, handle, indent=2)
    return rows


def _bench(args, taco, glow, onnx_taco, onnx_glow) -> List[dict]:
    text = torch.randint(1, 148, (1, args.text_length), generator=torch.Generator().manual_seed(1))
    lengths = torch.tensor([args.text_length])
    steps = args.decoder_steps
    mel = torch.randn(1, 80, args.frames, generator=torch.Generator().manual_seed(2))
    audio_seconds = args.frames * HOP_LENGTH / SAMPLE_RATE

    def decode(model, **kwargs):
        return lambda: model.infer(text, lengths, early_stopping=False, max_decoder_steps=steps, **kwargs)

    def both(t_model, g_model, t_kwargs, g_kwargs):
        def run():
            mel_out = t_model.infer(text, lengths, early_stopping=False, max_decoder_steps=steps, **t_kwargs)[0]
            return g_model.infer(mel_out, 0.6, **g_kwargs)
        return run

    plans = {
        ("decoder", "ms/step", 1e3 / steps): {
            "pytorch fast": decode(taco), "pytorch faithful": decode(taco, backend="reference"),
            "onnxruntime": decode(onnx_taco)},
        ("waveglow", "s per s of audio", 1 / audio_seconds): {
            "pytorch fast": lambda: glow.infer(mel, 0.6), "pytorch faithful": lambda: glow.infer(mel, 0.6, backend="reference"),
            "onnxruntime": lambda: onnx_glow.infer(mel, 0.6)},
        ("end to end", "s per s of audio", 1 / (steps * HOP_LENGTH / SAMPLE_RATE)): {
            "pytorch fast": both(taco, glow, {}, {}),
            "pytorch faithful": both(taco, glow, {"backend": "reference"}, {"backend": "reference"}),
            "onnxruntime": both(onnx_taco, onnx_glow, {}, {})},
    }
    rows = []
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for (what, unit, scale), runs in plans.items():
            times = interleaved_seconds({name: _seeded(run) for name, run in runs.items()}, args.repeats)
            for name, seconds in times.items():
                rows.append(dict(what=what, path=name, unit=unit, median=statistics.median(seconds) * scale,
                                 runs=[s * scale for s in seconds]))
    return rows


if __name__ == "__main__":
    main()
