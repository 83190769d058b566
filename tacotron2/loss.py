"""Tacotron 2 training loss."""
from __future__ import annotations

from typing import Sequence

from torch import Tensor, nn
from torch.nn import functional as F


class Tacotron2Loss(nn.Module):
    """NVIDIA's loss: MSE(mel) + MSE(mel_postnet) + BCE-with-logits(gate), each averaged.

    ``model_output`` is a :class:`Tacotron2Output` (or any 4-sequence
    ``(mel, mel_postnet, gate, alignments)``); ``targets`` is
    ``(mel_target (B, n_mels, T), gate_target (B, T))``. Targets get no
    gradient. Returns a scalar.
    """

    def forward(self, model_output: Sequence[Tensor], targets: Sequence[Tensor]) -> Tensor:
        mel_target, gate_target = targets[0].detach(), targets[1].detach()
        mel, mel_postnet, gate = model_output[0], model_output[1], model_output[2]
        mel_loss = F.mse_loss(mel, mel_target) + F.mse_loss(mel_postnet, mel_target)
        gate_loss = F.binary_cross_entropy_with_logits(gate.reshape(-1, 1), gate_target.reshape(-1, 1))
        return mel_loss + gate_loss
