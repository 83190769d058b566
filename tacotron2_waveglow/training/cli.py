"""Command line: ``python -m tacotron2_waveglow.training --model {tacotron2,waveglow} -o OUT -d DATA --training-files LIST ...``.

Options and defaults follow NVIDIA DLE's ``train.py``; the model's defaults
(learning rate, weight decay, clipping, batch size, annealing) come from its
recipe unless given. Run under ``torchrun --nproc_per_node N`` for DDP.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from audio.atomic import WriteError
from checkpoints.cli_support import parse_json_object, report_error
from checkpoints.errors import CheckpointError

from .checkpointing import resolve_resume
from .config import TrainerConfig
from .data.bad_rows import ON_BAD_ROWS, BadRow, handle_bad_rows
from .data.filelist import Utterance, read_utterances
from .data.mel import MelExtractor, MelSettings
from .data.validate import validate_utterances
from .distributed import DistContext, cleanup_distributed, init_distributed
from .models import MODEL_NAMES, DataSpec, get_recipe
from .rng import seed_everything
from .trainer import Trainer
from .warm_start import warm_start

logger = logging.getLogger("tacotron2_waveglow.training")


def build_parser(model: Optional[str] = None) -> argparse.ArgumentParser:
    """The argument parser; ``model`` fixes ``--model`` (for the ``tacotron2-train`` and ``waveglow-train`` scripts)."""
    p = argparse.ArgumentParser(prog=f"{model}-train" if model else "python -m tacotron2_waveglow.training",
                                description=__doc__.split("\n\n")[0])
    if model is None:
        p.add_argument("--model", required=True, choices=MODEL_NAMES, help="model to train")
    p.add_argument("-o", "--output", required=True, help="folder for checkpoints, logs and plots")
    p.add_argument("-d", "--dataset-path", default=".", help="root that filelist paths are relative to")
    p.add_argument("--training-files", required=True, help="filelist (path|text) or LJSpeech metadata.csv")
    p.add_argument("--validation-files", default=None, help="validation filelist (optional)")
    p.add_argument("--epochs", type=int, default=None, help="total epochs (model default if omitted)")
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
    data.add_argument("--load-mel-from-disk", action="store_true", help="filelist paths name .pt mels")
    data.add_argument("--text-cleaners", nargs="*", default=["english_cleaners"])
    data.add_argument("--segment-length", type=int, default=8000, help="WaveGlow audio segment (samples)")
    data.add_argument("--sigma", type=float, default=1.0, help="WaveGlow loss sigma")
    data.add_argument("--max-seconds", type=float, default=None, help="reject clips longer than this")
    data.add_argument("--on-bad-rows", choices=ON_BAD_ROWS, default="stop")
    data.add_argument("--num-workers", type=int, default=0)
    data.add_argument("--length-buckets", type=int, default=0, metavar="N",
                      help="batch items of similar text length (sorted in groups of N batches) to cut padding; "
                           "0 = uniform random batches (NVIDIA's recipe)")
    data.add_argument("--guided-attention-weight", type=float, default=0.0,
                      help="Tacotron 2: add this weight x guided (diagonal) attention loss; 0 = off (NVIDIA's recipe)")
    data.add_argument("--guided-attention-sigma", type=float, default=0.2,
                      help="width of the guided attention prior (fraction of the utterance)")
    data.add_argument("--gate-positive-weight", type=float, default=1.0,
                      help="Tacotron 2: pos_weight of the stop-token BCE; 1 = NVIDIA's loss")
    audio = p.add_argument_group("audio")
    for name, kind, default in (("sampling-rate", int, 22050), ("filter-length", int, 1024),
                                ("hop-length", int, 256), ("win-length", int, 1024),
                                ("mel-fmin", float, 0.0), ("mel-fmax", float, 8000.0)):
        audio.add_argument(f"--{name}", type=kind, default=default)
    log = p.add_argument_group("logging")
    log.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    log.add_argument("--no-tensorboard", action="store_true")
    log.add_argument("--log-level", default="INFO")
    log.add_argument("--log-interval", type=int, default=0, help="also log the training loss every N iterations")
    return p


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
        log_interval=args.log_interval, length_buckets=args.length_buckets)


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
    ctx = init_distributed(args.device)
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
                        gate_positive_weight=args.gate_positive_weight)
        seed_everything(args.seed)
        model = recipe.make_model(model_config)
        if args.warm_start:
            warm_start(model, args.warm_start, recipe.load_pretrained, args.ignore_layers, recipe.name)
        trainer = Trainer(recipe.make_task(model, data), config, ctx)
        resume_path = resolve_resume(args.resume, args.output)
        if resume_path is not None:
            trainer.resume(str(resume_path))
        trainer.fit()
        return trainer
    finally:
        cleanup_distributed()


def main(argv: Optional[Sequence[str]] = None, model: Optional[str] = None) -> int:
    """Entry point of ``python -m tacotron2_waveglow.training`` (and, with ``model`` set, of ``<model>-train``)."""
    args = build_parser(model).parse_args(argv)
    if model is not None:
        args.model = model
    rank = int(os.environ.get("RANK", "0"))
    logging.basicConfig(level=args.log_level.upper() if rank == 0 else logging.WARNING, stream=sys.stdout,
                        format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    try:
        run(args)
    except (CheckpointError, WriteError) as exc:  # a refused/damaged checkpoint or a full disk: one line
        report_error(f"{model}-train" if model else "python -m tacotron2_waveglow.training", exc)
        return 2
    return 0


def tacotron2_main() -> int:
    """Console script ``tacotron2-train``."""
    return main(model="tacotron2")


def waveglow_main() -> int:
    """Console script ``waveglow-train``."""
    return main(model="waveglow")
