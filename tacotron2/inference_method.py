"""Choice and validation of the decoder inference method ("fast", "faithful", "cuda_graph")."""
from __future__ import annotations

import torch
from torch import Tensor

from .precision import FULL_PRECISIONS, check_precision

METHODS = ("fast", "faithful", "cuda_graph")


def resolve_method(method: str, precision: str, memory: Tensor, training: bool) -> str:
    """The method that will run, after validating the request.

    ``"fast"`` becomes ``"faithful"`` in training mode (the LSTM output dropout
    draws random numbers between the prenet's) and under autocast (whose per-op
    casts the in-place fast step does not reproduce); reduced precision is then
    refused because only the fast and graph paths implement it.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    check_precision(precision, memory.device)
    if precision not in FULL_PRECISIONS and memory.dtype != torch.float32:
        raise ValueError(f"precision={precision!r} expects an fp32 model (it keeps fp32 islands), "
                         f"the model runs in {memory.dtype}; call model.float() first")
    if method == "faithful" and precision not in FULL_PRECISIONS:
        raise ValueError(f"precision={precision!r} needs method='fast' or 'cuda_graph', not 'faithful'")
    if method == "cuda_graph" and memory.device.type != "cuda":
        raise ValueError(f"method='cuda_graph' needs the model on a CUDA device, it is on {memory.device}")
    unsupported = training or torch.is_autocast_enabled(memory.device.type)
    if method != "faithful" and unsupported:
        if precision not in FULL_PRECISIONS:
            raise ValueError(f"precision={precision!r} needs eval mode and no autocast; call model.eval()")
        return "faithful"
    return method
