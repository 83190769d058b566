"""The exact recipe that trained the built-in voice, runnable end to end.

``python -m voice.train_recipe --corpus DATA --out RUN`` caches the corpus's
mels (``python -m training.preprocess``) and then trains with the project's
own trainer (``python -m training``) in the phases the shipped voice went
through (:attr:`VoiceRecipe.phases`), each resumed from the previous one's
last checkpoint and differing only in the opt-in guided attention weight:

1. epoch 0: NVIDIA's loss (mel MSE + gate BCE) exactly as ``training`` does
   by default; it had not aligned (attention spread over every token);
2. epoch 1: plus guided attention, weight 10; attention locked onto word
   boundaries but not onto the diagonal;
3. epoch 2: guided attention weight 100: the teacher-forced alignment became
   diagonal and free-running attention reached the last token, but the stop
   token never fired (gate probability < 0.08);
4. epochs 3 and on: the same plus the opt-in stop-token ``pos_weight`` 10
   (``--gate-positive-weight``).

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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from voice.corpus import TRAIN_FILELIST, VAL_FILELIST

#: Reduced Tacotron 2 (about 2 M parameters, 4 MB in fp16); other fields are the hub defaults.
VOICE_MODEL_CONFIG: Dict[str, int] = dict(
    symbols_embedding_dim=128, encoder_embedding_dim=128, attention_rnn_dim=256, attention_dim=64,
    attention_location_n_filters=16, decoder_rnn_dim=256, prenet_dim=128, postnet_embedding_dim=128,
    max_decoder_steps=1000)


@dataclass(frozen=True)
class VoiceRecipe:
    """Training settings of the built-in voice (model size in :data:`VOICE_MODEL_CONFIG`).

    ``phases``: ``(end_epoch, guided_attention_weight, gate_positive_weight)``
    triples, end epochs increasing; phase ``i`` trains epochs
    ``phases[i-1].end .. end - 1``.
    """

    phases: Tuple[Tuple[int, float, float], ...] = ((1, 0.0, 1.0), (2, 10.0, 1.0), (3, 100.0, 1.0),
                                                    (8, 100.0, 10.0))
    batch_size: int = 16
    guided_attention_sigma: float = 0.2
    seed: int = 1234
    log_interval: int = 10

    def __post_init__(self) -> None:
        ends = [end for end, _, _ in self.phases]
        if not ends or ends[0] < 1 or any(b <= a for a, b in zip(ends, ends[1:])):
            raise ValueError(f"phases need increasing end epochs >= 1, got {self.phases!r}")
        if any(weight < 0 or gate <= 0 for _, weight, gate in self.phases):
            raise ValueError(f"guided attention weights must be >= 0 and gate weights > 0, got {self.phases!r}")

    def with_epochs(self, epochs: int) -> "VoiceRecipe":
        """The same recipe with the last phase ending at ``epochs``."""
        return replace(self, phases=self.phases[:-1] + ((epochs,) + tuple(self.phases[-1][1:]),))


def phase_dir(out: Path, weight: float, gate: float = 1.0) -> Path:
    """Run folder of a phase: ``plain``, ``ga<weight>`` or ``ga<weight>-gate<gate>``."""
    name = "plain" if weight == 0 else f"ga{weight:g}"
    return out / (name if gate == 1.0 else f"{name}-gate{gate:g}")


def mel_filelists(corpus: Path) -> Dict[str, Path]:
    """Mel filelists ``training.preprocess`` writes for the corpus's train/val lists."""
    return {split: corpus / "mels" / f"{Path(name).stem}_mel.txt"
            for split, name in (("train", TRAIN_FILELIST), ("val", VAL_FILELIST))}


def preprocess_arguments(corpus: Path) -> List[str]:
    """Arguments of ``python -m training.preprocess`` for the corpus."""
    return ["-d", str(corpus), "--filelists", str(corpus / TRAIN_FILELIST), str(corpus / VAL_FILELIST),
            "--no-progress"]


def training_arguments(corpus: Path, out: Path, recipe: VoiceRecipe, phase: int) -> List[str]:
    """Arguments of ``python -m training`` for phase ``phase`` (0-based) of ``recipe``."""
    if not 0 <= phase < len(recipe.phases):
        raise ValueError(f"phase must be in 0..{len(recipe.phases) - 1}, got {phase!r}")
    lists = mel_filelists(corpus)
    end, weight, gate = recipe.phases[phase]
    args = ["--model", "tacotron2", "-d", str(corpus), "--training-files", str(lists["train"]),
            "--validation-files", str(lists["val"]), "--load-mel-from-disk",
            "--config-overrides", json.dumps(VOICE_MODEL_CONFIG), "-bs", str(recipe.batch_size),
            "--seed", str(recipe.seed), "--epochs-per-checkpoint", "1", "--log-interval", str(recipe.log_interval),
            "--no-progress", "--no-tensorboard", "-o", str(phase_dir(out, weight, gate)), "--epochs", str(end)]
    if phase > 0:
        args += ["--resume", str(phase_dir(out, *recipe.phases[phase - 1][1:]) / "checkpoint_latest.pt")]
    if weight > 0:
        args += ["--guided-attention-weight", f"{weight:g}", "--guided-attention-sigma",
                 f"{recipe.guided_attention_sigma:g}"]
    if gate != 1.0:
        args += ["--gate-positive-weight", f"{gate:g}"]
    return args


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``python -m voice.train_recipe``."""
    defaults = VoiceRecipe()
    parser = argparse.ArgumentParser(prog="python -m voice.train_recipe",
                                     description="Train the built-in voice on a voice.corpus folder.")
    parser.add_argument("--corpus", required=True, type=Path, help="folder made by python -m voice.corpus")
    parser.add_argument("--out", required=True, type=Path, help="run folder (checkpoints, logs, plots)")
    parser.add_argument("--epochs", type=int, default=defaults.phases[-1][0], help="where the last phase ends")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run (or print) preprocessing and every training phase; returns the exit status."""
    args = build_parser().parse_args(argv)
    recipe = replace(VoiceRecipe(batch_size=args.batch_size)).with_epochs(args.epochs)
    steps = [("training.preprocess", preprocess_arguments(args.corpus))]
    steps += [("training", training_arguments(args.corpus, args.out, recipe, phase))
              for phase in range(len(recipe.phases))]
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
