"""Atomic text writes and NVIDIA filelists (``wavs/0001.wav|text`` lines)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, List, Tuple

from audio.atomic import PathLike, atomic_write_text

__all__ = ["atomic_write_text", "filelist_paths", "write_filelist"]


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


def filelist_paths(path: PathLike) -> List[str]:
    """The path field of every line of a filelist :func:`write_filelist` wrote; none when it does not exist."""
    path = Path(path)
    if not path.exists():
        return []
    return [line.split("|", 1)[0] for line in path.read_text(encoding="utf-8").splitlines() if line]
