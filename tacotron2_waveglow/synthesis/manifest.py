"""The manifest of a batch run: one JSON line per written WAV, kept complete across ranks and resumed runs.

While it works, each process appends one JSON line per finished WAV to its
own part file ``.manifest.rank<R>.part.jsonl`` in the output folder (one
``write`` per line, so a crash leaves at most a torn last line, which is
ignored). When a run ends, ``manifest.jsonl`` is rebuilt from every part
file, earlier runs' included, and written atomically: one entry per line of
the input whose WAV exists, in line order. Under torchrun the rank that
finishes last (the one that sees every rank's done marker) writes it.
"""
from __future__ import annotations

import json
import os
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional

from audio.atomic import atomic_write_text

MANIFEST_NAME = "manifest.jsonl"
_PART_GLOB = ".manifest.rank*.part.jsonl"


@dataclass(frozen=True)
class ManifestEntry:
    """One written WAV.

    Attributes:
        line: the 1-based line number in the input file.
        text: the line's text (stripped).
        file: the WAV's name, relative to the manifest's folder.
        duration: seconds of audio.
        frames: mel frames over all pieces of the line (``None`` when unknown:
            a WAV found on disk without a record, from an interrupted run).
        reached_limit: whether some piece hit ``max_decoder_steps`` (``None`` when unknown).
    """

    line: int
    text: str
    file: str
    duration: float
    frames: Optional[int]
    reached_limit: Optional[bool]


def _part_path(folder: Path, rank: int) -> Path:
    return folder / f".manifest.rank{rank}.part.jsonl"


def record(folder: Path, entry: ManifestEntry, rank: int = 0) -> None:
    """Append ``entry`` to this rank's part file (one ``os.write`` of one line, flushed to disk)."""
    line = json.dumps({**asdict(entry), "written": time.time()}, ensure_ascii=False) + "\n"
    fd = os.open(_part_path(folder, rank), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_parts(folder: Path) -> Iterable[dict]:
    for part in sorted(folder.glob(_PART_GLOB)):
        with open(part, encoding="utf-8", errors="replace") as handle:
            for raw in handle:
                try:
                    item = json.loads(raw)
                except json.JSONDecodeError:  # a torn last line of a killed run
                    continue
                if isinstance(item, dict) and {"line", "text", "file"} <= set(item):
                    yield item


def parts_state(folder: Path) -> tuple:
    """``((name, size), ...)`` of the part files: changes whenever some process records a WAV."""
    return tuple((part.name, part.stat().st_size) for part in sorted(folder.glob(_PART_GLOB)))


def _entry_from_wav(path: Path, line: int, text: str) -> Optional[ManifestEntry]:
    """What the WAV itself tells (its duration) for a WAV written by a run killed before it recorded it."""
    import soundfile

    try:
        info = soundfile.info(str(path))
    except (RuntimeError, OSError) as exc:  # soundfile raises its LibsndfileError, a RuntimeError
        warnings.warn(f"{path}: unreadable WAV left out of the manifest ({exc}); delete it to redo line {line}",
                      stacklevel=3)
        return None
    return ManifestEntry(line, text, path.name, info.frames / info.samplerate, None, None)


def build(folder: Path, lines: Dict[int, str], file_names: Dict[int, str]) -> List[ManifestEntry]:
    """The manifest's entries: for each input line (number -> text) whose WAV exists, the newest record.

    A record whose text differs from the line's (the input changed since the
    WAV was made) is left out with a warning.
    """
    newest: Dict[int, dict] = {}
    for item in _read_parts(folder):
        number = item["line"]
        if number in lines and item.get("written", 0) >= newest.get(number, {}).get("written", -1.0):
            newest[number] = item
    entries, stale = [], []
    for number in sorted(lines):
        path = folder / file_names[number]
        if not path.is_file():
            continue
        item = newest.get(number)
        if item is None:
            entry = _entry_from_wav(path, number, lines[number])
            if entry is not None:
                entries.append(entry)
        elif item["text"] != lines[number]:
            stale.append(number)
        else:
            entries.append(ManifestEntry(number, item["text"], item["file"], float(item["duration"]),
                                         item.get("frames"), item.get("reached_limit")))
    if stale:
        warnings.warn(f"{len(stale)} WAV(s) were made from other text than the input's line now (lines "
                      f"{', '.join(map(str, stale[:10]))}{' ...' if len(stale) > 10 else ''}); they are left out of "
                      f"the manifest: pass --force to redo them", stacklevel=2)
    return entries


def write(folder: Path, entries: List[ManifestEntry]) -> Path:
    """Write ``manifest.jsonl`` atomically (replacing the previous one)."""
    text = "".join(json.dumps(asdict(e), ensure_ascii=False) + "\n" for e in entries)
    return atomic_write_text(folder / MANIFEST_NAME, text)


def _done_path(folder: Path, run_id: str, rank: int) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in run_id)
    return folder / f".manifest.{safe}.rank{rank}.done"


def mark_done_and_check(folder: Path, run_id: str, rank: int, world_size: int) -> bool:
    """Say that this rank finished; ``True`` when every rank of the run has (then this one writes the manifest).

    Each rank marks before it looks, so of ranks finishing together at least
    one sees all the marks.
    """
    if world_size == 1:
        return True
    _done_path(folder, run_id, rank).touch()
    return all(_done_path(folder, run_id, r).exists() for r in range(world_size))


def clear_done_marks(folder: Path, run_id: str, world_size: int) -> None:
    """Remove the run's done markers once the manifest is written."""
    if world_size == 1:
        return
    for r in range(world_size):
        try:
            _done_path(folder, run_id, r).unlink()
        except FileNotFoundError:
            pass
