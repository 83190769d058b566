"""Choosing the device for synthesis (backend and precision: :mod:`tacotron2_waveglow.synthesis.inference`)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:  # imported in the function: `tacotron2-tts --help` runs without torch
    import torch


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
