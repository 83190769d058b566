"""Mixed precision: fp16 autocast with a gradient scaler on CUDA, bf16 autocast on CPU."""
from __future__ import annotations

from typing import Any

import torch


def autocast_dtype(device: torch.device) -> torch.dtype:
    """``float16`` on CUDA, ``bfloat16`` elsewhere (CPU autocast supports bf16 only well)."""
    return torch.float16 if device.type == "cuda" else torch.bfloat16


def make_grad_scaler(device: torch.device, amp: bool) -> torch.amp.GradScaler:
    """A ``GradScaler`` that is active only for fp16 (AMP on CUDA); bf16 needs none."""
    return torch.amp.GradScaler(device.type, enabled=amp and device.type == "cuda")


def to_float32(obj: Any) -> Any:
    """Cast every floating tensor inside ``obj`` (tensors, tuples, lists, dicts) to ``float32``.

    Losses are computed on these so that sums of squares cannot overflow fp16.
    """
    if isinstance(obj, torch.Tensor):
        return obj.float() if obj.is_floating_point() else obj
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(to_float32(x) for x in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_float32(x) for x in obj)
    if isinstance(obj, dict):
        return {k: to_float32(v) for k, v in obj.items()}
    return obj
