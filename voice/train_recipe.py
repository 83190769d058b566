"""The exact recipe that trained the built-in voice, runnable end to end.

``python -m voice.train_recipe --corpus DATA --out RUN`` caches the corpus's
mels (``python -m training.preprocess``) and then trains with the project's
own trainer (``python -m training``) in the two phases the shipped voice went
through:

1. ``plain_epochs`` epochs of NVIDIA's loss (mel MSE + gate BCE) exactly as
   ``training`` does by default;
2. resumed from phase 1's last checkpoint, the same loss plus the opt-in
   guided attention term (``--guided-attention-weight``), up to ``epochs``.

Everything but the reduced model size (:data:`VOICE_MODEL_CONFIG`), the batch
size and the guided attention term is NVIDIA's recipe (Adam, lr 1e-3, weight
decay 1e-6, gradient clipping 1.0). ``--dry-run`` prints the commands instead
of running them.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from voice.corpus import TRAIN_FILELIST, VAL_FILELIST

#: Reduced Tacotron 2 (about 2 M parameters, 4 MB in fp16); other fields are the hub defaults.
VOICE_MODEL_CONFIG: Dict[str, int] = dict(
    symbols_embedding_dim=128, encoder_embedding_dim=128, attention_rnn_dim=256, attention_dim=64,
    attention_location_n_filters=16, decoder_rnn_dim=256, prenet_dim=128, postnet_embedding_dim=128,
    max_decoder_steps=1000)


@dataclass(frozen=True)
class VoiceRecipe:
    """Training settings of the built-in voice (model size in :data:`VOICE_MODEL_CONFIG`)."""

    batch_size: int = 16
    plain_epochs: int = 1
    epochs: int = 8
    guided_attention_weight: float = 10.0
    guided_attention_sigma: float = 0.2
    seed: int = 1234
    log_interval: int = 10

    def __post_init__(self) -> None:
        if not 0 <= self.plain_epochs < self.epochs:
            raise ValueError(f"need 0 <= plain_epochs < epochs, got plain_epochs={self.plain_epochs}, "
                             f"epochs={self.epochs}")


def mel_filelists(corpus: Path) -> Dict[str, Path]:
    """Mel filelists ``training.preprocess`` writes for the corpus's train/val lists."""
    return {split: corpus / "mels" / f"{Path(name).stem}_mel.txt"
            for split, name in (("train", TRAIN_FILELIST), ("val", VAL_FILELIST))}


def preprocess_arguments(corpus: Path) -> List[str]:
    """Arguments of ``python -m training.preprocess`` for the corpus."""
    return ["-d", str(corpus), "--filelists", str(corpus / TRAIN_FILELIST), str(corpus / VAL_FILELIST),
            "--no-progress"]


def training_arguments(corpus: Path, out: Path, recipe: VoiceRecipe, phase: int) -> List[str]:
    """Arguments of ``python -m training`` for phase 1 (plain) or 2 (guided, resumed)."""
    if phase not in (1, 2):
        raise ValueError(f"phase must be 1 or 2, got {phase!r}")
    lists = mel_filelists(corpus)
    args = ["--model", "tacotron2", "-d", str(corpus), "--training-files", str(lists["train"]),
            "--validation-files", str(lists["val"]), "--load-mel-from-disk",
            "--config-overrides", json.dumps(VOICE_MODEL_CONFIG), "-bs", str(recipe.batch_size),
            "--seed", str(recipe.seed), "--epochs-per-checkpoint", "1", "--log-interval", str(recipe.log_interval),
            "--no-progress", "--no-tensorboard"]
    if phase == 1:
        return args + ["-o", str(out / "plain"), "--epochs", str(recipe.plain_epochs)]
    return args + ["-o", str(out / "guided"), "--epochs", str(recipe.epochs),
                   "--resume", str(out / "plain" / "checkpoint_latest.pt"),
                   "--guided-attention-weight", str(recipe.guided_attention_weight),
                   "--guided-attention-sigma", str(recipe.guided_attention_sigma)]


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``python -m voice.train_recipe``."""
    defaults = VoiceRecipe()
    parser = argparse.ArgumentParser(prog="python -m voice.train_recipe",
                                     description="Train the built-in voice on a voice.corpus folder.")
    parser.add_argument("--corpus", required=True, type=Path, help="folder made by python -m voice.corpus")
    parser.add_argument("--out", required=True, type=Path, help="run folder (checkpoints, logs, plots)")
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--plain-epochs", type=int, default=defaults.plain_epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run (or print) preprocessing and both training phases; returns the exit status."""
    args = build_parser().parse_args(argv)
    recipe = VoiceRecipe(batch_size=args.batch_size, plain_epochs=args.plain_epochs, epochs=args.epochs)
    steps = [("training.preprocess", preprocess_arguments(args.corpus))]
    if recipe.plain_epochs > 0:
        steps.append(("training", training_arguments(args.corpus, args.out, recipe, phase=1)))
    phase2 = training_arguments(args.corpus, args.out, recipe, phase=2)
    if recipe.plain_epochs == 0:
        resume = phase2.index("--resume")
        del phase2[resume:resume + 2]
    steps.append(("training", phase2))
    for module, module_args in steps:
        if args.dry_run:
            print(shlex.join(["python", "-m", module, *module_args]))
            continue
        if module == "training":
            from training.cli import main as train_main
            train_main(module_args)
        else:
            from training.preprocess import main as preprocess_main
            if preprocess_main(module_args) != 0:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
