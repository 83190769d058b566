"""Scalar logging to the ``logging`` module and, when it is installed, TensorBoard."""
from __future__ import annotations

import logging
from typing import Optional

logger = logging.getLogger("tacotron2_waveglow.training")


class MetricWriter:
    """Writes scalars to TensorBoard under ``log_dir`` if ``torch.utils.tensorboard`` works.

    Without TensorBoard (or with ``enabled=False``) scalars only reach
    :meth:`log`'s ``logging`` output; the missing package is reported once at
    INFO level.
    """

    def __init__(self, log_dir: Optional[str], enabled: bool = True) -> None:
        self._writer = None
        if not (enabled and log_dir):
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional
            logger.info("TensorBoard logging off: the tensorboard package is not installed")
            return
        self._writer = SummaryWriter(log_dir=log_dir)

    def scalar(self, tag: str, value: float, step: int) -> None:
        """Record ``value`` under ``tag`` at ``step``."""
        if self._writer is not None:
            self._writer.add_scalar(tag, value, step)

    def close(self) -> None:
        """Flush and close the TensorBoard file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
