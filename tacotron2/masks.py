"""Padding masks from sequence lengths."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor


def padding_mask(lengths: Tensor, max_len: Optional[int] = None) -> Tensor:
    """BoolTensor ``(B, max_len)``, True at padded positions (index >= length).

    ``max_len`` defaults to ``lengths.max()``, as NVIDIA's ``get_mask_from_lengths``.
    """
    if max_len is None:
        max_len = int(lengths.max())
    ids = torch.arange(max_len, device=lengths.device)
    return ids.unsqueeze(0) >= lengths.unsqueeze(1)
