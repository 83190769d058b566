"""Shared inputs for the fast-path tests: texts, gate calibration and the closed-form stop rule."""
from typing import Tuple

import torch
from torch import Tensor

TEXT = torch.tensor([[5, 9, 12, 40, 33, 2, 7, 14, 3], [8, 21, 30, 11, 0, 0, 0, 0, 0],
                     [17, 4, 60, 22, 19, 1, 0, 0, 0]])
LENGTHS = torch.tensor([9, 4, 6])


def inputs(batch: int) -> Tuple[Tensor, Tensor]:
    """``batch`` (1 to 3) texts of different lengths, padded to the longest."""
    lengths = LENGTHS[:batch]
    return TEXT[:batch, :int(lengths.max())], lengths


def gate_trajectory(model, text: Tensor, lengths: Tensor, seed: int, steps: int) -> Tensor:
    """Gate logits (B, steps) of the reference loop run without early stopping."""
    memory = model.encode(text, lengths)
    torch.manual_seed(seed)
    return model.decoder.infer(memory, lengths, early_stopping=False, max_decoder_steps=steps).gate


def calibrate_gate(model, text: Tensor, lengths: Tensor, seed: int, steps: int, quiet_steps: int) -> None:
    """Shift the gate bias so that no item stops in its first ``quiet_steps`` steps.

    The gate output does not feed back into decoding, so the shift only moves
    the stopping points; with random weights items then stop at scattered steps
    (or not at all), which exercises every branch of the stop logic.
    """
    with torch.no_grad():
        gate = gate_trajectory(model, text, lengths, seed, steps)
        model.decoder.gate_layer.linear_layer.bias -= gate[:, :quiet_steps].max() + 1e-3


def expected_stop(gate: Tensor, threshold: float, early_stopping: bool) -> Tuple[int, Tensor]:
    """Steps run and mel_lengths (int32) by NVIDIA's DLE rule, computed from a full gate trajectory (B, T)."""
    fired = ~(torch.sigmoid(gate) <= threshold)
    total = gate.size(1)
    first = torch.tensor([int(row.nonzero()[0]) if row.any() else total for row in fired])
    steps = int(first.max()) + 1 if early_stopping and bool((first < total).all()) else total
    return steps, first.clamp(max=steps).to(torch.int32)
