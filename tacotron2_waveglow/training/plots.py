"""Alignment images for validation (needs matplotlib; skipped with one log line without it)."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Optional, Union

import torch

from audio.atomic import atomic_write

logger = logging.getLogger("tacotron2_waveglow.training")


def save_alignment_png(alignment: torch.Tensor, path: Union[str, os.PathLike],
                       title: Optional[str] = None) -> Optional[Path]:
    """Draw ``alignment (decoder steps, encoder steps)`` as encoder-over-decoder image at ``path``.

    Written atomically: a crash or full disk leaves the previous image. Returns
    the path, or ``None`` when matplotlib is not installed.
    """
    try:
        import matplotlib
        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure
    except ImportError:
        logger.info("alignment plots off: matplotlib is not installed")
        return None
    path = Path(path)
    figure = Figure(figsize=(6, 4))
    axes = figure.add_subplot(1, 1, 1)
    image = axes.imshow(alignment.detach().float().cpu().T.numpy(), aspect="auto", origin="lower",
                        interpolation="none")
    figure.colorbar(image, ax=axes)
    axes.set_xlabel("decoder step")
    axes.set_ylabel("encoder step")
    if title:
        axes.set_title(title)
    figure.tight_layout()
    return atomic_write(path, lambda handle: figure.savefig(handle, format="png"))
