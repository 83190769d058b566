"""Autoregressive Tacotron 2 decoder: prenet, attention LSTM, attention, decoder LSTM, projections."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .attention import Attention
from .config import Tacotron2Config
from .decoder_state import DecoderState
from .layers import LinearNorm
from .masks import padding_mask
from .outputs import DecoderInference
from .prenet import Prenet
from .stop_check import StopTracker


class Decoder(nn.Module):
    """Predicts mel frames one at a time from the encoder outputs ("memory", (B, N, E)).

    :meth:`step` is one faithful step of NVIDIA's ``decode``; :meth:`forward`
    is the teacher-forced loop and :meth:`infer` the free-running reference loop.
    """

    def __init__(self, config: Tacotron2Config) -> None:
        super().__init__()
        c = config
        self.n_mel_channels = c.n_mel_channels
        self.n_frames_per_step = c.n_frames_per_step
        self.attention_rnn_dim = c.attention_rnn_dim
        self.decoder_rnn_dim = c.decoder_rnn_dim
        self.max_decoder_steps = c.max_decoder_steps
        self.gate_threshold = c.gate_threshold
        self.p_attention_dropout = c.p_attention_dropout
        self.p_decoder_dropout = c.p_decoder_dropout
        self.early_stopping = not c.decoder_no_early_stopping
        frame_dim = c.n_mel_channels * c.n_frames_per_step
        embedding_dim = c.encoder_embedding_dim

        self.prenet = Prenet(frame_dim, [c.prenet_dim, c.prenet_dim])
        self.attention_rnn = nn.LSTMCell(c.prenet_dim + embedding_dim, c.attention_rnn_dim)
        self.attention_layer = Attention(c.attention_rnn_dim, embedding_dim, c.attention_dim,
                                         c.attention_location_n_filters, c.attention_location_kernel_size)
        self.decoder_rnn = nn.LSTMCell(c.attention_rnn_dim + embedding_dim, c.decoder_rnn_dim)
        self.linear_projection = LinearNorm(c.decoder_rnn_dim + embedding_dim, frame_dim)
        self.gate_layer = LinearNorm(c.decoder_rnn_dim + embedding_dim, 1, bias=True, w_init_gain="sigmoid")

    def initial_state(self, memory: Tensor) -> DecoderState:
        """Zero state for ``memory`` (B, N, E)."""
        return DecoderState.zeros(memory, self.attention_rnn_dim, self.decoder_rnn_dim)

    def go_frame(self, memory: Tensor) -> Tensor:
        """All-zero first decoder input, (B, n_mel_channels * n_frames_per_step)."""
        return memory.new_zeros(memory.size(0), self.n_mel_channels * self.n_frames_per_step)

    def step(self, prenet_output: Tensor, state: DecoderState, memory: Tensor, processed_memory: Tensor,
             mask: Tensor) -> Tuple[Tensor, Tensor, DecoderState]:
        """One decoder step.

        ``prenet_output`` (B, prenet_dim): the prenet applied to the previous
        frame; ``memory`` (B, N, E); ``processed_memory`` (B, N, attention_dim);
        ``mask`` (B, N) True at padding. Returns ``(mel frame (B, n_mels),
        gate logit (B, 1), new state)``. Dropout of the LSTM outputs only in
        training mode.
        """
        cell_input = torch.cat((prenet_output, state.attention_context), -1)
        attention_hidden, attention_cell = self.attention_rnn(
            cell_input, (state.attention_hidden, state.attention_cell))
        attention_hidden = F.dropout(attention_hidden, self.p_attention_dropout, self.training)

        weights_cat = torch.stack((state.attention_weights, state.attention_weights_cum), dim=1)
        context, weights = self.attention_layer(attention_hidden, memory, processed_memory, weights_cat, mask)
        weights_cum = state.attention_weights_cum + weights

        decoder_hidden, decoder_cell = self.decoder_rnn(
            torch.cat((attention_hidden, context), -1), (state.decoder_hidden, state.decoder_cell))
        decoder_hidden = F.dropout(decoder_hidden, self.p_decoder_dropout, self.training)

        hidden_context = torch.cat((decoder_hidden, context), dim=1)
        mel_frame = self.linear_projection(hidden_context)
        gate = self.gate_layer(hidden_context)
        new_state = DecoderState(attention_hidden, attention_cell, decoder_hidden, decoder_cell,
                                 weights, weights_cum, context)
        return mel_frame, gate, new_state

    def _frames(self, steps: Tensor, n_frames: int) -> Tensor:
        """Per-step outputs (S, B, n_mels * r) -> mel frames (B, n_mels, n_frames), frame ``s * r + j`` of
        step ``s`` at ``j``."""
        n_steps, batch, _ = steps.shape
        if self.n_frames_per_step == 1:
            # NVIDIA's layout, strides included (the postnet's conv picks its kernel by them)
            return steps.permute(1, 2, 0)[:, :, :n_frames]
        frames = steps.reshape(n_steps, batch, self.n_frames_per_step, self.n_mel_channels)
        return frames.permute(1, 3, 0, 2).reshape(batch, self.n_mel_channels, -1)[:, :, :n_frames]

    def _per_frame(self, per_step: Tensor, n_frames: int) -> Tensor:
        """Per-step values (B, S, ...) repeated for each of a step's frames: (B, n_frames, ...)."""
        if self.n_frames_per_step == 1:
            return per_step[:, :n_frames]
        return per_step.repeat_interleave(self.n_frames_per_step, dim=1)[:, :n_frames]

    def forward(self, memory: Tensor, mel_inputs: Tensor, memory_lengths: Tensor,
                prenet_dropout: bool = True, feedback: float = 0.0) -> Tuple[Tensor, Tensor, Tensor]:
        """Teacher-forced decoding.

        ``memory`` (B, N, E), ``mel_inputs`` (B, n_mels, T) targets,
        ``memory_lengths`` (B,). Returns ``mel`` (B, n_mels, T), ``gate``
        logits (B, T), ``alignments`` (B, T, N). The prenet runs once over the
        go frame and all T target frames (T + 1 frames), as NVIDIA's, so its
        dropout draws random numbers in the same order.

        With ``n_frames_per_step = r > 1`` (opt-in; NVIDIA's models have 1)
        each step predicts ``r`` frames and reads the previous step's ``r``
        target frames (T is zero-padded to a multiple of ``r`` and the outputs
        cut back to T); a step's gate logit and alignment are repeated for
        each of its frames, so the outputs keep their per-frame shapes.

        ``feedback`` (opt-in, training only; 0 is NVIDIA's teacher forcing):
        the probability, drawn per step and item, that a step is fed the
        decoder's own previous frame (detached) instead of the target's,
        which is scheduled sampling (Bengio et al., 2015). It narrows the gap
        between training on the targets and running on its own outputs. With
        ``feedback > 0`` the prenet runs step by step, so its dropout draws in
        another order; ``feedback=1`` never reads the targets' values.
        """
        if not 0.0 <= feedback <= 1.0:
            raise ValueError(f"feedback must be a probability in [0, 1], got {feedback!r}")
        mask = padding_mask(memory_lengths, memory.size(1))
        processed_memory = self.attention_layer.memory_layer(memory)
        state = self.initial_state(memory)
        n_frames, r = mel_inputs.size(2), self.n_frames_per_step
        padded = F.pad(mel_inputs, (0, (-n_frames) % r))
        n_steps = padded.size(2) // r
        # (S, B, r * n_mels): step s's targets, frame-major as the projection predicts them
        targets = padded.reshape(padded.size(0), self.n_mel_channels, n_steps, r).permute(2, 0, 3, 1).reshape(
            n_steps, padded.size(0), r * self.n_mel_channels)
        if feedback > 0.0:
            # step t reads its own frame t-1 where own[t]; the first step always reads the go frame
            own = torch.rand(n_steps, memory.size(0), 1, device=memory.device) < feedback
            previous = self.go_frame(memory)
        else:
            prenet_outputs = self.prenet(torch.cat((self.go_frame(memory).unsqueeze(0), targets), dim=0),
                                         dropout=prenet_dropout)

        mels, gates, alignments = [], [], []
        for t in range(n_steps):
            if feedback > 0.0:
                if t > 0:
                    previous = torch.where(own[t], mels[-1].detach(), targets[t - 1])
                prenet_output = self.prenet(previous, dropout=prenet_dropout)
            else:
                prenet_output = prenet_outputs[t]
            mel_frame, gate, state = self.step(prenet_output, state, memory, processed_memory, mask)
            mels.append(mel_frame)
            gates.append(gate.squeeze(1))
            alignments.append(state.attention_weights)
        return (self._frames(torch.stack(mels), n_frames), self._per_frame(torch.stack(gates, dim=1), n_frames),
                self._per_frame(torch.stack(alignments, dim=1), n_frames))

    @torch.no_grad()
    def infer(self, memory: Tensor, memory_lengths: Tensor, early_stopping: Optional[bool] = None,
              max_decoder_steps: Optional[int] = None, prenet_dropout: bool = True) -> DecoderInference:
        """NVIDIA's free-running loop (the ``"reference"`` backend): one :meth:`step` after another.

        Decoding goes on until every item's gate has fired or ``max_decoder_steps``
        (NVIDIA's DLE rule); an item's ``mel_lengths`` entry counts the frames
        before its first frame with ``sigmoid(gate) > gate_threshold``
        (:class:`~tacotron2.stop_check.StopTracker`, the rule every backend
        uses, looked at after every step here). Returns :class:`DecoderInference`.
        With ``n_frames_per_step = r > 1`` a step gives ``r`` frames (up to
        ``r * max_decoder_steps`` in all), each with its step's gate and
        alignment, and the lengths count whole steps.
        The other backends (which run grouped models too) go through :class:`~tacotron2.prepared.PreparedTacotron2`.
        """
        early_stopping = self.early_stopping if early_stopping is None else early_stopping
        max_steps = self.max_decoder_steps if max_decoder_steps is None else max_decoder_steps
        batch = memory.size(0)
        mask = padding_mask(memory_lengths, memory.size(1))
        processed_memory = self.attention_layer.memory_layer(memory)
        state = self.initial_state(memory)
        frame = self.go_frame(memory)
        tracker = StopTracker(batch, max_steps, self.gate_threshold, memory.device)

        mels = gates = alignments = None
        steps = 0
        while steps < max_steps:
            mel_frame, gate, state = self.step(self.prenet(frame, dropout=prenet_dropout), state,
                                               memory, processed_memory, mask)
            if mels is None:
                mels = mel_frame.new_empty((max_steps,) + tuple(mel_frame.shape))
                gates = gate.new_empty((max_steps, batch))
                alignments = state.attention_weights.new_empty((max_steps,) + tuple(state.attention_weights.shape))
            mels[steps], gates[steps], alignments[steps] = mel_frame, gate.squeeze(1), state.attention_weights
            tracker.update(gates[steps:steps + 1], steps)
            steps += 1
            if early_stopping and tracker.all_stopped():
                break
            frame = mel_frame
        return self.inference_result(mels[:steps], gates[:steps], alignments[:steps], tracker)

    def inference_result(self, mels: Tensor, gates: Tensor, alignments: Tensor,
                         tracker: StopTracker) -> DecoderInference:
        """The per-step outputs of a free-running loop as per-frame :class:`DecoderInference` (every backend's).

        ``mels`` (S, B, n_mels * r), ``gates`` (S, B) and ``alignments``
        (S, B, N) of the S steps run; ``tracker`` has seen every step's gates.
        Each of a step's ``r`` frames gets its step's gate and alignment, and
        the lengths count whole steps (``r`` frames each).
        """
        steps, r = mels.size(0), self.n_frames_per_step
        n_frames = steps * r
        return DecoderInference(self._frames(mels, n_frames).contiguous(),
                                self._per_frame(gates.transpose(0, 1), n_frames).contiguous(),
                                self._per_frame(alignments.transpose(0, 1), n_frames).contiguous(),
                                tracker.mel_lengths(steps) * r, tracker.reached_limit(steps))
