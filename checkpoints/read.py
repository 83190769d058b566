"""Read a checkpoint file without executing pickled code."""
from __future__ import annotations

import os
import pickle
import re
from pathlib import Path
from typing import Any, Mapping, Union

import torch

from .errors import CheckpointError, UnsafeCheckpointError

PathOrDict = Union[str, os.PathLike, Mapping[str, Any]]


def read_checkpoint(path_or_dict: PathOrDict, map_location: Union[str, torch.device] = "cpu") -> Mapping[str, Any]:
    """Load a checkpoint as a mapping with ``torch.load(..., weights_only=True)``.

    A mapping passed in is returned as is. A file that needs full unpickling
    (a pickled module, or anything else ``weights_only`` refuses) raises
    :class:`CheckpointError` naming what was refused; it is never unpickled
    blindly.
    """
    if isinstance(path_or_dict, Mapping):
        return path_or_dict
    path = Path(path_or_dict)
    if not path.is_file():
        raise CheckpointError(f"checkpoint file not found: {str(path)!r}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint file {str(path)!r} is empty")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt data
        raise _explain_load_failure(path, exc) from exc
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{str(path)!r} holds a {type(obj).__name__}, not a checkpoint dictionary")
    return obj


_REFUSED_GLOBAL = re.compile(r"Unsupported global: GLOBAL ([\w.]+)")


def _explain_load_failure(path: Path, exc: Exception) -> CheckpointError:
    """Turn whatever ``torch.load`` raised into a :class:`CheckpointError` that says why."""
    refused = _REFUSED_GLOBAL.search(str(exc)) if isinstance(exc, pickle.UnpicklingError) else None
    if refused:
        return UnsafeCheckpointError(
            f"{str(path)!r} holds pickled objects ({refused.group(1)}) that safe loading refuses to "
            "rebuild; it is not a plain state-dict checkpoint", global_name=refused.group(1))
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    return CheckpointError(
        f"{str(path)!r} is truncated or not a PyTorch checkpoint ({type(exc).__name__}: {first_line[:200]})")
