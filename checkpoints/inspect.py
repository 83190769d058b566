"""Describe a checkpoint file: layout, model, config, dtypes, size, and what loading it needs."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Union

import torch

from .errors import CheckpointError, UnsafeCheckpointError
from .read import read_checkpoint
from .state_dict import DISTRIBUTED_PREFIXES
from .unpickler import MODULE_CLASSES

LAYOUTS = {
    "hub": "hub/NGC ({'state_dict', 'config'})",
    "dle_train": "DLE training checkpoint (state_dict, config, optimizer, ...)",
    "nvidia_repo": "NVIDIA/tacotron2 train.py checkpoint (state_dict, optimizer, iteration; no config)",
    "state_dict": "bare state dict (no config)",
    "module_pickle": "pickled model object (original NVIDIA/waveglow train.py layout; no config)",
    "unknown": "unrecognised dictionary",
}


@dataclass
class CheckpointReport:
    """What :func:`inspect_checkpoint` found. ``needs`` lists what loading it requires, in words."""

    path: str
    layout: str
    model: Optional[str]
    config: Optional[Dict[str, Any]]
    top_level_keys: List[str]
    prefix: Optional[str]
    dtypes: Dict[str, int]
    n_parameters: int
    weight_norm: Optional[str]
    needs: List[str] = field(default_factory=list)
    load_result: Optional[str] = None
    size_bytes: int = 0

    @property
    def loads(self) -> Optional[bool]:
        """Whether the trial load succeeded; ``None`` when it was not tried."""
        return None if self.load_result is None else self.load_result.startswith("loads as")

    def format(self) -> str:
        """Human-readable multi-line report."""
        dtypes = ", ".join(f"{k} x{v}" for k, v in sorted(self.dtypes.items())) or "none"
        lines = [
            f"file:        {self.path}",
            f"size:        {self.size_bytes} bytes",
            f"layout:      {LAYOUTS.get(self.layout, self.layout)}",
            f"model:       {self.model or 'unknown'}",
            f"top-level:   {', '.join(self.top_level_keys) or '-'}",
            f"key prefix:  {self.prefix or 'none'}",
            f"tensors:     {dtypes}",
            f"values:      {self.n_parameters:,} floating-point (parameters and buffers)",
        ]
        if self.weight_norm:
            lines.append(f"weight norm: {self.weight_norm}")
        lines.append(f"config:      {self.config if self.config is not None else 'not stored'}")
        lines.extend(f"needs:       {need}" for need in self.needs)
        if self.load_result:
            lines.append(f"load check:  {self.load_result}")
        return "\n".join(lines)


def guess_model(keys: List[str]) -> Optional[str]:
    """``"tacotron2"``, ``"waveglow"`` or ``None`` from state-dict key names."""
    joined = " ".join(map(str, keys))
    if "embedding.weight" in joined and "decoder." in joined:
        return "tacotron2"
    if "WN." in joined or "convinv." in joined:
        return "waveglow"
    return None


def _layout(obj: Mapping[str, Any]) -> str:
    if "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        if "config" in obj:
            return "dle_train" if ("optimizer" in obj or "epoch" in obj) else "hub"
        return "nvidia_repo" if "iteration" in obj or "learning_rate" in obj else "state_dict"
    if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return "state_dict"
    return "unknown"


def _prefix(keys: List[str]) -> Optional[str]:
    return next((p for p in DISTRIBUTED_PREFIXES if keys and all(str(k).startswith(p) for k in keys)), None)


def _weight_norm(keys: List[str]) -> Optional[str]:
    if any(str(k).endswith("weight_g") for k in keys):
        return "weight_g / weight_v (torch.nn.utils.weight_norm)"
    if any(".parametrizations.weight.original0" in str(k) for k in keys):
        return "parametrizations.weight.original0/1 (torch.nn.utils.parametrizations.weight_norm)"
    return None


def _needs(layout: str, model: Optional[str]) -> List[str]:
    if layout in ("hub", "dle_train"):
        return ["nothing: the config is stored in the file"]
    if layout == "module_pickle":
        return ["the restricted unpickler of load_waveglow (never plain torch.load); no config stored: "
                "pass --config or the NVIDIA/waveglow defaults for the published files apply"]
    if model == "tacotron2":
        return ["no config stored: pass --config or the defaults (NVIDIA's published hyperparameters) apply"]
    return ["no config stored: pass --config or the defaults apply"]


def _try_load(path: str, model: Optional[str], config: Optional[Mapping[str, Any]]) -> Optional[str]:
    """``"loads as ..."`` or the loader's error, or ``None`` when no loader is available."""
    try:
        from . import load_tacotron2, load_waveglow  # type: ignore[attr-defined]
    except ImportError:
        return None
    loaders = {"tacotron2": load_tacotron2, "waveglow": load_waveglow}
    candidates = [model] if model else ["waveglow", "tacotron2"]
    errors = []
    for name in candidates:
        try:
            loaded = loaders[name](path, config=dict(config) if config is not None else None)
        except (CheckpointError, ValueError, TypeError) as exc:
            errors.append(f"{name}: {' '.join(str(exc).split())}")
            continue
        return f"loads as {type(loaded).__name__} with config {loaded.config.to_dict()}"
    return "does not load: " + " | ".join(errors)


def _dtype_counts(tensors: Mapping[str, torch.Tensor]) -> Dict[str, int]:
    return dict(Counter(str(v.dtype).replace("torch.", "") for v in tensors.values()))


def _n_values(tensors: Mapping[str, torch.Tensor]) -> int:
    return sum(v.numel() for v in tensors.values() if v.is_floating_point())


def _pickled_tensors(path: str) -> Dict[str, torch.Tensor]:
    """Tensors of an NVIDIA/waveglow pickled module, read by the restricted unpickler.

    A refused global or a damaged file raises :class:`CheckpointError`.
    """
    from .waveglow import read_waveglow_checkpoint

    return dict(read_waveglow_checkpoint(path).state_dict)


def inspect_checkpoint(path: Union[str, os.PathLike], config: Optional[Mapping[str, Any]] = None,
                       try_load: bool = True) -> CheckpointReport:
    """Report on the checkpoint at ``path`` without executing pickled code.

    Raises :class:`CheckpointError` for a missing, empty, corrupt or unsafe
    file (a pickle that names a global other than the known WaveGlow module
    classes), so ``python -m checkpoints inspect`` exits non-zero for it.
    """
    path = os.fspath(path)
    try:
        obj = read_checkpoint(path)
    except UnsafeCheckpointError as exc:
        if exc.global_name not in MODULE_CLASSES:
            raise
        tensors = _pickled_tensors(path)
        report = CheckpointReport(path, "module_pickle", "waveglow" if "glow" in (exc.global_name or "") else None,
                                  None, [], None, _dtype_counts(tensors), _n_values(tensors), _weight_norm(list(tensors)),
                                  _needs("module_pickle", None))
        report.top_level_keys = [f"pickled {exc.global_name}"]
    else:
        layout = _layout(obj)
        state = obj["state_dict"] if layout in ("hub", "dle_train", "nvidia_repo") or "state_dict" in obj else obj
        tensors = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)} if isinstance(state, Mapping) else {}
        keys = list(tensors)
        stored = obj.get("config") if isinstance(obj.get("config"), Mapping) else None
        report = CheckpointReport(
            path, layout, guess_model(keys), dict(stored) if stored is not None else None, [str(k) for k in obj],
            _prefix(keys), _dtype_counts(tensors), _n_values(tensors), _weight_norm(keys),
            _needs(layout, guess_model(keys)))
    report.size_bytes = os.path.getsize(path)
    if try_load:
        report.load_result = _try_load(path, report.model, config)
    return report


__all__ = ["CheckpointReport", "LAYOUTS", "inspect_checkpoint", "guess_model"]
