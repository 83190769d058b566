"""Training throughput and peak memory of Tacotron 2 (mel frames/s) and WaveGlow (audio samples/s).

    python benchmarks/bench_train.py --model tacotron2 --batch-size 4 --steps 3 --json out.json
    python benchmarks/bench_train.py --model waveglow --config-overrides '{"n_flows": 4}'

Runs on CPU (fp32 and bf16 autocast) and, when a GPU is present, on CUDA with
and without AMP; synthetic batches of the given sizes; prints a table and
writes JSON. Peak memory is CUDA's max allocated, or the process's max RSS on CPU.
"""
from __future__ import annotations

import argparse
import json
import resource
import time
from typing import Dict, List

import torch

from tacotron2_waveglow.training.amp import autocast_dtype, make_grad_scaler, to_float32
from tacotron2_waveglow.training.models import get_recipe


def synthetic_batch(model_name: str, config, batch_size: int, text_len: int, frames: int, segment: int):
    """Random inputs of the collate functions' shapes."""
    if model_name == "tacotron2":
        text = torch.randint(1, config.n_symbols, (batch_size, text_len))
        lengths = torch.full((batch_size,), text_len, dtype=torch.long)
        mel = torch.randn(batch_size, config.n_mel_channels, frames)
        gate = torch.zeros(batch_size, frames)
        gate[:, -1] = 1
        out_lengths = torch.full((batch_size,), frames, dtype=torch.long)
        return text, lengths, mel, gate, out_lengths, lengths.float()
    mel = torch.randn(batch_size, config.n_mel_channels, segment // 256 + 1)
    audio = torch.rand(batch_size, segment) * 2 - 1
    return mel, audio, torch.full((batch_size,), segment)


def run_case(args, device: torch.device, amp: bool) -> Dict[str, object]:
    recipe = get_recipe(args.model)
    module = __import__(f"training.models.{args.model}", fromlist=["batch_to_device"])
    config = recipe.make_config(json.loads(args.config_overrides or "{}"))
    model = recipe.make_model(config).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.defaults["learning_rate"])
    scaler = make_grad_scaler(device, amp)
    if args.model == "tacotron2":
        from tacotron2 import Tacotron2Loss
        loss_fn = Tacotron2Loss()
    else:
        from waveglow import WaveGlowLoss
        wg_loss = WaveGlowLoss()
        loss_fn = lambda out, _: wg_loss(out)  # noqa: E731
    batch = synthetic_batch(args.model, config, args.batch_size, args.text_length, args.frames, args.segment_length)
    inputs, targets, items = module.batch_to_device(batch, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times: List[float] = []
    for step in range(args.warmup + args.steps):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=autocast_dtype(device), enabled=amp):
            output = model(*inputs)
        loss = loss_fn(to_float32(output), targets)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
    seconds = sum(times) / len(times)
    peak = (torch.cuda.max_memory_allocated(device) if device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return {"model": args.model, "device": device.type, "amp": amp, "batch_size": args.batch_size,
            "step_s": seconds, "items_per_s": float(items) / seconds,
            "unit": "mel frames/s" if args.model == "tacotron2" else "samples/s", "peak_mem_mb": peak / 2 ** 20}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=("tacotron2", "waveglow"), default="tacotron2")
    p.add_argument("--config-overrides", default=None, help="JSON model config fields (default: hub size)")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--text-length", type=int, default=100)
    p.add_argument("--frames", type=int, default=400)
    p.add_argument("--segment-length", type=int, default=8000)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", default="bench_train.json")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cases = [(torch.device("cpu"), False), (torch.device("cpu"), True)]
    if torch.cuda.is_available():
        cases += [(torch.device("cuda"), False), (torch.device("cuda"), True)]
    results = [run_case(args, device, amp) for device, amp in cases]
    print(f"{'model':10} {'device':6} {'amp':5} {'batch':>5} {'step s':>8} {'throughput':>14} {'unit':13} {'peak MB':>8}")
    for r in results:
        print(f"{r['model']:10} {r['device']:6} {str(r['amp']):5} {r['batch_size']:>5} {r['step_s']:8.3f} "
              f"{r['items_per_s']:14.1f} {r['unit']:13} {r['peak_mem_mb']:8.0f}")
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
