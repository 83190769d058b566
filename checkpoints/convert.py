"""Convert any supported checkpoint to the hub layout ``{'state_dict', 'config'}``.

The hub layout is what NVIDIA's DLE ``torch.hub`` loaders read strictly:
``Model(**ckpt['config']).load_state_dict(ckpt['state_dict'])``. For WaveGlow
that means weight norm as ``weight_g``/``weight_v`` (DLE's constructor wraps
its convolutions in ``torch.nn.utils.weight_norm``, so a strict load needs
these keys, not folded ``weight`` nor ``parametrizations.*``) and one
``cond_layers.i`` per WN layer. Keys carry no ``module.`` prefix.

A ``glow_old`` model keeps ``alternate_halves: True`` in its config: NVIDIA's
hub class has no such mode and refuses the key rather than producing wrong
audio; this library reads it back.

Conversion dispatches on the detected model (:func:`detect_model`) through
:data:`MODEL_LOADERS` (``load_waveglow`` / ``load_tacotron2``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Union

import torch

from audio.atomic import atomic_torch_save
from .errors import CheckpointError
from .read import PathOrDict, read_checkpoint
from .save import hub_checkpoint
from .state_dict import strip_prefixes
from .tacotron2 import load_tacotron2
from .waveglow import TACOTRON2_PREFIXES, load_waveglow

WAVEGLOW = "waveglow"
TACOTRON2 = "tacotron2"


def detect_model(checkpoint: Mapping[str, Any]) -> str:
    """``'waveglow'`` or ``'tacotron2'`` for a checkpoint mapping (any layout)."""
    model = checkpoint.get("model")
    if model is not None and not isinstance(model, Mapping):
        return WAVEGLOW  # a pickled NVIDIA/waveglow module (only WaveGlow files are pickled modules)
    state = checkpoint.get("state_dict", model if isinstance(model, Mapping) else checkpoint)
    keys = list(strip_prefixes(state)) if isinstance(state, Mapping) else []
    if any(k.startswith(("upsample.", "WN.", "convinv.")) for k in keys):
        return WAVEGLOW
    if any(k.startswith(TACOTRON2_PREFIXES) for k in keys):
        return TACOTRON2
    raise CheckpointError(
        f"cannot tell which model this checkpoint holds (keys such as {keys[:5]}); "
        "expected a WaveGlow or Tacotron 2 checkpoint")


def _read_for_detection(path_or_dict: PathOrDict) -> Mapping[str, Any]:
    try:
        return read_checkpoint(path_or_dict)
    except CheckpointError:
        if isinstance(path_or_dict, Mapping):
            raise
        # Only NVIDIA/waveglow files need the restricted unpickler; the WaveGlow loader reads them
        # or explains why not (refused global, damage).
        return {"model": "pickled module"}


MODEL_LOADERS: Mapping[str, Callable[[PathOrDict], torch.nn.Module]] = {
    WAVEGLOW: load_waveglow,
    TACOTRON2: load_tacotron2,
}


def to_hub_layout(path_or_dict: PathOrDict, dtype: Optional[torch.dtype] = None) -> dict:
    """``{'state_dict', 'config'}`` in the hub layout for any supported checkpoint.

    ``dtype`` (for example ``torch.float16``) casts the floating-point tensors.
    """
    kind = detect_model(_read_for_detection(path_or_dict))
    model = MODEL_LOADERS[kind](path_or_dict)
    return hub_checkpoint(model, dtype=dtype)


def convert_checkpoint(source: PathOrDict, destination: Union[str, os.PathLike],
                       dtype: Optional[torch.dtype] = None, overwrite: bool = True) -> Path:
    """Write :func:`to_hub_layout` of ``source`` to ``destination`` atomically; returns the path.

    ``overwrite=False`` refuses an existing ``destination`` at the moment of
    writing (``FileExistsError``), so a concurrent writer is never replaced.
    """
    return atomic_torch_save(to_hub_layout(source, dtype=dtype), destination, overwrite=overwrite)
