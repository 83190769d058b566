"""Atomic text writes and NVIDIA filelists (``wavs/0001.wav|text`` lines)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable, Tuple, Union

PathLike = Union[str, "os.PathLike[str]"]


def atomic_write_text(path: PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` via a temporary file and ``os.replace``."""
    target = Path(path)
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


def write_filelist(path: PathLike, rows: Iterable[Tuple[str, str]]) -> Path:
    """Write ``(relative_wav_path, text)`` rows as NVIDIA's ``path|text`` lines.

    Raises:
        ValueError: a text or path holding ``|`` or a line break, which the
            filelist format cannot carry.
    """
    lines = []
    for wav, text in rows:
        for field in (wav, text):
            if "|" in field or "\n" in field or "\r" in field:
                raise ValueError(f"filelist field {field!r} contains '|' or a line break; remove it")
        lines.append(f"{wav}|{text}\n")
    return atomic_write_text(path, "".join(lines))
