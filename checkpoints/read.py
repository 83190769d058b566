"""Read a checkpoint file without executing pickled code."""
from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any, Mapping, Union

import torch

from .errors import CheckpointError

PathOrDict = Union[str, os.PathLike, Mapping[str, Any]]


class UnsafeCheckpointError(CheckpointError):
    """``weights_only`` loading refused the file: it pickles objects other than tensors and containers.

    Loaders that know a safe way to read such files (the restricted unpickler
    for NVIDIA/waveglow's pickled modules) catch this one; for everybody else
    it is a :class:`CheckpointError` like any other.
    """


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
    except pickle.UnpicklingError as exc:
        raise UnsafeCheckpointError(
            f"{str(path)!r} holds objects that safe loading refuses to unpickle "
            f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
            "it is not a state-dict checkpoint") from exc
    except (EOFError, RuntimeError, zipfile.BadZipFile, OSError) as exc:
        raise CheckpointError(
            f"{str(path)!r} is truncated or not a PyTorch checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{str(path)!r} holds a {type(obj).__name__}, not a checkpoint dictionary")
    return obj
