"""Training checkpoints in NVIDIA DLE's layout, written atomically, resumed exactly.

A training checkpoint is the hub layout (``state_dict``, ``config``) plus
``optimizer``, ``scaler``, ``epoch`` (the last completed epoch, 0-based, as
DLE), ``iteration`` (optimizer steps so far), ``random_rng_states_all`` /
``cuda_rng_state_all`` (DLE's names), ``rng_states`` (one
:func:`training.rng.capture_rng_state` per rank) and ``data_state`` (the
sampler's seed and the next epoch). Every entry is ``weights_only``-safe, so
:func:`load_training_checkpoint` reads it with ``torch.load(weights_only=True)``
and ``checkpoints.load_tacotron2`` / ``load_waveglow`` read it as a model file.
"""
from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

import torch

from audio.atomic import atomic_copy, atomic_torch_save
from checkpoints.errors import CheckpointError
from checkpoints.limits import check_regular_file
from checkpoints.read import read_checkpoint
from checkpoints.verify import check_complete
from checkpoints.save import hub_checkpoint
from checkpoints.state_dict import load_state_dict_checked, strip_prefixes

from .rng import restore_rng_state

LATEST_NAME = "checkpoint_latest.pt"
#: Every training checkpoint this module writes matches this pattern (``checkpoint_<Model>_<epoch>.pt``, latest).
CHECKPOINT_GLOB = "checkpoint_*.pt"
#: What earlier versions left beside ``checkpoint_latest.pt`` when the copy was interrupted.
OLD_COPY_NAME = f".{LATEST_NAME}.copy"
REQUIRED_KEYS = ("state_dict", "optimizer", "epoch", "iteration")

logger = logging.getLogger(__name__)


def checkpoint_filename(model_name: str, epoch: int) -> str:
    """``checkpoint_<Model>_<epoch>.pt`` as DLE names them."""
    return f"checkpoint_{model_name}_{epoch}.pt"


def training_checkpoint(model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                        scaler: Optional[torch.amp.GradScaler], epoch: int, iteration: int,
                        rng_states: List[Dict[str, Any]], data_state: Mapping[str, int]) -> Dict[str, Any]:
    """The full training state as a ``weights_only``-safe dictionary.

    ``model`` is the bare module (not a DDP wrapper); ``rng_states`` holds one
    entry per rank in rank order.
    """
    checkpoint = hub_checkpoint(model)
    checkpoint.update(
        optimizer=optimizer.state_dict(),
        scaler=scaler.state_dict() if scaler is not None else {},
        epoch=int(epoch),
        iteration=int(iteration),
        rng_states=rng_states,
        random_rng_states_all=torch.stack([s["torch"] for s in rng_states]),
        data_state=dict(data_state),
    )
    if all("cuda" in s for s in rng_states):
        checkpoint["cuda_rng_state_all"] = torch.stack([s["cuda"][0] for s in rng_states])
    return checkpoint


def save_training_checkpoint(checkpoint: Mapping[str, Any], output_dir: Union[str, os.PathLike],
                             model_name: str) -> Path:
    """Write ``checkpoint_<Model>_<epoch>.pt`` and a ``checkpoint_latest.pt`` copy, each atomically.

    A full disk raises :class:`audio.atomic.WriteError` (one line) and
    leaves every earlier checkpoint as it was.
    """
    output_dir = Path(output_dir)
    path = atomic_torch_save(dict(checkpoint), output_dir / checkpoint_filename(model_name, checkpoint["epoch"]))
    atomic_copy(path, output_dir / LATEST_NAME)
    leftover = output_dir / OLD_COPY_NAME
    if leftover.is_file():
        leftover.unlink()
    logger.info("saved checkpoint %s (epoch %d, iteration %d)", path, checkpoint["epoch"], checkpoint["iteration"])
    return path


def resolve_resume(resume: Optional[str], output_dir: Union[str, os.PathLike]) -> Optional[Path]:
    """The file to resume from: ``resume`` itself, or for ``"auto"`` the newest complete one in ``output_dir``.

    ``"auto"`` looks at every ``checkpoint_*.pt`` (``checkpoint_latest.pt``
    and ``checkpoint_<Model>_<epoch>.pt``), newest first, and takes the first
    that is a complete file; damaged ones are skipped with a warning. With no
    checkpoint at all it returns ``None`` (a fresh start). When checkpoints
    exist but none is complete it raises :class:`CheckpointError` rather than
    start over and overwrite them. An explicit path that is not a regular,
    non-empty file raises :class:`CheckpointError` (a ``ValueError``).
    """
    if not resume:
        return None
    if resume != "auto":
        try:
            return check_regular_file(resume)
        except CheckpointError as exc:
            raise CheckpointError(f"--resume: {exc} (give a checkpoint path or 'auto')") from None
    folder = Path(output_dir)
    candidates = sorted((p for p in folder.glob(CHECKPOINT_GLOB) if p.is_file()),
                        key=lambda p: (p.stat().st_mtime_ns, p.name == LATEST_NAME), reverse=True)
    if not candidates:
        logger.info("--resume auto: no checkpoint in %s, starting a new run at iteration 0", folder)
        return None
    damaged = []
    for path in candidates:
        try:
            check_complete(path, thorough=True)
        except CheckpointError as exc:
            damaged.append(f"{path.name} ({exc})")
            continue
        if damaged:
            warnings.warn(f"--resume auto: skipped damaged checkpoint(s) {'; '.join(damaged)}; resuming from "
                          f"{path.name}", stacklevel=2)
        return path
    raise CheckpointError(f"--resume auto: no complete checkpoint in {folder} (damaged: {'; '.join(damaged)}); "
                          "move them away to start from scratch, or pass --resume PATH")


def load_training_checkpoint(path: Union[str, os.PathLike]) -> Mapping[str, Any]:
    """Read a training checkpoint safely and check that it holds a training state."""
    checkpoint = read_checkpoint(path, map_location="cpu")
    missing = [k for k in REQUIRED_KEYS if k not in checkpoint]
    if missing:
        raise CheckpointError(f"{str(path)!r} lacks {missing}: it is a model file, not a training checkpoint; "
                         "use --warm-start to fine-tune from it")
    return checkpoint


def restore_training_state(checkpoint: Mapping[str, Any], model: torch.nn.Module,
                           optimizer: torch.optim.Optimizer, scaler: Optional[torch.amp.GradScaler],
                           rank: int = 0, world_size: int = 1, model_name: str = "model") -> None:
    """Load weights, optimizer, scaler and this rank's RNG states from ``checkpoint``."""
    load_state_dict_checked(model, strip_prefixes(checkpoint["state_dict"]), model_name)
    optimizer.load_state_dict(checkpoint["optimizer"])
    if scaler is not None and checkpoint.get("scaler"):
        scaler.load_state_dict(checkpoint["scaler"])
    rng_states = checkpoint.get("rng_states") or []
    if len(rng_states) != world_size:
        warnings.warn(f"checkpoint was written by {len(rng_states)} rank(s) but this run has {world_size}; "
                      "random streams are re-seeded, so the run is not an exact continuation", stacklevel=2)
        return
    restore_rng_state(rng_states[rank])
