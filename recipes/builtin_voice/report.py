"""Evaluate a voice checkpoint, and an untrained model of the same size, on validation sentences.

``python -m recipes.builtin_voice.report --checkpoint RUN/checkpoint_latest.pt --corpus DATA --n 20 --out REPORT``
writes ``REPORT/eval_trained.json``, ``REPORT/eval_untrained.json`` (the
baseline: the same config with freshly initialised weights, seed 0),
``REPORT/summary.json`` and ``REPORT/alignment.png`` (the first sentence).
The validation sentences are the first ``n`` of the corpus's
``filelist_val.txt``, none of which is in the training list.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch

from audio import TacotronSTFT
from checkpoints import load_tacotron2
from tacotron2 import Tacotron2
from text import text_to_sequence
from tacotron2_waveglow.training.plots import save_alignment_png
from recipes.builtin_voice.corpus import VAL_FILELIST
from recipes.builtin_voice.evaluate import VoiceEvaluation, evaluate_voice
from recipes.builtin_voice.files import atomic_write_text
from tacotron2_waveglow.synthesis.vocoders import GriffinLimVocoder

logger = logging.getLogger(__name__)
PathLike = Union[str, "os.PathLike[str]"]


def validation_pairs(corpus: PathLike, n: int = 20) -> List[Tuple[str, Path]]:
    """The first ``n`` ``(text, wav_path)`` rows of ``corpus/filelist_val.txt``."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    root = Path(corpus)
    lines = (root / VAL_FILELIST).read_text(encoding="utf-8").splitlines()
    pairs = [(text, root / wav) for wav, text in (line.split("|", 1) for line in lines if line.strip())]
    if len(pairs) < n:
        raise ValueError(f"{root / VAL_FILELIST} has {len(pairs)} sentence(s), fewer than n={n}")
    return pairs[:n]


def untrained_like(model: Tacotron2, seed: int = 0) -> Tacotron2:
    """A freshly initialised :class:`Tacotron2` with ``model``'s config (the baseline)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Tacotron2(model.config).eval()


def evaluate_model(model: Tacotron2, pairs: Sequence[Tuple[str, PathLike]], json_path: Optional[PathLike] = None,
                   n_iters: int = 30) -> VoiceEvaluation:
    """:func:`recipes.builtin_voice.evaluate.evaluate_voice` with a Griffin-Lim vocoder (``n_iters`` iterations)."""
    stft = TacotronSTFT(n_mel_channels=model.config.n_mel_channels)
    return evaluate_voice(model.eval(), GriffinLimVocoder(stft, n_iters=n_iters).waveform, pairs, taco_stft=stft,
                          json_path=json_path)


def save_sentence_alignment(model: Tacotron2, text: str, path: PathLike, seed: int = 0) -> Optional[Path]:
    """Plot the inference alignment ``(decoder steps, encoder steps)`` of ``text`` to ``path``."""
    ids = torch.tensor([text_to_sequence(text)], dtype=torch.long)
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)
        _, lengths, alignments = model.infer(ids, torch.tensor([ids.shape[1]]))
    frames = max(1, int(lengths[0]))
    return save_alignment_png(alignments[0, :frames], path, title=f"inference alignment: {text}")


def build_report(checkpoint: PathLike, corpus: PathLike, out: PathLike, n: int = 20,
                 baseline: bool = True) -> Dict[str, Any]:
    """Evaluate ``checkpoint`` (and the untrained baseline) and write the files listed above."""
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    pairs = validation_pairs(corpus, n)
    model = load_tacotron2(checkpoint)
    summary: Dict[str, Any] = {"checkpoint": os.fspath(checkpoint), "n_sentences": n,
                               "trained": evaluate_model(model, pairs, out_dir / "eval_trained.json").summary()}
    if baseline:
        summary["untrained"] = evaluate_model(untrained_like(model), pairs, out_dir / "eval_untrained.json").summary()
    save_sentence_alignment(model, pairs[0][0], out_dir / "alignment.png")
    atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m recipes.builtin_voice.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, help="Tacotron 2 checkpoint (any layout)")
    parser.add_argument("--corpus", required=True, help="folder made by python -m recipes.builtin_voice.corpus")
    parser.add_argument("--out", required=True, help="folder for the JSON results and the plot")
    parser.add_argument("--n", type=int, default=20, help="validation sentences to use")
    parser.add_argument("--no-baseline", action="store_true", help="skip the untrained baseline")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    summary = build_report(args.checkpoint, args.corpus, args.out, n=args.n, baseline=not args.no_baseline)
    logger.info("%s", json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
