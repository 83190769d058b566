"""The exact recipe that trained the built-in voice, runnable end to end.

``python -m recipes.builtin_voice.train_recipe --corpus DATA --out RUN`` caches the corpus's
mels (``python -m tacotron2_waveglow.training.preprocess``) and then trains with the project's
own trainer (``python -m tacotron2_waveglow.training``) in the phases the shipped voice went
through (:attr:`VoiceRecipe.phases`), each resumed from the previous one's
last checkpoint and differing only in opt-in trainer options:

1. epoch 0: NVIDIA's loss (mel MSE + gate BCE) exactly as ``training`` does
   by default; it had not aligned (attention spread over every token);
2. epoch 1: plus guided attention, weight 10; attention locked onto word
   boundaries but not onto the diagonal;
3. epoch 2: guided attention weight 100: the teacher-forced alignment became
   diagonal and free-running attention reached the last token, but the stop
   token never fired (gate probability < 0.08);
4. epochs 3-7: the same plus the opt-in stop-token ``pos_weight`` 10
   (``--gate-positive-weight``): the decoder learns to stop;
5. epochs 8-14: the same with ``--length-buckets 16`` (batches of similar
   length: 1.7x the training throughput); stopping and monotonicity became
   reliable, but attention ended 4 tokens before the end of the text, even
   teacher-forced, so it stopped "short" by the reaches-the-end check;
6. epochs 15 and on: guided attention sigma 0.2 -> 0.1 (a narrower diagonal
   prior): attention reaches the last 3 tokens.

A new teacher's corpus is learned faster from a voice that already aligns:
``--warm-start tacotron2_waveglow/data/voice_tacotron2.pt`` replaces the
phases by :data:`WARM_START_PHASES` (one phase with the last phase's options),
copying the weights of that file before the first step; the run resumes
itself from its own latest checkpoint when restarted (``--resume auto``).
``--threads 1`` calls ``torch.set_num_threads(1)`` for a shared machine.

Everything but the reduced model size (:data:`VOICE_MODEL_CONFIG`), the batch
size and the guided attention term is NVIDIA's recipe (Adam, lr 1e-3, weight
decay 1e-6, gradient clipping 1.0). ``--dry-run`` prints the commands instead
of running them.
"""
from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from recipes.builtin_voice.corpus import TRAIN_FILELIST, VAL_FILELIST

#: Reduced Tacotron 2 (about 2 M parameters, 4 MB in fp16); other fields are the hub defaults.
VOICE_MODEL_CONFIG: Dict[str, int] = dict(
    symbols_embedding_dim=128, encoder_embedding_dim=128, attention_rnn_dim=256, attention_dim=64,
    attention_location_n_filters=16, decoder_rnn_dim=256, prenet_dim=128, postnet_embedding_dim=128,
    max_decoder_steps=1000)

#: The voice in training (``recipes/builtin_voice/progress/voice_in_training.pt``) since the twelfth session:
#: :data:`VOICE_MODEL_CONFIG` grown with ``python -m recipes.builtin_voice.widen`` (same function at the
#: start, then trained on), about 4.6 M parameters, 9 MB in fp16, predicting two frames per decoder step
#: since the fourteenth session (``python -m recipes.builtin_voice.regroup``). Runs that warm-start from the
#: progress file pass this configuration; the recipe's phases and the shipped voice keep
#: :data:`VOICE_MODEL_CONFIG`.
PROGRESS_MODEL_CONFIG: Dict[str, int] = dict(
    VOICE_MODEL_CONFIG, symbols_embedding_dim=256, encoder_embedding_dim=256, attention_rnn_dim=384,
    decoder_rnn_dim=384, n_frames_per_step=2)


DEFAULT_SIGMA = 0.2
"""Guided attention sigma of the trainer's ``--guided-attention-sigma`` default."""


class Phase(NamedTuple):
    """One training phase: it ends before epoch ``end_epoch`` (0-based) with these trainer options."""

    end_epoch: int
    guided_attention_weight: float = 0.0
    gate_positive_weight: float = 1.0
    length_buckets: int = 0
    guided_attention_sigma: float = DEFAULT_SIGMA

    @property
    def name(self) -> str:
        """Run folder name: ``plain`` or ``ga<w>``, then ``-gate<p>``, ``-buckets<n>``, ``-sigma<s>`` when set."""
        name = "plain" if self.guided_attention_weight == 0 else f"ga{self.guided_attention_weight:g}"
        if self.gate_positive_weight != 1.0:
            name += f"-gate{self.gate_positive_weight:g}"
        if self.length_buckets:
            name += f"-buckets{self.length_buckets}"
        if self.guided_attention_sigma != DEFAULT_SIGMA:
            name += f"-sigma{self.guided_attention_sigma:g}"
        return name


WARM_START_PHASES: Tuple[Phase, ...] = (Phase(10, 100.0, 10.0, 16, 0.1),)
"""Fine-tuning a voice that already aligns: the options of the full recipe's last phase from the first step."""


@dataclass(frozen=True)
class VoiceRecipe:
    """Training settings of the built-in voice (model size in :data:`VOICE_MODEL_CONFIG`).

    ``phases``: :class:`Phase` tuples (plain tuples are converted), end epochs
    increasing; phase ``i`` trains epochs ``phases[i-1].end_epoch .. end_epoch - 1``.
    """

    phases: Tuple[Phase, ...] = (Phase(1), Phase(2, 10.0), Phase(3, 100.0), Phase(8, 100.0, 10.0),
                                 Phase(15, 100.0, 10.0, 16), Phase(16, 100.0, 10.0, 16, 0.1))
    batch_size: int = 16
    seed: int = 1234
    log_interval: int = 10
    warm_start: Optional[str] = None

    def __post_init__(self) -> None:
        phases = tuple(Phase(*phase) for phase in self.phases)
        object.__setattr__(self, "phases", phases)
        ends = [phase.end_epoch for phase in phases]
        if not ends or ends[0] < 1 or any(b <= a for a, b in zip(ends, ends[1:])):
            raise ValueError(f"phases need increasing end epochs >= 1, got {self.phases!r}")
        if any(p.guided_attention_weight < 0 or p.gate_positive_weight <= 0 or p.length_buckets < 0
               or p.guided_attention_sigma <= 0 for p in phases):
            raise ValueError(f"guided attention weights must be >= 0, gate weights and sigmas > 0 and length "
                             f"buckets >= 0, got {self.phases!r}")

    @classmethod
    def warm_started(cls, model_file: str, epochs: int = 10, **kwargs: Any) -> "VoiceRecipe":
        """One phase of :data:`WARM_START_PHASES` options, ending at ``epochs``, fine-tuning ``model_file``."""
        return cls(phases=(WARM_START_PHASES[0]._replace(end_epoch=epochs),), warm_start=str(model_file), **kwargs)

    def with_epochs(self, epochs: int) -> "VoiceRecipe":
        """The same recipe with the last phase ending at ``epochs``."""
        return replace(self, phases=self.phases[:-1] + (self.phases[-1]._replace(end_epoch=epochs),))


def phase_dir(out: Path, phase: Phase) -> Path:
    """Run folder of a phase (see :attr:`Phase.name`)."""
    return out / phase.name


def mel_filelists(corpus: Path) -> Dict[str, Path]:
    """Mel filelists ``training.preprocess`` writes for the corpus's train/val lists."""
    return {split: corpus / "mels" / f"{Path(name).stem}_mel.txt"
            for split, name in (("train", TRAIN_FILELIST), ("val", VAL_FILELIST))}


def preprocess_arguments(corpus: Path) -> List[str]:
    """Arguments of ``python -m tacotron2_waveglow.training.preprocess`` for the corpus."""
    return ["-d", str(corpus), "--filelists", str(corpus / TRAIN_FILELIST), str(corpus / VAL_FILELIST),
            "--no-progress"]


def training_arguments(corpus: Path, out: Path, recipe: VoiceRecipe, phase: int) -> List[str]:
    """Arguments of ``python -m tacotron2_waveglow.training`` for phase ``phase`` (0-based) of ``recipe``."""
    if not 0 <= phase < len(recipe.phases):
        raise ValueError(f"phase must be in 0..{len(recipe.phases) - 1}, got {phase!r}")
    lists = mel_filelists(corpus)
    current = recipe.phases[phase]
    args = ["--model", "tacotron2", "-d", str(corpus), "--training-files", str(lists["train"]),
            "--validation-files", str(lists["val"]), "--load-mel-from-disk",
            "--config-overrides", json.dumps(VOICE_MODEL_CONFIG), "-bs", str(recipe.batch_size),
            "--seed", str(recipe.seed), "--epochs-per-checkpoint", "1", "--log-interval", str(recipe.log_interval),
            "--no-progress", "--no-tensorboard", "-o", str(phase_dir(out, current)),
            "--epochs", str(current.end_epoch)]
    if phase > 0:
        args += ["--resume", str(phase_dir(out, recipe.phases[phase - 1]) / "checkpoint_latest.pt")]
    elif recipe.warm_start:
        args += ["--warm-start", recipe.warm_start, "--resume", "auto"]
    if current.guided_attention_weight > 0:
        args += ["--guided-attention-weight", f"{current.guided_attention_weight:g}", "--guided-attention-sigma",
                 f"{current.guided_attention_sigma:g}"]
    if current.gate_positive_weight != 1.0:
        args += ["--gate-positive-weight", f"{current.gate_positive_weight:g}"]
    if current.length_buckets:
        args += ["--length-buckets", str(current.length_buckets)]
    return args


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``python -m recipes.builtin_voice.train_recipe``."""
    defaults = VoiceRecipe()
    parser = argparse.ArgumentParser(prog="python -m recipes.builtin_voice.train_recipe",
                                     description="Train the built-in voice on a recipes.builtin_voice.corpus folder.")
    parser.add_argument("--corpus", required=True, type=Path, help="folder made by python -m recipes.builtin_voice.corpus")
    parser.add_argument("--out", required=True, type=Path, help="run folder (checkpoints, logs, plots)")
    parser.add_argument("--epochs", type=int, default=defaults.phases[-1].end_epoch,
                        help="where the last phase ends (epochs count from 0)")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--warm-start", default=None, metavar="MODEL_FILE",
                        help="fine-tune this voice (e.g. tacotron2_waveglow/data/voice_tacotron2.pt) in one phase")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads(N) before training")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run (or print) preprocessing and every training phase; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.dry_run:  # timestamped lines, as the trainer's own CLI logs them (its basicConfig then does nothing)
        logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                            format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads must be >= 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
    if args.warm_start:
        if args.epochs < 1:
            parser.error(f"--epochs must be >= 1, got {args.epochs}")
        recipe = VoiceRecipe.warm_started(args.warm_start, args.epochs, batch_size=args.batch_size)
    else:
        recipe = VoiceRecipe(batch_size=args.batch_size)
        if args.epochs <= recipe.phases[-2].end_epoch:
            parser.error(f"--epochs must be above {recipe.phases[-2].end_epoch}, where the last phase starts")
        recipe = recipe.with_epochs(args.epochs)
    steps = [("tacotron2_waveglow.training.preprocess", preprocess_arguments(args.corpus))]
    steps += [("tacotron2_waveglow.training", training_arguments(args.corpus, args.out, recipe, phase))
              for phase in range(len(recipe.phases))]
    for module, module_args in steps:
        if args.dry_run:
            print(shlex.join(["python", "-m", module, *module_args]))
            continue
        if module == "tacotron2_waveglow.training":
            from tacotron2_waveglow.training.cli import main as train_main
            train_main(module_args)
        else:
            from tacotron2_waveglow.training.preprocess import main as preprocess_main
            if preprocess_main(module_args) != 0:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
