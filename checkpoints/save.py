"""Write a model in the hub layout that NVIDIA's own loaders read."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Optional, Union

import torch

from audio.atomic import atomic_torch_save


def hub_checkpoint(model: torch.nn.Module, dtype: Optional[torch.dtype] = None,
                   extra: Optional[Mapping[str, Any]] = None) -> dict:
    """``{'state_dict', 'config'}`` for ``model`` (a ``Tacotron2`` or ``WaveGlow``).

    ``config`` is ``model.config.to_dict()``: exactly the keyword arguments of
    NVIDIA's model constructor, so ``Model(**ckpt['config'])`` works there.
    ``dtype`` (for example ``torch.float16``) casts floating-point tensors.
    """
    state_dict = {k: (v.to(dtype) if dtype is not None and v.is_floating_point() else v).detach().cpu().clone()
                  for k, v in model.state_dict().items()}
    checkpoint = {"state_dict": state_dict, "config": model.config.to_dict()}
    if extra:
        clash = set(extra) & set(checkpoint)
        if clash:
            raise ValueError(f"extra entries {sorted(clash)} would overwrite the checkpoint's own")
        checkpoint.update(extra)
    return checkpoint


def save_checkpoint(model: torch.nn.Module, path: Union[str, os.PathLike], dtype: Optional[torch.dtype] = None,
                    extra: Optional[Mapping[str, Any]] = None, overwrite: bool = True) -> Path:
    """Save ``model`` in the hub layout at ``path`` atomically; returns the path.

    ``overwrite=False`` refuses an existing ``path`` at write time (``FileExistsError``).
    """
    return atomic_torch_save(hub_checkpoint(model, dtype=dtype, extra=extra), path, overwrite=overwrite)
