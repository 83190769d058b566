"""Known alignments for Tacotron 2 training (``--attention-targets DIR``), one file per row.

For a row whose audio or mel file is ``.../NAME.wav`` or ``.../NAME.pt`` the
target is ``DIR/NAME.pt``: a 1-D float tensor with one entry per mel frame, the
index of the input symbol that frame speaks (``torch.save``; read with
``weights_only=True``). The built-in voice's recipe writes them from its
teacher's phone timings (``python -m recipes.builtin_voice.alignments``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Sequence, Union

import torch

from .filelist import Utterance

PathLike = Union[str, os.PathLike]


def target_paths(directory: PathLike, rows: Sequence[Utterance]) -> Dict[Path, Path]:
    """``{row path: DIR/<row file stem>.pt}`` for every row.

    Raises:
        ValueError: ``directory`` is not a folder, two rows share a file stem,
            or some rows have no target file (the count and the first one are named).
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise ValueError(f"attention targets folder {str(folder)!r} does not exist")
    paths: Dict[Path, Path] = {}
    by_name: Dict[str, Path] = {}
    for row in rows:
        name = Path(row.path).stem
        if name in by_name and by_name[name] != Path(row.path):
            raise ValueError(f"rows {str(by_name[name])!r} and {str(row.path)!r} share the name {name!r}; "
                             "attention targets are named after the row's file, so names must be unique")
        by_name[name] = Path(row.path)
        paths[Path(row.path)] = folder / f"{name}.pt"
    missing = [target for target in paths.values() if not target.is_file()]
    if missing:
        raise ValueError(f"{len(missing)} of {len(paths)} row(s) have no attention target in {str(folder)!r} "
                         f"(first: {str(missing[0])!r}); write them with python -m recipes.builtin_voice.alignments")
    return paths


def load_target(path: PathLike, n_frames: int, n_symbols: int) -> torch.Tensor:
    """The target ``(n_frames,)`` float32 in ``path``, checked against its row's mel and text.

    Raises:
        ValueError: not a 1-D tensor of ``n_frames`` values in ``[0, n_symbols)``.
    """
    target = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(target, torch.Tensor) or target.dim() != 1 or target.numel() != n_frames:
        shape = tuple(target.shape) if isinstance(target, torch.Tensor) else type(target).__name__
        raise ValueError(f"attention target {str(path)!r} holds {shape}; expected ({n_frames},), one symbol "
                         "index per mel frame of its row")
    target = target.float()
    if n_frames and (not torch.isfinite(target).all() or target.min() < 0 or target.max() > n_symbols - 1):
        raise ValueError(f"attention target {str(path)!r} points outside its row's {n_symbols} symbol(s) "
                         "(was it written for other text or cleaners?)")
    return target
