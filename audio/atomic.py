"""Write a file so that readers see either the old one or the complete new one.

The one implementation of safe file output for the whole project (WAVs,
checkpoints, downloads, manifests, plots). It lives in :mod:`audio`, the
lowest package that writes files for users, so that every package above can
use it without importing upward.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, Union

import torch

PathLike = Union[str, "os.PathLike[str]"]


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: PathLike, write: Callable[[BinaryIO], None], *, overwrite: bool = True) -> Path:
    """Call ``write(handle)`` on a temporary file beside ``path``, then move it to ``path``.

    A crash or exception mid-write leaves any previous file at ``path``
    intact and no partial file under that name (the temporary is removed).
    The file gets the permissions of a plain ``open(path, "w")`` (0666 minus
    the umask), not ``mkstemp``'s 0600.

    Args:
        path: the file to write.
        write: fills the open binary handle.
        overwrite: ``False`` refuses to replace an existing ``path``, checked
            at the moment the file appears (a hard link, which fails if the
            name exists), so two writers racing for one name cannot both win.

    Raises:
        FileExistsError: ``overwrite=False`` and ``path`` exists.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not overwrite and os.path.lexists(path):
        raise FileExistsError(f"{path} exists; pass --force (or overwrite=True) to replace it")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_current_umask())
        if overwrite:
            os.replace(tmp, path)
        else:
            _move_without_replacing(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _move_without_replacing(tmp: str, path: Path) -> None:
    """Give ``tmp`` the name ``path`` unless that name exists (then ``FileExistsError``)."""
    exists = FileExistsError(f"{path} exists; pass --force (or overwrite=True) to replace it")
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise exists from None
    except OSError:  # no hard links here (some network or FUSE file systems): claim the name, then fill it
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            raise exists from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def atomic_torch_save(obj: Any, path: PathLike, *, overwrite: bool = True) -> Path:
    """``torch.save(obj, path)`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda handle: torch.save(obj, handle), overwrite=overwrite)


def atomic_write_text(path: PathLike, text: str, *, overwrite: bool = True) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda handle: handle.write(text.encode("utf-8")), overwrite=overwrite)
