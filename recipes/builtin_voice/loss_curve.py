"""Loss curves of a voice training run, read from the trainer's log lines.

``python -m tacotron2_waveglow.training --log-interval N`` logs ``iteration I: train loss X``;
every epoch it logs ``epoch E: validation loss X``. :func:`read_training_log`
collects both from one or more log files (phases of one run, in order), and
:func:`save_loss_curve_png` draws them.
"""
from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple, Union

PathLike = Union[str, "os.PathLike[str]"]
_TRAIN_RE = re.compile(r"iteration (\d+): train loss ([-+0-9.eEnaifNI]+)")
_VAL_RE = re.compile(r"epoch (\d+): validation loss ([-+0-9.eEnaifNI]+)")


@dataclass
class LossHistory:
    """``train``: (iteration, loss) pairs; ``val``: (iteration at that epoch's end, loss) pairs."""

    train: List[Tuple[int, float]] = field(default_factory=list)
    val: List[Tuple[int, float]] = field(default_factory=list)


def parse_log_lines(lines: Iterable[str], history: Optional[LossHistory] = None) -> LossHistory:
    """Add the loss lines of ``lines`` to ``history`` (a new one by default).

    A validation loss is placed at the last training iteration logged before it.
    """
    history = LossHistory() if history is None else history
    for line in lines:
        train = _TRAIN_RE.search(line)
        if train:
            history.train.append((int(train.group(1)), float(train.group(2))))
            continue
        val = _VAL_RE.search(line)
        if val:
            last = history.train[-1][0] if history.train else 0
            history.val.append((last, float(val.group(2))))
    return history


def read_training_log(paths: Iterable[PathLike]) -> LossHistory:
    """Losses from the log files ``paths`` in order."""
    history = LossHistory()
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            parse_log_lines(handle, history)
    return history


def save_loss_curve_png(history: LossHistory, path: PathLike, title: str = "training loss",
                        markers: Sequence[Tuple[int, str]] = ()) -> Path:
    """Plot train and validation loss against iterations (log y axis) to ``path``.

    ``markers``: ``(iteration, label)`` vertical lines (e.g. where a recipe phase
    started). Needs matplotlib.
    """
    if not history.train:
        raise ValueError("no 'iteration I: train loss X' lines found; train with --log-interval N")
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    figure = Figure(figsize=(6, 3.5))
    axes = figure.add_subplot(1, 1, 1)
    axes.plot(*zip(*history.train), label="train (per iteration)", linewidth=0.8)
    if history.val:
        axes.plot(*zip(*history.val), "o-", label="validation (per epoch)")
    for (iteration, label), style in zip(markers, itertools.cycle(("--", "-.", ":", (0, (5, 1)), (0, (1, 3))))):
        axes.axvline(iteration, color="gray", linestyle=style, label=label or None)
    axes.set_yscale("log")
    axes.set_xlabel("iteration")
    axes.set_ylabel("loss")
    axes.set_title(title)
    axes.legend(fontsize="small")
    figure.tight_layout()
    from audio.atomic import atomic_write

    return atomic_write(path, lambda handle: figure.savefig(handle, format="png", dpi=80))
