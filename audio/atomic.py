"""Write a file so that readers see either the old one or the complete new one.

The one implementation of safe file output for the whole project (WAVs,
checkpoints, downloads, manifests, plots). It lives in :mod:`audio`, the
lowest package that writes files for users, so that every package above can
use it without importing upward.

The temporary file is ``.NAME.<pid>-<random>.tmp`` beside ``NAME``. A writer
killed before renaming leaves one behind; the next write of ``NAME`` removes
those whose process is gone (or, for names without a process id, that are
older than :data:`STALE_SECONDS`).
"""
from __future__ import annotations

import errno
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any, BinaryIO, Callable, Optional, Union

import torch

PathLike = Union[str, "os.PathLike[str]"]

#: A leftover temporary file without a process id is removed once it is this old.
STALE_SECONDS = 3600.0
_FULL = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
         errno.EFBIG: "file too large for this file system"}


class WriteError(OSError):
    """Writing a file failed (full disk, read-only or vanished folder, ...); the old file is intact.

    The message is one line naming the file and what to do.
    """

    def __str__(self) -> str:
        return self.strerror or super().__str__()


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class _RecordingFile:
    """Forwards to a binary file and remembers the first ``OSError`` of a write.

    ``torch.save`` turns a failed write into a ``RuntimeError`` about stream
    positions; the recorded error says what really happened (a full disk).
    """

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.error: Optional[OSError] = None

    def write(self, data: Any) -> int:
        try:
            return self._handle.write(data)
        except OSError as exc:
            self.error = self.error or exc
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


def write_failure(path: PathLike, exc: OSError) -> WriteError:
    """The one-line :class:`WriteError` for an ``OSError`` met while writing ``path``."""
    if isinstance(exc, WriteError):
        return exc
    if exc.errno in _FULL:
        return WriteError(exc.errno, f"{_FULL[exc.errno]} writing {path}; free space or choose another folder")
    reason = exc.strerror or str(exc) or type(exc).__name__
    return WriteError(exc.errno, f"cannot write {path}: {reason}; the previous file, if any, is unchanged")


def remove_stale_temporaries(path: PathLike) -> int:
    """Remove ``.NAME.*.tmp`` files beside ``path`` left by writers that died; returns how many.

    A temporary whose process id (``.NAME.<pid>-...``) is alive is kept:
    another process may be writing it right now.
    """
    path = Path(path)
    return _remove_stale(path.parent, re.escape(path.name))


def remove_stale_temporaries_in(folder: PathLike) -> int:
    """Remove the leftover temporaries of every name in ``folder`` (once, before writing many files there)."""
    return _remove_stale(Path(folder), r"[^/]+")


def _remove_stale(folder: Path, name: str) -> int:
    pattern = re.compile(rf"^\.{name}\.(?:(\d+)-)?[a-z0-9_]+\.tmp$")  # mkstemp's letters after the pid
    removed = 0
    try:
        candidates = list(os.scandir(folder))
    except OSError:
        return 0
    for candidate in candidates:
        match = pattern.match(candidate.name)
        if not match or not candidate.is_file(follow_symlinks=False) or not _is_stale(Path(candidate.path),
                                                                                       match.group(1)):
            continue
        try:
            os.unlink(candidate.path)
            removed += 1
        except OSError:
            pass
    return removed


def _is_stale(candidate: Path, pid: Optional[str]) -> bool:
    if pid is not None:
        if int(pid) == os.getpid():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, OverflowError):
            return False
        return False
    try:
        return time.time() - candidate.stat().st_mtime > STALE_SECONDS
    except OSError:
        return False


def atomic_write(path: PathLike, write: Callable[[BinaryIO], None], *, overwrite: bool = True,
                 verify: Optional[Callable[[Path], None]] = None, clean: bool = True) -> Path:
    """Call ``write(handle)`` on a temporary file beside ``path``, then move it to ``path``.

    A crash or exception mid-write leaves any previous file at ``path``
    intact and no partial file under that name (the temporary is removed).
    The file gets the permissions of a plain ``open(path, "w")`` (0666 minus
    the umask), not ``mkstemp``'s 0600. Leftover temporaries of earlier,
    killed writers of ``path`` are removed first.

    Args:
        path: the file to write.
        write: fills the open binary handle.
        overwrite: ``False`` refuses to replace an existing ``path``, checked
            at the moment the file appears (a hard link, which fails if the
            name exists), so two writers racing for one name cannot both win.
        verify: called with the complete temporary file's path before it is
            renamed; an exception from it discards the file.
        clean: remove leftover temporaries of ``path`` first (one directory
            listing); writers of many files into one folder pass ``False``
            and call :func:`remove_stale_temporaries_in` once instead.

    Raises:
        FileExistsError: ``overwrite=False`` and ``path`` exists.
        WriteError: the disk is full or the file cannot be written; one line
            ("no space left on device writing X; free space or choose another folder").
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failure(path, exc) from exc
    if not overwrite and os.path.lexists(path):
        raise FileExistsError(f"{path} exists; pass --force (or overwrite=True) to replace it")
    if clean:
        remove_stale_temporaries(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_failure(path, exc) from exc
    recorder: Optional[_RecordingFile] = None
    in_callback = False  # exceptions of write()/verify() are the caller's, passed on unchanged
    try:
        with os.fdopen(fd, "wb") as handle:
            recorder = _RecordingFile(handle)
            in_callback = True
            write(recorder)  # type: ignore[arg-type]
            in_callback = False
            handle.flush()
            os.fsync(handle.fileno())
        if verify is not None:
            in_callback = True
            verify(Path(tmp))
            in_callback = False
        os.chmod(tmp, 0o666 & ~_current_umask())
        if overwrite:
            os.replace(tmp, path)
        else:
            _move_without_replacing(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        recorded = recorder.error if recorder is not None else None
        if recorded is not None and isinstance(exc, (OSError, RuntimeError)):
            raise write_failure(path, recorded) from exc  # the handle's write failed (torch.save hides it)
        if isinstance(exc, OSError) and not isinstance(exc, (FileExistsError, WriteError)) and (
                not in_callback or exc.errno in _FULL):  # a full disk met by the writer's own I/O too
            raise write_failure(path, exc) from exc
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


def atomic_torch_save(obj: Any, path: PathLike, *, overwrite: bool = True, clean: bool = True) -> Path:
    """``torch.save(obj, path)`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda handle: torch.save(obj, handle), overwrite=overwrite, clean=clean)


def atomic_write_text(path: PathLike, text: str, *, overwrite: bool = True) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda handle: handle.write(text.encode("utf-8")), overwrite=overwrite)


def atomic_copy(source: PathLike, path: PathLike, *, overwrite: bool = True) -> Path:
    """Copy the file ``source`` to ``path`` atomically (see :func:`atomic_write`), in bounded chunks."""
    def copy(handle: BinaryIO) -> None:
        with open(source, "rb") as src:
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                handle.write(chunk)
    return atomic_write(path, copy, overwrite=overwrite)
