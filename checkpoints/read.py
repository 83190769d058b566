"""Read a checkpoint file without executing pickled code, within bounded memory."""
from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from typing import Any, Mapping, Union

import torch

from .errors import CheckpointError, UnsafeCheckpointError
from .limits import check_regular_file, check_tensor_views, check_zip_entries
from .unpickler import MODULE_CLASSES, first_refused_global, one_line, refused_global, scan_legacy_storages

PathOrDict = Union[str, os.PathLike, Mapping[str, Any]]


def read_checkpoint(path_or_dict: PathOrDict, map_location: Union[str, torch.device] = "cpu") -> Mapping[str, Any]:
    """Load a checkpoint as a mapping with ``torch.load(..., weights_only=True)``.

    A mapping passed in is returned as is (its tensor views are still
    checked). Before ``torch.load`` sees a file it must be a regular file; a
    zip archive's declared sizes must fit the file, a legacy file's storages
    must all be present. After loading no tensor may be larger than its
    storage. A file that needs full unpickling (a pickled module, or anything
    else ``weights_only`` refuses) raises :class:`UnsafeCheckpointError`
    naming what was refused; it is never unpickled blindly. Every refusal is
    a one-line :class:`CheckpointError`.
    """
    if isinstance(path_or_dict, Mapping):
        check_tensor_views(path_or_dict, "the checkpoint")
        return path_or_dict
    path = check_regular_file(path_or_dict)
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                check_zip_entries(archive, path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            if isinstance(exc, CheckpointError):
                raise
            raise CheckpointError(f"{str(path)!r} is a damaged zip archive ({one_line(exc)})") from exc
    else:
        scan_legacy_storages(path)
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt data
        raise _explain_load_failure(path, exc) from exc
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{str(path)!r} holds a {type(obj).__name__}, not a checkpoint dictionary")
    check_tensor_views(obj, repr(str(path)))
    return obj


_REFUSED_GLOBAL = re.compile(r"Unsupported global: GLOBAL ([\w.]+)")
_WEIGHTS_UNPICKLER = re.compile(r"WeightsUnpickler error:(.*?)(?:Check the documentation|$)", re.S)


def _explain_load_failure(path: Path, exc: Exception) -> CheckpointError:
    """Turn whatever ``torch.load`` raised into a one-line :class:`CheckpointError` that says why.

    torch's advice to re-run with ``weights_only=False`` is never repeated.
    """
    hidden = first_refused_global(path)  # also behind allowed classes, or where weights-only stopped early
    if hidden is not None:
        error = refused_global(hidden)
        return UnsafeCheckpointError(f"{str(path)!r}: {error}", global_name=error.global_name)
    text = str(exc)
    refused = _REFUSED_GLOBAL.search(text)
    if refused and refused.group(1) in MODULE_CLASSES:
        return UnsafeCheckpointError(
            f"{str(path)!r} holds a pickled {refused.group(1)} module (an original NVIDIA/waveglow file), which "
            "plain state-dict loading does not rebuild", global_name=refused.group(1))
    if refused:  # the scan could not name it: torch's name (it shortens some, e.g. "eval")
        error = refused_global(refused.group(1))
        return UnsafeCheckpointError(f"{str(path)!r}: {error}", global_name=error.global_name)
    stopped = _WEIGHTS_UNPICKLER.search(text)
    detail = " ".join(stopped.group(1).split())[:200] if stopped else ""
    if detail and not detail.startswith("Unsupported operand"):  # it tried to call or build something
        return UnsafeCheckpointError(
            f"{str(path)!r}: refused to unpickle it: this file asks to run code ({detail})", global_name="")
    reason = detail or f"{type(exc).__name__}: {one_line(exc)}"
    return CheckpointError(f"{str(path)!r} is truncated or not a PyTorch checkpoint ({reason})")
