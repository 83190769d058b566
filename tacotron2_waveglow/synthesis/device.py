"""Choosing the device for synthesis (backend and precision: :mod:`tacotron2_waveglow.synthesis.inference`)."""
from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Union

if TYPE_CHECKING:  # imported in the function: `tacotron2-tts --help` runs without torch
    import torch


def cuda_unavailable_error(device: object, why: str = "CUDA is not available") -> ValueError:
    """The one error for a CUDA device on a machine that has none (``why`` says how that was found)."""
    return ValueError(f"device {str(device)!r} requested but {why}; use device 'cpu' or 'auto'")


def torch_build_has_cuda() -> Optional[bool]:
    """Whether the installed torch was built with CUDA or ROCm, found without importing torch.

    ``import torch`` takes one to two seconds, so the CLI asks this first: it
    reads the ``cuda`` and ``hip`` constants of the installed
    ``torch/version.py``. ``False``: a CPU-only build, so no GPU can be used
    whatever the machine has. ``True``: a GPU build (whether a GPU is there
    still needs ``torch.cuda.is_available()``). ``None``: unknown (torch not
    found, or a ``version.py`` of another shape).
    """
    if "torch" in sys.modules:
        version = sys.modules["torch"].version
        return version.cuda is not None or getattr(version, "hip", None) is not None
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    try:
        tree = ast.parse((Path(list(spec.submodule_search_locations)[0]) / "version.py").read_text("utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    values = {}
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
        if isinstance(target, ast.Name) and target.id in ("cuda", "hip") and isinstance(node.value, ast.Constant):
            values[target.id] = node.value.value
    if set(values) != {"cuda", "hip"}:
        return None
    return values["cuda"] is not None or values["hip"] is not None


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
        raise cuda_unavailable_error(device)
    return resolved
