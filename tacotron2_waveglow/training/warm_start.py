"""Fine-tuning from a pretrained model file, optionally leaving some layers at their fresh values."""
from __future__ import annotations

import logging
import os
from typing import Callable, Sequence, Union

import torch

from checkpoints.state_dict import load_state_dict_checked

logger = logging.getLogger("tacotron2_waveglow.training")

#: ``load(path) -> model``, e.g. ``checkpoints.load_tacotron2``.
ModelLoader = Callable[[Union[str, os.PathLike]], torch.nn.Module]


def warm_start(model: torch.nn.Module, path: Union[str, os.PathLike], load: ModelLoader,
               ignore_layers: Sequence[str] = (), model_name: str = "model") -> torch.nn.Module:
    """Copy the weights of the model file at ``path`` into ``model``, except ``ignore_layers``.

    ``load`` reads any layout it supports (hub, DLE training, original
    NVIDIA). Keys in ``ignore_layers`` (for example ``embedding.weight`` when
    the symbol set changes) keep ``model``'s own values and may differ in
    shape. Other mismatches raise ``checkpoints.CheckpointError``.
    """
    own = model.state_dict()
    unknown = [k for k in ignore_layers if k not in own]
    if unknown:
        raise ValueError(f"--ignore-layers {unknown} are not parameters of {model_name}; "
                         f"known names look like {list(own)[:3]}")
    pretrained = load(path).state_dict()
    merged = {k: (own[k] if k in ignore_layers else v) for k, v in pretrained.items()}
    for k in ignore_layers:
        merged[k] = own[k]
    load_state_dict_checked(model, merged, model_name)
    logger.info("warm-started %s from %s%s", model_name, path,
                f" (kept fresh: {', '.join(ignore_layers)})" if ignore_layers else "")
    return model
