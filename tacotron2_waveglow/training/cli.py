"""Command lines ``tacotron2-train``, ``waveglow-train`` and ``python -m tacotron2_waveglow.training --model M``.

Options and defaults follow NVIDIA DLE's ``train.py``; the model's defaults
(learning rate, weight decay, clipping, batch size, annealing) come from its
recipe unless given. Run under ``torchrun --nproc_per_node N`` for DDP. User
errors (missing files, bad rows, bad options, unreadable checkpoints) print
one line ``PROG: error: ...`` on stderr and exit with status 2; a diverging
run (NaN loss) exits with 1.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence

from checkpoints.cli_support import OneLineArgumentParser, UsageError, parse_json_object, report_error

from .checkpointing import resolve_resume
from .config import TrainerConfig
from .data.bad_rows import ON_BAD_ROWS, BadRow, handle_bad_rows
from .data.filelist import Utterance, read_utterances
from .data.mel import MelExtractor, MelSettings
from .data.validate import validate_utterances
from .distributed import DistContext, cleanup_distributed, init_distributed
from .guided_attention import check_attention_targets
from .models import MODEL_NAMES, DataSpec, get_recipe
from .rng import seed_everything
from .trainer import Trainer
from .warm_start import warm_start

logger = logging.getLogger("tacotron2_waveglow.training")

EXIT_USAGE = 2
EXIT_RUNTIME = 1
_DESCRIPTIONS = {
    "tacotron2": "Train Tacotron 2 (text -> mel spectrogram) on a filelist of WAV|text rows.",
    "waveglow": "Train WaveGlow (mel spectrogram -> audio) on a filelist of WAV files.",
    None: "Train Tacotron 2 or WaveGlow (--model) on a filelist.",
}
#: Options that only one model uses, with the values the other model's namespace gets.
_TACOTRON2_ONLY = {"load_mel_from_disk": False, "text_cleaners": ["english_cleaners"], "length_buckets": 0,
                   "guided_attention_weight": 0.0, "guided_attention_sigma": 0.2, "gate_positive_weight": 1.0,
                   "scheduled_sampling": 0.0, "attention_targets": None, "attention_target_sigma": 1.0}
_WAVEGLOW_ONLY = {"segment_length": 8000, "sigma": 1.0}


def program_name(model: Optional[str]) -> str:
    """``tacotron2-train``, ``waveglow-train``, or ``python -m tacotron2_waveglow.training``."""
    return f"{model}-train" if model else "python -m tacotron2_waveglow.training"


def build_parser(model: Optional[str] = None) -> argparse.ArgumentParser:
    """The argument parser; ``model`` fixes ``--model`` and shows only that model's options.

    Errors raise :class:`~checkpoints.cli_support.UsageError` (``main`` prints them as one line).
    """
    p = OneLineArgumentParser(prog=program_name(model), description=_DESCRIPTIONS[model])
    if model is None:
        p.add_argument("--model", required=True, choices=MODEL_NAMES, help="model to train")
    p.add_argument("-o", "--output", required=True, help="folder for checkpoints, logs and plots")
    p.add_argument("-d", "--dataset-path", default=".", help="root that filelist paths are relative to")
    p.add_argument("--training-files", required=True, help="filelist (path|text) or LJSpeech metadata.csv")
    p.add_argument("--validation-files", default=None, help="validation filelist (optional)")
    p.add_argument("--epochs", type=int, default=None, help="total epochs (model default if omitted)")
    p.add_argument("--max-iterations", type=int, default=None, metavar="N",
                   help="stop after N optimizer steps in all (smoke runs); the epoch it ends in counts as done "
                        "and a checkpoint is written")
    p.add_argument("--epochs-per-checkpoint", type=int, default=50)
    p.add_argument("--resume", default=None, help="training checkpoint to continue, or 'auto' for the latest in -o")
    p.add_argument("--warm-start", default=None, help="model file (any NVIDIA layout) to fine-tune from")
    p.add_argument("--ignore-layers", nargs="*", default=[], help="state-dict keys not taken from --warm-start")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--amp", action="store_true", help="fp16 autocast + GradScaler on CUDA, bf16 autocast on CPU")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    opt = p.add_argument_group("optimization (defaults depend on the model)")
    opt.add_argument("-lr", "--learning-rate", type=float, default=None)
    opt.add_argument("--weight-decay", type=float, default=None)
    opt.add_argument("--grad-clip-thresh", type=float, default=None)
    opt.add_argument("-bs", "--batch-size", type=int, default=None, help="batch size per process")
    opt.add_argument("--anneal-steps", type=int, nargs="*", default=None, help="epochs at which the lr drops")
    opt.add_argument("--anneal-factor", type=float, choices=[0.1, 0.3], default=None)
    cfg = p.add_argument_group("model configuration")
    cfg.add_argument("--model-config", default=None, help="JSON file with model config fields")
    cfg.add_argument("--config-overrides", default=None, help="JSON object of model config fields")
    data = p.add_argument_group("data")
    data.add_argument("--max-seconds", type=float, default=None, help="reject clips longer than this")
    data.add_argument("--on-bad-rows", choices=ON_BAD_ROWS, default="stop")
    data.add_argument("--num-workers", type=int, default=0)
    if model in (None, "tacotron2"):
        _add_tacotron2_options(p.add_argument_group("Tacotron 2" if model is None else "data (Tacotron 2)"))
    else:
        p.set_defaults(**_TACOTRON2_ONLY)
    if model in (None, "waveglow"):
        _add_waveglow_options(p.add_argument_group("WaveGlow" if model is None else "data (WaveGlow)"))
    else:
        p.set_defaults(**_WAVEGLOW_ONLY)
    audio = p.add_argument_group("audio")
    for name, kind, default in (("sampling-rate", int, 22050), ("filter-length", int, 1024),
                                ("hop-length", int, 256), ("win-length", int, 1024),
                                ("mel-fmin", float, 0.0), ("mel-fmax", float, 8000.0)):
        audio.add_argument(f"--{name}", type=kind, default=default)
    log = p.add_argument_group("logging")
    log.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    log.add_argument("--no-tensorboard", action="store_true",
                     help="no TensorBoard files (written to -o when the tensorboard package is installed: "
                          "losses, learning rate, gradient norm, an alignment image and a validation audio sample)")
    log.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                     type=str.upper)
    log.add_argument("--log-interval", type=int, default=0, help="also log the training loss every N iterations")
    return p


def _add_tacotron2_options(group: Any) -> None:
    """Tacotron 2's own options, on an argument group (defaults from ``_TACOTRON2_ONLY``)."""
    defaults = _TACOTRON2_ONLY
    group.add_argument("--load-mel-from-disk", action="store_true", help="filelist paths name .pt mels")
    group.add_argument("--text-cleaners", nargs="*", default=defaults["text_cleaners"])
    group.add_argument("--length-buckets", type=int, default=defaults["length_buckets"], metavar="N",
                       help="batch items of similar text length (sorted in groups of N batches) to cut padding; "
                            "0 = uniform random batches (NVIDIA's recipe)")
    group.add_argument("--guided-attention-weight", type=float, default=defaults["guided_attention_weight"],
                       help="add this weight x guided (diagonal) attention loss; 0 = off (NVIDIA's recipe)")
    group.add_argument("--guided-attention-sigma", type=float, default=defaults["guided_attention_sigma"],
                       help="width of the guided attention prior (fraction of the utterance)")
    group.add_argument("--attention-targets", default=defaults["attention_targets"], metavar="DIR",
                       help="folder of known alignments, DIR/<row file stem>.pt (one symbol index per mel frame); "
                            "the guided attention term is then centred on them instead of the diagonal")
    group.add_argument("--attention-target-sigma", type=float, default=defaults["attention_target_sigma"],
                       metavar="SYMBOLS", help="width of the guided attention term around --attention-targets")
    group.add_argument("--gate-positive-weight", type=float, default=defaults["gate_positive_weight"],
                       help="pos_weight of the stop-token BCE; 1 = NVIDIA's loss")
    group.add_argument("--scheduled-sampling", type=float, default=defaults["scheduled_sampling"], metavar="P",
                       help="probability that a training step feeds the decoder its own previous frame instead of "
                            "the target's (scheduled sampling); 0 = NVIDIA's teacher forcing")


def _add_waveglow_options(group: Any) -> None:
    """WaveGlow's own options, on an argument group (defaults from ``_WAVEGLOW_ONLY``)."""
    group.add_argument("--segment-length", type=int, default=_WAVEGLOW_ONLY["segment_length"],
                       help="audio segment per item (samples)")
    group.add_argument("--sigma", type=float, default=_WAVEGLOW_ONLY["sigma"], help="WaveGlow loss sigma")


def check_paths(args: argparse.Namespace) -> None:
    """Files the options name must exist: checked before any data is read or model built."""
    for flag, path in (("--training-files", args.training_files), ("--validation-files", args.validation_files),
                       ("--model-config", args.model_config), ("--warm-start", args.warm_start)):
        if path and not Path(path).is_file():
            raise UsageError(f"{flag}: file not found: {path}")
    if getattr(args, "attention_targets", None) and not Path(args.attention_targets).is_dir():
        raise UsageError(f"--attention-targets: folder not found: {args.attention_targets}")
    try:
        check_attention_targets(args.guided_attention_weight, getattr(args, "attention_targets", None))
    except ValueError as error:
        raise UsageError(f"--attention-targets: {error} (--guided-attention-weight)") from None
    if args.resume not in (None, "auto") and not Path(args.resume).is_file():
        raise UsageError(f"--resume: file not found: {args.resume} (give a training checkpoint or 'auto')")
    if args.max_iterations is not None and args.max_iterations < 1:
        raise UsageError(f"--max-iterations must be at least 1, got {args.max_iterations}")
    if Path(args.output).exists() and not Path(args.output).is_dir():
        raise UsageError(f"-o {args.output} exists and is not a folder")
    check_numbers(args)


def check_numbers(args: argparse.Namespace) -> None:
    """Every float option finite and non-negative, the seed in torch's range: checked before any data is read."""
    import math

    for name, value in sorted(vars(args).items()):
        if isinstance(value, float) and (not math.isfinite(value) or value < 0):
            raise UsageError(f"--{name.replace('_', '-')} must be a finite number >= 0, got {value}")
    if getattr(args, "scheduled_sampling", 0.0) > 1.0:
        raise UsageError(f"--scheduled-sampling is a probability, at most 1, got {args.scheduled_sampling}")
    from checkpoints.cli_support import SEED_MODULUS

    if args.seed is not None and not 0 <= args.seed < SEED_MODULUS:
        raise UsageError(f"--seed must be in [0, 2**63), got {args.seed}")


def model_overrides(args: argparse.Namespace) -> Dict[str, Any]:
    """Config fields from ``--model-config`` then ``--config-overrides`` (later wins)."""
    overrides: Dict[str, Any] = {}
    if args.model_config:
        with open(args.model_config, encoding="utf-8") as handle:
            overrides.update(parse_json_object(handle.read(), f"--model-config {args.model_config}"))
    if args.config_overrides:
        overrides.update(parse_json_object(args.config_overrides, "--config-overrides"))
    return overrides


def trainer_config(args: argparse.Namespace, defaults: Dict[str, Any]) -> TrainerConfig:
    """Command-line values, with the model's defaults for those left out."""
    def pick(name: str) -> Any:
        value = getattr(args, name)
        return defaults[name] if value is None else value
    return TrainerConfig(
        epochs=pick("epochs"), batch_size=pick("batch_size"), learning_rate=pick("learning_rate"),
        weight_decay=pick("weight_decay"), grad_clip_thresh=pick("grad_clip_thresh"),
        anneal_steps=tuple(pick("anneal_steps")), anneal_factor=pick("anneal_factor"), amp=args.amp,
        seed=args.seed, epochs_per_checkpoint=args.epochs_per_checkpoint, output_dir=args.output,
        num_workers=args.num_workers, progress=not args.no_progress, tensorboard=not args.no_tensorboard,
        log_interval=args.log_interval, length_buckets=args.length_buckets, max_iterations=args.max_iterations)


def load_rows(args: argparse.Namespace, listing: Optional[str], require_text: bool, ctx: DistContext) -> List[Utterance]:
    """Parse and validate a dataset list; bad rows stop the run or are skipped, never silently."""
    if not listing:
        return []
    rows, bad = read_utterances(listing, args.dataset_path, require_text=require_text)
    encode = _text_encoder(args.text_cleaners) if require_text else None
    good, more = validate_utterances(rows, sampling_rate=args.sampling_rate, max_seconds=args.max_seconds,
                                     encode=encode, require_text=require_text,
                                     audio_files=not args.load_mel_from_disk)
    _report(bad + more, args.on_bad_rows, ctx)
    if not good:
        raise ValueError(f"no usable rows in {listing!r}")
    if ctx.is_main:
        logger.info("%s: %d usable row(s)", listing, len(good))
    return good


def _report(bad: List[BadRow], on_bad_rows: str, ctx: DistContext) -> None:
    if on_bad_rows == "stop" or ctx.is_main:
        handle_bad_rows(bad, on_bad_rows)


def _text_encoder(cleaners: Sequence[str]):
    from text import text_to_sequence
    return lambda text: text_to_sequence(text, tuple(cleaners))


def run(args: argparse.Namespace) -> Trainer:
    """Train as ``args`` say; returns the finished :class:`Trainer`."""
    recipe = get_recipe(args.model)
    check_paths(args)
    ctx = init_distributed(args.device)
    finished = False
    try:
        config = trainer_config(args, recipe.defaults)
        Path(args.output).mkdir(parents=True, exist_ok=True)
        model_config = recipe.make_config(model_overrides(args))
        mel_settings = MelSettings(args.sampling_rate, args.filter_length, args.hop_length, args.win_length,
                                   getattr(model_config, "n_mel_channels"), args.mel_fmin, args.mel_fmax)
        data = DataSpec(train_rows=load_rows(args, args.training_files, recipe.require_text, ctx),
                        val_rows=load_rows(args, args.validation_files, recipe.require_text, ctx),
                        mels=MelExtractor(mel_settings), text_cleaners=args.text_cleaners,
                        load_mel_from_disk=args.load_mel_from_disk, segment_length=args.segment_length,
                        sigma=args.sigma, seed=args.seed, output_dir=args.output,
                        guided_attention_weight=args.guided_attention_weight,
                        guided_attention_sigma=args.guided_attention_sigma,
                        attention_targets=args.attention_targets, attention_target_sigma=args.attention_target_sigma,
                        gate_positive_weight=args.gate_positive_weight,
                        scheduled_sampling=args.scheduled_sampling)
        seed_everything(args.seed)
        model = recipe.make_model(model_config)
        if args.warm_start:
            warm_start(model, args.warm_start, recipe.load_pretrained, args.ignore_layers, recipe.name)
        trainer = Trainer(recipe.make_task(model, data), config, ctx)
        resume_path = resolve_resume(args.resume, args.output)
        if resume_path is not None:
            trainer.resume(str(resume_path))
        trainer.fit()
        finished = True
        return trainer
    finally:
        cleanup_distributed(synchronize=finished)


class Terminated(Exception):
    """SIGTERM arrived (``kill``, ``timeout``, a job scheduler ending the job)."""


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while training, so it stops as Ctrl-C does (and where
    Ctrl-C cannot reach: a job started with ``&`` by a non-interactive shell ignores SIGINT)."""
    def handler(signum, frame):
        raise Terminated()
    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave the signal alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Optional[Sequence[str]] = None, model: Optional[str] = None) -> int:
    """Entry point of ``python -m tacotron2_waveglow.training`` (and, with ``model`` set, of ``<model>-train``).

    Returns the exit status: 0, 1 when training diverged, 2 for a user error
    (reported as one line ``PROG: error: ...`` on stderr, details of bad rows in the log),
    130 after Ctrl-C and 143 after SIGTERM (the last checkpoint written stays intact).
    """
    from checkpoints.errors import CheckpointError

    prog = program_name(model)
    try:
        args = build_parser(model).parse_args(argv)
        if model is not None:
            args.model = model
        rank = int(os.environ.get("RANK", "0")) if os.environ.get("RANK", "0").isdigit() else 0
        logging.basicConfig(level=args.log_level if rank == 0 else logging.WARNING, stream=sys.stdout,
                            format="%(asctime)s %(name)s %(levelname)s: %(message)s")
        with _sigterm_raises():
            run(args)
    except (UsageError, CheckpointError, ValueError, OSError) as exc:
        _report_error(prog, exc)
        return EXIT_USAGE
    except FloatingPointError as exc:
        report_error(prog, exc)
        return EXIT_RUNTIME
    except (KeyboardInterrupt, Terminated, RuntimeError) as exc:
        stop = interruption(exc)
        if stop is None:
            raise
        if isinstance(stop, Terminated):
            print(f"{prog}: terminated (SIGTERM); the last checkpoint written is intact (--resume auto continues)",
                  file=sys.stderr)
            return 143
        print(f"{prog}: interrupted; the last checkpoint written is intact (--resume auto continues)",
              file=sys.stderr)
        return 130
    return 0


def interruption(exc: BaseException) -> Optional[BaseException]:
    """The Ctrl-C or SIGTERM behind ``exc``, or ``None``.

    A signal that lands inside ``torch.save`` makes its zip writer fail while
    closing (``RuntimeError: ... unexpected pos``), which hides the signal's
    exception as that error's context; the half-written file is a temporary
    one that :func:`audio.atomic.atomic_write` discards, so this is an
    interruption like any other.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, (KeyboardInterrupt, Terminated)):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _report_error(prog: str, exc: BaseException) -> None:
    """One line on stderr; a multi-line message (a bad-rows report) goes whole to the log first."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    if len(lines) > 2:
        logger.error("%s", str(exc))
        report_error(prog, UsageError(f"{lines[0]} (listed in the log above) {lines[-1]}"))
    else:
        report_error(prog, exc)


def tacotron2_main() -> int:
    """Console script ``tacotron2-train``."""
    return main(model="tacotron2")


def waveglow_main() -> int:
    """Console script ``waveglow-train``."""
    return main(model="waveglow")
