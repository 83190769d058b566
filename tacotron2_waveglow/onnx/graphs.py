"""The PyTorch modules that are exported as ONNX graphs: thin views of our models, no copied maths.

* :class:`EncoderGraph`: text ids -> encoder outputs ("memory") and the
  attention's processed memory. The encoder's bidirectional LSTM runs over
  packed sequences in PyTorch; packing does not export, so here it runs over
  the padded batch with each item's backward pass reversed within its own
  length (a gather), which gives the packed result (padded steps never reach
  the LSTM state, outputs past each length are zero).
* :class:`DecoderStepGraph`: one :meth:`tacotron2.decoder.Decoder.step` with
  the whole state in and out, the prenet's dropout scales as inputs.
* :class:`PostnetGraph`: ``mel + postnet(mel)``.
* :class:`WaveGlowGraph`: :class:`waveglow.fast_infer.FastWaveGlow`
  (weight norm folded, ``W^-1`` precomputed) with the latent ``z`` and
  ``sigma`` as inputs, so that a drawn latent reproduces our audio.
"""
from __future__ import annotations

from typing import Tuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from tacotron2 import Tacotron2
from tacotron2.decoder_state import DecoderState
from waveglow import WaveGlow
from waveglow.fast_infer import FastWaveGlow

#: Names of the decoder state, in :class:`~tacotron2.decoder_state.DecoderState` order.
STATE_NAMES: Tuple[str, ...] = DecoderState._fields


def _one_direction(lstm: nn.LSTM, suffix: str) -> nn.LSTM:
    """A unidirectional ``nn.LSTM`` holding one direction's weights of the bidirectional ``lstm``."""
    single = nn.LSTM(lstm.input_size, lstm.hidden_size, 1, batch_first=True)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(single, f"{name}_l0").copy_(getattr(lstm, f"{name}_l0{suffix}"))
    return single.to(lstm.weight_ih_l0.dtype).eval()


class EncoderGraph(nn.Module):
    """``text`` (B, T_in) int64, ``input_lengths`` (B,) int64 -> ``memory`` (B, T_in, E), ``processed_memory``
    (B, T_in, attention_dim); zero past each length (the runtime crops to ``max(input_lengths)``)."""

    def __init__(self, model: Tacotron2) -> None:
        super().__init__()
        self.embedding = model.embedding
        self.convolutions = model.encoder.convolutions
        self.forward_lstm = _one_direction(model.encoder.lstm, "")
        self.backward_lstm = _one_direction(model.encoder.lstm, "_reverse")
        self.memory_layer = model.decoder.attention_layer.memory_layer

    def forward(self, text: Tensor, input_lengths: Tensor) -> Tuple[Tensor, Tensor]:
        x = self.embedding(text).transpose(1, 2)
        for conv in self.convolutions:
            x = F.relu(conv(x))  # eval mode: dropout is off
        x = x.transpose(1, 2)
        steps = torch.arange(x.size(1), device=x.device).unsqueeze(0)
        lengths = input_lengths.unsqueeze(1)
        valid = steps < lengths
        # index of each step in its item's reversed sequence; padded steps stay where they are
        reverse = torch.where(valid, lengths - 1 - steps, steps).unsqueeze(2).expand(-1, -1, x.size(2))
        forward_out, _ = self.forward_lstm(x)
        backward_out, _ = self.backward_lstm(x.gather(1, reverse))
        backward_out = backward_out.gather(1, reverse[:, :, :backward_out.size(2)])
        memory = torch.cat((forward_out, backward_out), 2) * valid.unsqueeze(2).to(x.dtype)
        return memory, self.memory_layer(memory)


class DecoderStepGraph(nn.Module):
    """One decoder step: the previous frame, the prenet dropout scales and the full state in; frame, gate and
    the new state out. See :attr:`INPUTS` and :attr:`OUTPUTS` for the names and shapes."""

    INPUTS: Tuple[str, ...] = ("frame",) + STATE_NAMES + ("memory", "processed_memory", "mask",
                                                          "prenet_mask_1", "prenet_mask_2")
    OUTPUTS: Tuple[str, ...] = ("mel_frame", "gate") + tuple(f"new_{n}" for n in STATE_NAMES)

    def __init__(self, model: Tacotron2) -> None:
        super().__init__()
        if len(model.decoder.prenet.layers) != 2:
            raise ValueError(f"the decoder step graph expects a 2-layer prenet, got "
                             f"{len(model.decoder.prenet.layers)} layers")
        self.decoder = model.decoder

    def forward(self, frame: Tensor, attention_hidden: Tensor, attention_cell: Tensor, decoder_hidden: Tensor,
                decoder_cell: Tensor, attention_weights: Tensor, attention_weights_cum: Tensor,
                attention_context: Tensor, memory: Tensor, processed_memory: Tensor, mask: Tensor,
                prenet_mask_1: Tensor, prenet_mask_2: Tensor) -> Tuple[Tensor, ...]:
        x = frame
        # F.dropout(relu(linear(x)), 0.5) with its drawn scale given: relu(linear(x)) * scale
        for linear, scale in zip(self.decoder.prenet.layers, (prenet_mask_1, prenet_mask_2)):
            x = F.relu(linear(x)) * scale
        state = DecoderState(attention_hidden, attention_cell, decoder_hidden, decoder_cell, attention_weights,
                             attention_weights_cum, attention_context)
        mel_frame, gate, new_state = self.decoder.step(x, state, memory, processed_memory, mask)
        return (mel_frame, gate) + tuple(new_state)


class PostnetGraph(nn.Module):
    """``mel`` (B, n_mels, T) -> ``mel_postnet`` = mel + postnet(mel), (B, n_mels, T)."""

    def __init__(self, model: Tacotron2) -> None:
        super().__init__()
        self.postnet = model.postnet

    def forward(self, mel: Tensor) -> Tensor:
        return mel + self.postnet(mel)


class WaveGlowGraph(nn.Module):
    """``mel`` (B, n_mels, T_mel), ``z`` (B, n_group, T_mel * 256 // n_group), ``sigma`` () ->
    ``audio`` (B, T_mel * 256): :meth:`WaveGlow.infer` with the latent given."""

    def __init__(self, model: WaveGlow) -> None:
        super().__init__()
        self.model = model
        self.prepared = FastWaveGlow(model)

    def forward(self, mel: Tensor, z: Tensor, sigma: Tensor) -> Tensor:
        # sigma * z[:, channels] is what infer computes per slice; scaling z first gives the same values
        return self.prepared.infer(mel, 1.0, z * sigma.to(z.dtype))

