"""Opt-in guided (diagonal) attention loss for Tacotron 2 training.

Tachibana et al. 2017 ("Efficiently trainable text-to-speech system based on
deep convolutional networks with guided attention"): attention weight far from
the diagonal ``n / N ~ t / T`` is penalised with

    W[t, n] = 1 - exp(-(n / N - t / T)^2 / (2 sigma^2))

so that a freshly initialised model learns a monotonic alignment in far fewer
steps. NVIDIA's recipe does not use it; the trainer adds it only when
``--guided-attention-weight`` is above 0. ``--gate-positive-weight`` (opt-in,
default 1) up-weights the one positive stop-token frame per utterance.

When the true alignment is known (``--attention-targets``: for every mel frame
the input symbol being spoken, e.g. from the teacher synthesizer's phone
timings), the penalty is centred on it instead of on the straight diagonal:

    W[t, n] = 1 - exp(-(n - c_t)^2 / (2 s^2))        (c_t, s in symbols)

A straight diagonal teaches every symbol the same duration; the known alignment
teaches the attention to follow the content.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from tacotron2 import Tacotron2Loss


def guided_attention_weights(input_lengths: Tensor, output_lengths: Tensor, max_input: int, max_output: int,
                             sigma: float) -> Tensor:
    """Penalty ``W`` (B, max_output, max_input) in [0, 1); 0 outside each item's ``T x N`` region.

    ``input_lengths`` (B,) are encoder lengths ``N``, ``output_lengths`` (B,)
    mel lengths ``T``.
    """
    device = output_lengths.device
    t = torch.arange(max_output, device=device, dtype=torch.float32)[None, :, None]
    n = torch.arange(max_input, device=device, dtype=torch.float32)[None, None, :]
    out_len = output_lengths.to(device=device, dtype=torch.float32)[:, None, None]
    in_len = input_lengths.to(device=device, dtype=torch.float32)[:, None, None]
    penalty = 1.0 - torch.exp(-((n / in_len - t / out_len) ** 2) / (2.0 * sigma ** 2))
    valid = (t < out_len) & (n < in_len)
    return penalty * valid


def guided_attention_loss(alignments: Tensor, input_lengths: Tensor, output_lengths: Tensor,
                          sigma: float = 0.2) -> Tensor:
    """Mean of ``alignments * W`` over the valid ``T x N`` entries of every item.

    ``alignments`` (B, T, N) attention weights (rows sum to 1), lengths (B,).
    A perfectly diagonal alignment gives (close to) 0; the loss is
    differentiable in ``alignments``.
    """
    if alignments.dim() != 3:
        raise ValueError(f"alignments must be (B, T, N), got shape {tuple(alignments.shape)}")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma!r}")
    batch, max_output, max_input = alignments.shape
    weights = guided_attention_weights(input_lengths, output_lengths, max_input, max_output, sigma)
    n_valid = (input_lengths.to(weights.device).float() * output_lengths.to(weights.device).float()).sum()
    return (alignments.float() * weights).sum() / n_valid.clamp_min(1.0)


def aligned_attention_weights(positions: Tensor, input_lengths: Tensor, max_input: int, sigma: float) -> Tensor:
    """Penalty ``W`` (B, T, max_input) in [0, 1) around a known alignment.

    ``positions`` (B, T) is, for every mel frame, the input symbol index it
    speaks (negative on padded frames); ``input_lengths`` (B,); ``sigma`` in
    symbols. 0 on padded frames and outside each item's input.
    """
    n = torch.arange(max_input, device=positions.device, dtype=torch.float32)[None, None, :]
    centre = positions.to(torch.float32)[:, :, None]
    penalty = 1.0 - torch.exp(-((n - centre) ** 2) / (2.0 * sigma ** 2))
    valid = (centre >= 0) & (n < input_lengths.to(positions.device)[:, None, None])
    return penalty * valid


def aligned_attention_loss(alignments: Tensor, positions: Tensor, input_lengths: Tensor, sigma: float = 1.0) -> Tensor:
    """Mean of ``alignments * W`` (:func:`aligned_attention_weights`) over the valid ``T x N`` entries.

    The same normalisation as :func:`guided_attention_loss`, so one
    ``--guided-attention-weight`` means the same for both. ``alignments``
    (B, T, N); ``positions`` (B, T') with ``T' >= T`` frames (extra frames are
    ignored).
    """
    if alignments.dim() != 3 or positions.dim() != 2:
        raise ValueError(f"alignments must be (B, T, N) and positions (B, T), got shapes "
                         f"{tuple(alignments.shape)} and {tuple(positions.shape)}")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma!r}")
    batch, max_output, max_input = alignments.shape
    if positions.size(0) != batch or positions.size(1) < max_output:
        raise ValueError(f"positions {tuple(positions.shape)} do not cover alignments {tuple(alignments.shape)}")
    positions = positions[:, :max_output].to(alignments.device)
    weights = aligned_attention_weights(positions, input_lengths, max_input, sigma)
    n_frames = (positions >= 0).sum(dim=1).float()
    n_valid = (n_frames * input_lengths.to(weights.device).float()).sum()
    return (alignments.float() * weights).sum() / n_valid.clamp_min(1.0)


def check_attention_targets(weight: float, attention_targets) -> None:
    """Known alignments centre the guided term, so they need its weight above 0 (``ValueError`` otherwise)."""
    if attention_targets is not None and not weight > 0:
        raise ValueError("attention targets need a guided attention weight above 0 (the term they centre)")


class GuidedTacotron2Loss(nn.Module):
    """NVIDIA's :class:`tacotron2.Tacotron2Loss` plus two opt-in terms for fast training.

    * ``weight`` x :func:`guided_attention_loss` (0 = off);
    * ``gate_positive_weight``: ``pos_weight`` of the gate BCE (1 = NVIDIA's).
      Only the last frame of each utterance has gate target 1, so a weight
      above 1 teaches the stop token in far fewer steps.

    ``targets`` is ``(mel_target, gate_target, input_lengths, output_lengths)``
    (the Tacotron 2 recipe passes the lengths when this loss is used), and
    a fifth item, the known alignment ``positions`` (B, T), when the data has
    attention targets: then the attention term is :func:`aligned_attention_loss`
    with ``target_sigma`` (symbols) instead of the diagonal. With ``weight=0``
    and ``gate_positive_weight=1`` it equals NVIDIA's loss.
    """

    def __init__(self, weight: float, sigma: float = 0.2, gate_positive_weight: float = 1.0,
                 target_sigma: float = 1.0) -> None:
        super().__init__()
        if not weight >= 0:
            raise ValueError(f"guided attention weight must be >= 0 (0 = off), got {weight!r}")
        if not sigma > 0:
            raise ValueError(f"guided attention sigma must be positive, got {sigma!r}")
        if not gate_positive_weight > 0:
            raise ValueError(f"gate_positive_weight must be positive (1 = NVIDIA's loss), got {gate_positive_weight!r}")
        if not target_sigma > 0:
            raise ValueError(f"attention target sigma must be positive (symbols), got {target_sigma!r}")
        self.target_sigma = float(target_sigma)
        self.weight = float(weight)
        self.sigma = float(sigma)
        self.gate_positive_weight = float(gate_positive_weight)
        self.base = Tacotron2Loss()

    def forward(self, model_output: Sequence[Tensor], targets: Sequence[Tensor]) -> Tensor:
        if len(targets) not in (4, 5):
            raise ValueError("GuidedTacotron2Loss needs targets (mel, gate, input_lengths, output_lengths"
                             f"[, positions]), got {len(targets)} item(s)")
        if self.gate_positive_weight == 1.0:
            loss = self.base(model_output, targets[:2])
        else:
            loss = self._weighted_gate_loss(model_output, targets)
        if self.weight > 0 and len(targets) == 5:
            loss = loss + self.weight * aligned_attention_loss(model_output[3], targets[4], targets[2],
                                                               self.target_sigma)
        elif self.weight > 0:
            loss = loss + self.weight * guided_attention_loss(model_output[3], targets[2], targets[3], self.sigma)
        return loss

    def _weighted_gate_loss(self, model_output: Sequence[Tensor], targets: Sequence[Tensor]) -> Tensor:
        mel_target, gate_target = targets[0].detach(), targets[1].detach()
        mel_loss = F.mse_loss(model_output[0], mel_target) + F.mse_loss(model_output[1], mel_target)
        pos_weight = torch.tensor(self.gate_positive_weight, device=gate_target.device)
        gate_loss = F.binary_cross_entropy_with_logits(model_output[2].reshape(-1, 1), gate_target.reshape(-1, 1),
                                                       pos_weight=pos_weight)
        return mel_loss + gate_loss
