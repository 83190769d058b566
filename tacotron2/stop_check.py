"""Gate (stop token) bookkeeping for decoding in blocks of steps with one host sync per block.

NVIDIA's stop rule, in one place for every backend: an item stops at its first
frame with ``sigmoid(gate) > gate_threshold``. :class:`StopTracker` records, on
the device, the first step at which each item's gate fired, one block of gate
logits at a time; the host looks once per block (the reference loop feeds it
one step at a time). Frames decoded after the last
item stopped are then discarded, so lengths and outputs are those of a
step-by-step check.
"""
from __future__ import annotations

import torch
from torch import Tensor


class StopTracker:
    """First gate firing per batch item.

    ``first_fire`` (B,) int64 holds the step index of each item's first frame
    with ``sigmoid(gate) > threshold`` (NaN counts as firing, as in NVIDIA's
    ``not (p <= threshold)`` test), or ``max_steps`` if it has not fired yet.
    """

    def __init__(self, batch: int, max_steps: int, threshold: float, device: torch.device) -> None:
        self.max_steps = max_steps
        self.threshold = threshold
        self.first_fire = torch.full((batch,), max_steps, dtype=torch.int64, device=device)

    def update(self, gate_logits: Tensor, start: int) -> None:
        """Take the gate logits (n, B) of steps ``start .. start + n - 1`` (no host sync)."""
        fired = ~(torch.sigmoid(gate_logits) <= self.threshold)
        first_in_block = fired.to(torch.int8).argmax(dim=0) + start
        new = fired.any(dim=0) & (self.first_fire == self.max_steps)
        self.first_fire = torch.where(new, first_in_block, self.first_fire)

    def all_stopped(self) -> bool:
        """True once every item's gate has fired (one host sync)."""
        return bool((self.first_fire < self.max_steps).all())

    def steps_needed(self) -> int:
        """Steps the step-by-step loop runs: up to and including the last item's first firing."""
        return int(self.first_fire.max()) + 1

    def mel_lengths(self, steps_run: int) -> Tensor:
        """int32 (B,): frames before each item's first firing, at most ``steps_run``."""
        return self.first_fire.clamp(max=steps_run).to(torch.int32)

    def reached_limit(self, steps_run: int) -> Tensor:
        """bool (B,): items that had not stopped when ``max_steps`` ended decoding."""
        if steps_run < self.max_steps:
            return torch.zeros_like(self.first_fire, dtype=torch.bool)
        return self.first_fire >= steps_run
