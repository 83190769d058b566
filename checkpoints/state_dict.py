"""Key clean-up and a strict, explanatory ``load_state_dict``."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import torch

from .errors import CheckpointError

DISTRIBUTED_PREFIXES: Tuple[str, ...] = ("module.1.", "module.")
OPTIONAL_SUFFIXES: Tuple[str, ...] = ("num_batches_tracked",)


def strip_prefixes(state_dict: Mapping[str, torch.Tensor],
                   prefixes: Sequence[str] = DISTRIBUTED_PREFIXES) -> Dict[str, torch.Tensor]:
    """Remove the first matching wrapper prefix (``module.1.``, ``module.``) from every key.

    Raises :class:`CheckpointError` unless ``state_dict`` maps string keys to tensors.
    """
    if not isinstance(state_dict, Mapping):
        raise CheckpointError(f"the state dict is a {type(state_dict).__name__}, not a mapping of names to tensors")
    for key, value in state_dict.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(f"state dict entry {key!r} is a {type(key).__name__} key with a "
                                  f"{type(value).__name__} value; expected parameter names mapped to tensors")
    for prefix in prefixes:
        if state_dict and all(k.startswith(prefix) for k in state_dict):
            return {k[len(prefix):]: v for k, v in state_dict.items()}
    return dict(state_dict)


@dataclass
class StateDictMismatch:
    """What stops a state dict from loading into a module."""

    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    mis_shaped: List[Tuple[str, Tuple[int, ...], Tuple[int, ...]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.mis_shaped)

    def describe(self, limit: int = 12) -> str:
        """A one-line report naming up to ``limit`` keys of each kind (parts separated by ``" | "``)."""
        parts = []
        for title, items in (("missing keys", self.missing), ("unexpected keys", self.unexpected)):
            if items:
                shown = ", ".join(items[:limit]) + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")
                parts.append(f"{title} ({len(items)}): {shown}")
        if self.mis_shaped:
            shown = "; ".join(f"{k}: checkpoint {tuple(a)} vs model {tuple(b)}" for k, a, b in self.mis_shaped[:limit])
            parts.append(f"mis-shaped keys ({len(self.mis_shaped)}): {shown}")
        return " | ".join(parts)


def compare_state_dict(expected: Mapping[str, torch.Tensor], given: Mapping[str, torch.Tensor],
                       optional_suffixes: Iterable[str] = OPTIONAL_SUFFIXES) -> StateDictMismatch:
    """Compare a checkpoint's state dict ``given`` with a module's ``expected`` one."""
    optional = tuple(optional_suffixes)
    result = StateDictMismatch()
    result.missing = [k for k in expected if k not in given and not k.endswith(optional)]
    result.unexpected = [k for k in given if k not in expected]
    result.mis_shaped = [(k, tuple(given[k].shape), tuple(expected[k].shape))
                         for k in expected if k in given and tuple(given[k].shape) != tuple(expected[k].shape)]
    return result


Hint = Callable[[StateDictMismatch, Mapping[str, torch.Tensor]], Optional[str]]


def load_state_dict_checked(module: torch.nn.Module, state_dict: Mapping[str, torch.Tensor],
                            model_name: str, hints: Sequence[Hint] = ()) -> torch.nn.Module:
    """Load ``state_dict`` into ``module`` strictly, casting tensors to the module's dtypes.

    Missing ``num_batches_tracked`` buffers are tolerated. Anything else that
    does not fit raises :class:`CheckpointError` (one line) listing missing,
    unexpected and mis-shaped keys, headed by the first ``hint`` that recognises the
    mismatch (for example a file of another model).
    """
    expected = module.state_dict()
    mismatch = compare_state_dict(expected, state_dict)
    if mismatch:
        causes = [h(mismatch, state_dict) for h in hints]
        cause = next((c for c in causes if c), None)
        headline = f"checkpoint does not fit {model_name}"
        if cause:
            headline += f" (likely cause: {cause})"
        raise CheckpointError(f"{headline}: {mismatch.describe()}")
    cast = {k: v.to(dtype=expected[k].dtype) if v.is_floating_point() else v for k, v in state_dict.items()}
    for k, v in expected.items():
        if k not in cast:
            cast[k] = v
    module.load_state_dict(cast, strict=True)
    return module
