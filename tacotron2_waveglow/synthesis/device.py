"""Choosing the device and the autocast precision for synthesis."""
from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, ContextManager, Optional, Union

if TYPE_CHECKING:  # imported in the functions: `tacotron2-tts --help` reads PRECISIONS without torch
    import torch

PRECISIONS = ("fp32", "fp32_exact", "fp16", "bf16", "int8")


def resolve_device(device: Union[str, torch.device] = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cpu"``/``"cuda"``/``"cuda:N"`` as given.

    Raises ``ValueError`` for CUDA without a GPU or for other device types.
    """
    import torch

    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}") from exc
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available; use device 'cpu' or 'auto'")
    return resolved


def autocast_dtype(precision: str, device: torch.device) -> Optional[torch.dtype]:
    """The autocast dtype for ``precision`` on ``device`` (``None`` for fp32, fp32_exact and int8).

    ``fp16`` needs CUDA; ``bf16`` works on CPU and on GPUs that support it;
    ``int8`` (no autocast: the models' own int8 paths) needs the CPU.
    Other combinations raise ``ValueError``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "int8" and device.type != "cpu":
        raise ValueError("precision 'int8' (int8 decoder and WaveGlow products) is CPU-only: choose device 'cpu', "
                         "or 'fp16' on CUDA")
    if precision in ("fp32", "fp32_exact", "int8"):
        return None
    import torch

    if precision == "fp16":
        if device.type != "cuda":
            raise ValueError("precision 'fp16' needs a CUDA device (autocast fp16 is GPU-only here); "
                             "use 'bf16' or 'fp32' on CPU")
        return torch.float16
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(f"precision 'bf16' is not supported by {torch.cuda.get_device_name(device)}; use 'fp16'")
    return torch.bfloat16


def autocast(device: torch.device, dtype: Optional[torch.dtype]) -> ContextManager:
    """``torch.autocast`` for ``dtype`` on ``device``, or a no-op for fp32."""
    if dtype is None:
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device_type=device.type, dtype=dtype)
