"""NVIDIA's teacher-forced loss of a voice checkpoint on a filelist: how checkpoints of one run are compared.

``python -m recipes.builtin_voice.valloss --checkpoint CKPT -d CORPUS --filelist CORPUS/mels/LIST --limit 200``

The loss is :class:`tacotron2.Tacotron2Loss` (mel MSE + post-net MSE + gate BCE, NVIDIA's, with none of the
training run's opt-in terms: no guided attention, gate ``pos_weight`` 1, no scheduled sampling), the model in
eval mode, averaged over batches of the list's rows in file order, as the trainer's validation averages.
Tacotron 2's pre-net drops out in eval mode too (NVIDIA's), so the loss is drawn with a fixed seed: the
same checkpoint gives the same number, and two checkpoints are compared on the same dropout draws.
Since the sixteenth session the progress file takes the checkpoint with the lowest loss on both the
template and the WordNet validation lists (``docs/voice.md``): the held-out WER moves between checkpoints
as much as between runs of one checkpoint, this loss does not.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Optional, Sequence, Union

import torch

from checkpoints import load_tacotron2
from tacotron2 import Tacotron2, Tacotron2Loss
from tacotron2_waveglow.training.data.collate import TextMelCollate
from tacotron2_waveglow.training.data.filelist import read_filelist
from tacotron2_waveglow.training.data.mel import MelExtractor, MelSettings
from tacotron2_waveglow.training.data.text_mel import TextMelDataset
from tacotron2_waveglow.training.models.tacotron2 import batch_to_device

PathLike = Union[str, os.PathLike]


@torch.no_grad()
def validation_loss(model: Tacotron2, filelist: PathLike, dataset_path: Optional[PathLike] = None, *,
                    load_mel_from_disk: bool = True, limit: Optional[int] = None, batch_size: int = 32,
                    seed: int = 0, text_cleaners: Sequence[str] = ("english_cleaners",)) -> float:
    """Mean over batches of NVIDIA's loss of ``model`` (teacher-forced, eval mode) on ``filelist``.

    ``filelist`` is NVIDIA's ``path|text`` list, paths relative to ``dataset_path``; with
    ``load_mel_from_disk`` they name ``.pt`` mels (``n_mel_channels``, T), else WAV files. ``limit``
    keeps the first rows only. The pre-net's dropout is drawn from ``seed`` (the caller's random state is
    left as it was). Raises ``ValueError`` for an empty list, a malformed row or a bad limit.
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1 row, got {limit}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    rows, bad = read_filelist(filelist, dataset_path)
    if bad:
        raise ValueError(f"{bad[0]}; fix or remove that row")
    rows = rows[:limit] if limit is not None else rows
    if not rows:
        raise ValueError(f"{filelist} has no rows; give a filelist of 'path|text' rows")
    mels = MelExtractor(MelSettings(n_mel_channels=model.config.n_mel_channels))
    dataset = TextMelDataset(rows, mels, text_cleaners, load_mel_from_disk)
    collate = TextMelCollate(model.config.n_frames_per_step)
    device = next(model.parameters()).device
    criterion = Tacotron2Loss()
    was_training = model.training
    model.eval()
    losses = []
    try:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            for start in range(0, len(dataset), batch_size):
                batch = collate([dataset[i] for i in range(start, min(start + batch_size, len(dataset)))])
                inputs, targets, _ = batch_to_device(batch, device)
                losses.append(criterion(model(*inputs), targets).double())
    finally:
        model.train(was_training)
    return torch.stack(losses).mean().item()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m recipes.builtin_voice.valloss", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, help="Tacotron 2 checkpoint (any layout, or the progress file)")
    parser.add_argument("--filelist", required=True, help="NVIDIA 'path|text' list (the corpus's mels/*_mel_arpabet.txt)")
    parser.add_argument("-d", "--dataset-path", default=None, help="folder the list's paths are relative to")
    parser.add_argument("--wavs", action="store_true", help="the list names WAV files, not .pt mels")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="the first N rows only")
    parser.add_argument("-bs", "--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0, help="seed of the pre-net's dropout draws")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads is not None:
        if args.threads < 1:
            print(f"error: --threads must be at least 1, got {args.threads}", file=sys.stderr)
            return 2
        torch.set_num_threads(args.threads)
    for name in ("checkpoint", "filelist"):
        if not Path(getattr(args, name)).is_file():
            print(f"error: --{name} {getattr(args, name)} is not a file", file=sys.stderr)
            return 2
    try:
        model = load_tacotron2(args.checkpoint)
        loss = validation_loss(model, args.filelist, args.dataset_path, load_mel_from_disk=not args.wavs,
                               limit=args.limit, batch_size=args.batch_size, seed=args.seed)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{loss:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
