"""Running the small sample inputs of export and verification on PyTorch's plain CPU kernels."""
from __future__ import annotations

import contextlib
import warnings
from typing import Iterator

import torch


@contextlib.contextmanager
def plain_cpu_kernels() -> Iterator[None]:
    """oneDNN off for the block: it sets up kernels per input shape, which costs seconds on the small
    trace and verification inputs, while the plain kernels compute the same values."""
    with warnings.catch_warnings():
        # torch warns about TF32 on Intel GPUs whenever the oneDNN flags are set; nothing to do with us
        warnings.filterwarnings("ignore", message=".*TF32 acceleration on top of oneDNN.*")
        with torch.backends.mkldnn.flags(enabled=False):
            yield
