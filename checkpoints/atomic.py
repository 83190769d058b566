"""Write a file so that readers see either the old one or the complete new one."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Union

import torch


def atomic_torch_save(obj: Any, path: Union[str, os.PathLike]) -> Path:
    """``torch.save(obj, path)`` through a temporary file in the same folder and a rename.

    A crash mid-write leaves any previous file at ``path`` intact and no
    partial file under that name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
