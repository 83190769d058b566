"""Metric logging to the ``logging`` module and, when it is installed, TensorBoard."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Mapping, Optional, Union

import torch

logger = logging.getLogger("tacotron2_waveglow.training")


@dataclass(frozen=True)
class Image:
    """A grey-scale picture ``(H, W)`` (any float range; scaled to [0, 1] when logged), row 0 at the bottom."""

    pixels: torch.Tensor


@dataclass(frozen=True)
class Audio:
    """Float samples ``(T,)`` in ``[-1, 1]`` at ``sample_rate`` Hz."""

    samples: torch.Tensor
    sample_rate: int


Media = Union[Image, Audio]


class MetricWriter:
    """Writes scalars, images and audio to TensorBoard under ``log_dir`` if ``torch.utils.tensorboard`` works.

    Without TensorBoard (or with ``enabled=False``, or no ``log_dir``) nothing
    is written and :attr:`active` is false; the missing package is reported
    once at INFO level.
    """

    def __init__(self, log_dir: Optional[str], enabled: bool = True) -> None:
        self._writer = None
        if not (enabled and log_dir):
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional
            logger.info("TensorBoard logging off: the tensorboard package is not installed "
                        "(pip install tensorboard)")
            return
        self._writer = SummaryWriter(log_dir=log_dir)

    @property
    def active(self) -> bool:
        """Whether anything is written (callers skip computing what would be thrown away)."""
        return self._writer is not None

    def scalar(self, tag: str, value: Union[float, torch.Tensor], step: int) -> None:
        """Record ``value`` under ``tag`` at ``step``."""
        if self._writer is not None:
            self._writer.add_scalar(tag, float(value), step)

    def media(self, items: Mapping[str, Media], step: int) -> None:
        """Record each :class:`Image` or :class:`Audio` of ``items`` under its tag at ``step``."""
        if self._writer is None:
            return
        for tag, item in items.items():
            if isinstance(item, Image):
                pixels = item.pixels.detach().float().cpu()
                span = float(pixels.max() - pixels.min())
                pixels = (pixels - pixels.min()) / span if span > 0 else torch.zeros_like(pixels)
                self._writer.add_image(tag, pixels.flip(0).unsqueeze(0), step, dataformats="CHW")
            elif isinstance(item, Audio):
                samples = item.samples.detach().float().cpu().clamp(-1.0, 1.0).reshape(1, -1)
                self._writer.add_audio(tag, samples, step, sample_rate=int(item.sample_rate))
            else:
                raise TypeError(f"{tag}: expected an Image or Audio, got {type(item).__name__}")

    def close(self) -> None:
        """Flush and close the TensorBoard file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
