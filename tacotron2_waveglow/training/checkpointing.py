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
import shutil
import warnings
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

import torch

from audio.atomic import atomic_torch_save
from checkpoints.read import read_checkpoint
from checkpoints.save import hub_checkpoint
from checkpoints.state_dict import load_state_dict_checked, strip_prefixes

from .rng import restore_rng_state

LATEST_NAME = "checkpoint_latest.pt"
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
    """Write ``checkpoint_<Model>_<epoch>.pt`` and a ``checkpoint_latest.pt`` copy, each atomically."""
    output_dir = Path(output_dir)
    path = atomic_torch_save(dict(checkpoint), output_dir / checkpoint_filename(model_name, checkpoint["epoch"]))
    tmp = output_dir / f".{LATEST_NAME}.copy"
    shutil.copyfile(path, tmp)
    os.replace(tmp, output_dir / LATEST_NAME)
    logger.info("saved checkpoint %s (epoch %d, iteration %d)", path, checkpoint["epoch"], checkpoint["iteration"])
    return path


def resolve_resume(resume: Optional[str], output_dir: Union[str, os.PathLike]) -> Optional[Path]:
    """The file to resume from: ``resume`` itself, or for ``"auto"`` the latest in ``output_dir``.

    ``"auto"`` with no checkpoint yet returns ``None`` (a fresh start); an
    explicit path that does not exist raises ``ValueError``.
    """
    if not resume:
        return None
    if resume == "auto":
        latest = Path(output_dir) / LATEST_NAME
        if latest.is_file():
            return latest
        logger.info("--resume auto: no %s in %s, starting from scratch", LATEST_NAME, output_dir)
        return None
    path = Path(resume)
    if not path.is_file():
        raise ValueError(f"--resume {resume!r}: no such file (give a checkpoint path or 'auto')")
    return path


def load_training_checkpoint(path: Union[str, os.PathLike]) -> Mapping[str, Any]:
    """Read a training checkpoint safely and check that it holds a training state."""
    checkpoint = read_checkpoint(path, map_location="cpu")
    missing = [k for k in REQUIRED_KEYS if k not in checkpoint]
    if missing:
        raise ValueError(f"{str(path)!r} lacks {missing}: it is a model file, not a training checkpoint; "
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
