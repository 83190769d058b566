"""Reading NVIDIA filelists (``path|text``) and LJSpeech's ``metadata.csv`` (``id|text|normalized``)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple, Union

from .bad_rows import BadRow

PathLike = Union[str, os.PathLike]


@dataclass(frozen=True)
class Utterance:
    """One row of a dataset list: the audio (or mel) file, its text, and where the row came from."""

    path: Path
    text: str
    source: str
    line: int


def read_filelist(filelist: PathLike, dataset_path: Optional[PathLike] = None,
                  require_text: bool = True) -> Tuple[List[Utterance], List[BadRow]]:
    """Parse NVIDIA's ``path|text`` filelist; paths are relative to ``dataset_path`` (default ``.``).

    Blank lines are ignored. A row without ``|`` is malformed when
    ``require_text`` (WaveGlow lists may hold paths only). Returns the rows
    and the malformed ones.
    """
    root = Path(dataset_path) if dataset_path is not None else Path(".")
    rows, bad = [], []
    for number, line in _lines(filelist):
        path, sep, text = line.partition("|")
        if not path.strip() or (require_text and not sep):
            bad.append(BadRow(str(filelist), number, path.strip(), "malformed row (expected 'path|text')"))
            continue
        rows.append(Utterance(root / path.strip(), text.strip(), str(filelist), number))
    return rows, bad


def read_ljspeech_metadata(metadata: PathLike, dataset_path: Optional[PathLike] = None,
                           normalized: bool = True) -> Tuple[List[Utterance], List[BadRow]]:
    """Parse LJSpeech's ``metadata.csv`` (``id|text|normalized text``); audio is ``wavs/<id>.wav``.

    ``dataset_path`` defaults to the folder holding ``metadata.csv``. The
    normalized column is used when ``normalized`` and non-empty.
    """
    root = Path(dataset_path) if dataset_path is not None else Path(metadata).parent
    rows, bad = [], []
    for number, line in _lines(metadata):
        fields = line.split("|")
        if len(fields) < 2 or not fields[0].strip():
            bad.append(BadRow(str(metadata), number, fields[0].strip(), "malformed row (expected 'id|text|normalized')"))
            continue
        text = fields[2] if normalized and len(fields) > 2 and fields[2].strip() else fields[1]
        rows.append(Utterance(root / "wavs" / f"{fields[0].strip()}.wav", text.strip(), str(metadata), number))
    return rows, bad


def read_utterances(listing: PathLike, dataset_path: Optional[PathLike] = None,
                    require_text: bool = True) -> Tuple[List[Utterance], List[BadRow]]:
    """``metadata.csv`` files go to :func:`read_ljspeech_metadata`, anything else to :func:`read_filelist`."""
    if not Path(listing).is_file():
        raise ValueError(f"dataset list {str(listing)!r} does not exist")
    if Path(listing).name == "metadata.csv":
        return read_ljspeech_metadata(listing, dataset_path)
    return read_filelist(listing, dataset_path, require_text=require_text)


def _lines(path: PathLike):
    """``(line number, text)`` of the non-blank lines of a UTF-8 file."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if line.strip():
                yield number, line
