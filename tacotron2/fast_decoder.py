"""Fast free-running Tacotron 2 decoding: preallocated buffers, blocks of steps, one stop check per block.

:class:`FastDecoderLoop` owns the tensors carried between blocks of
``block_size`` steps (the recurrent state, the prenet dropout scales and the
block's outputs): within a block the steps hand fresh tensors to each other,
which on CPU costs fewer and cheaper operations than updating buffers in place
(bitwise the same outputs; measured in docs/performance.md), and the state goes back into the buffers at the end of the block, so
the same code can be captured in a CUDA graph (:mod:`tacotron2.cuda_graph_decoder`). :func:`decode` drives a loop block by
block: draw the block's prenet dropout scales, run the steps, copy the block's
frames out, look at the gates once, and stop when every item has stopped,
discarding frames past the step-by-step stopping point and rewinding the random
generator to where the step-by-step loop would have left it.

With ``precision="fp32"`` every operation is the one the faithful
:meth:`Decoder.step` performs except the LSTM gate products: each cell's input
and hidden products are one fused product on ``[x, h]``. That changes only the summation
order: outputs agree with the reference path to rounding (about 1e-6 on random
models; tests allow 1e-5), though an autoregressive decoder can amplify the
difference over hundreds of steps. ``precision="fp32_exact"`` keeps the two
products apart and is bitwise the reference path on CPU. On CUDA in fp32 the
cell is ATen's fused kernel, bitwise the reference one.

The products come prepared (:class:`~tacotron2.fast_linears.DecoderLinears`,
held by a :class:`~tacotron2.prepared.PreparedTacotron2`); the stop rule is
:class:`~tacotron2.stop_check.StopTracker`, the one the reference loop uses too.
"""
from __future__ import annotations

import contextlib
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.nn import functional as F
from torch.profiler import record_function

from .decoder_state import DecoderState
from .fast_linears import DecoderLinears
from .inference import DEFAULT_STOP_CHECK_INTERVAL, FULL_PRECISIONS
from .masks import padding_mask
from .outputs import DecoderInference
from .precision import LinearOp
from .prenet_masks import default_generator, draw_prenet_masks_
from .stop_check import StopTracker


class FastDecoderLoop:
    """Decoder state and scratch for one batch of encoder outputs ``memory`` (B, N, E).

    Call :meth:`reset`, then :meth:`advance` repeatedly; block outputs are in
    ``block_mel`` (K, B, n_mels * r), ``block_gate`` (K, B, 1) and
    ``block_alignment`` (K, B, N) with K = ``block_size``. A loop with
    ``fixed_block=True`` (a captured graph) always advances by whole blocks.
    """

    fixed_block = False

    def __init__(self, decoder: torch.nn.Module, linears: DecoderLinears, memory: Tensor, memory_lengths: Tensor, *,
                 precision: str = "fp32", prenet_dropout: bool = True, block_size: int = 8,
                 regions: bool = False) -> None:
        self.decoder = decoder
        # named torch.profiler regions per part of a step; off by default: entering and leaving five
        # regions costs time on every step even with no profiler running
        self._region = record_function if regions else contextlib.nullcontext
        self.precision = precision
        self.prenet_dropout = prenet_dropout
        self.block_size = block_size
        self.linears = linears
        self.memory = memory
        self.mask = padding_mask(memory_lengths, memory.size(1))
        self.processed_memory = decoder.attention_layer.memory_layer(memory)
        self._exact_cells = precision in FULL_PRECISIONS and memory.device.type != "cpu"
        self._allocate(memory)
        self.reset()

    def _allocate(self, memory: Tensor) -> None:
        d = self.decoder
        batch, steps, embedding = memory.shape
        new = memory.new_empty
        prenet_dim = d.prenet.layers[-1].linear_layer.out_features
        frame_dim = d.n_mel_channels * d.n_frames_per_step
        # the state carried from block to block (a captured graph reads and writes exactly these)
        self.frame = new(batch, frame_dim)
        self.masks = new(self.block_size, len(d.prenet.layers), batch, prenet_dim)
        self.attention_hidden = new(batch, d.attention_rnn_dim)
        self.attention_cell = new(batch, d.attention_rnn_dim)
        self.weights_cat = new(batch, 2, steps)  # previous and cumulative attention weights
        self.context = new(batch, embedding)
        self.decoder_hidden = new(batch, d.decoder_rnn_dim)
        self.decoder_cell = new(batch, d.decoder_rnn_dim)
        self.block_mel = new(self.block_size, batch, frame_dim)
        self.block_gate = new(self.block_size, batch, 1)
        self.block_alignment = new(self.block_size, batch, steps)
        self._mask_fill = torch.finfo(memory.dtype).min

    def reset(self) -> None:
        """Zero state and the all-zero go frame, as :meth:`Decoder.initial_state`."""
        for buffer in (self.frame, self.attention_hidden, self.attention_cell, self.weights_cat, self.context,
                       self.decoder_hidden, self.decoder_cell):
            buffer.zero_()
        self.masks.fill_(1.0)

    def draw_masks(self, n_steps: int) -> None:
        """Draw the prenet dropout scales of the next ``n_steps`` steps (no-op without dropout)."""
        if self.prenet_dropout:
            draw_prenet_masks_(self.masks, n_steps)

    def advance(self, n_steps: int) -> None:
        """Draw the masks of and run the next ``n_steps`` (<= ``block_size``) steps."""
        self.draw_masks(n_steps)
        self.run_block(n_steps)

    def run_block(self, n_steps: int) -> None:
        """Run ``n_steps`` decoder steps using the drawn masks, then store the state in the loop's buffers.

        Within the block the steps pass fresh tensors to each other (fewer
        and cheaper operations than updating buffers in place); only the
        outputs (``block_*``) and, at the end, the carried state are written
        into the buffers, so a captured graph of a block reads and writes
        fixed addresses.
        """
        state = DecoderState(self.attention_hidden, self.attention_cell, self.decoder_hidden, self.decoder_cell,
                             self.weights_cat[:, 0], self.weights_cat[:, 1], self.context)
        frame = self.frame
        for index in range(n_steps):
            state = self._step(index, frame, state)
            frame = self.block_mel[index]
        self.frame.copy_(frame)
        for buffer, value in ((self.attention_hidden, state.attention_hidden),
                              (self.attention_cell, state.attention_cell),
                              (self.decoder_hidden, state.decoder_hidden), (self.decoder_cell, state.decoder_cell),
                              (self.weights_cat[:, 0], state.attention_weights),
                              (self.weights_cat[:, 1], state.attention_weights_cum),
                              (self.context, state.attention_context)):
            buffer.copy_(value)

    def _prenet(self, frame: Tensor, index: int) -> Tensor:
        x = frame
        for layer, linear in enumerate(self.linears.prenet):
            x = linear.apply(x).relu_()
            if self.prenet_dropout:
                x.mul_(self.masks[index, layer])
        return x

    def _lstm(self, cell: torch.nn.LSTMCell, product: LinearOp, parts: Tuple[Tensor, ...], h: Tensor,
              c: Tensor) -> Tuple[Tensor, Tensor]:
        """One LSTM cell on input ``cat(parts)`` and state ``h``, ``c`` (B, H) -> the new ``(h, c)``.

        ``sigmoid(f) * c + sigmoid(i) * tanh(g)`` and ``sigmoid(o) * tanh(c)``,
        the operations and order of ATen's CPU ``lstm_cell``.
        """
        if self._exact_cells:  # CUDA's fused cell kernel: call it to stay bitwise faithful
            return cell(torch.cat(parts, 1), (h, c))
        gates = h.new_empty(h.size(0), 4 * h.size(1))
        product(torch.cat((*parts, h), 1), gates)
        in_gate, forget_gate, cell_gate, out_gate = gates.chunk(4, 1)
        c = torch.sigmoid(forget_gate) * c + torch.sigmoid(in_gate) * torch.tanh(cell_gate)
        return torch.sigmoid(out_gate) * torch.tanh(c), c

    def _attend(self, query: Tensor, weights: Tensor, weights_cum: Tensor) -> Tuple[Tensor, Tensor]:
        """Location-sensitive attention -> ``(context (B, E), weights (B, N))``, as :class:`Attention`."""
        lin = self.linears
        conv = self.decoder.attention_layer.location_layer.location_conv.conv
        batch, steps = weights.shape
        processed_query = lin.query.apply(query).unsqueeze(1)
        location = F.conv1d(torch.stack((weights, weights_cum), 1), conv.weight, conv.bias, conv.stride,
                            conv.padding, conv.dilation).transpose(1, 2)
        processed_location = lin.location_dense.apply(location.reshape(batch * steps, -1)).view(batch, steps, -1)
        hidden = torch.tanh(processed_location + processed_query + self.processed_memory)
        energies = lin.v.apply(hidden.view(batch * steps, -1)).view(batch, steps)
        new_weights = torch.softmax(energies.masked_fill(self.mask, self._mask_fill), 1)
        context = torch.bmm(new_weights.unsqueeze(1), self.memory).squeeze(1)
        return context, new_weights

    def _step(self, index: int, frame: Tensor, state: DecoderState) -> DecoderState:
        """One decoder step from ``frame`` and ``state``; writes ``block_*[index]``, returns the new state.

        The named regions (``regions=True``) are what ``benchmarks/tacotron2_bench.py`` profiles.
        """
        d, lin = self.decoder, self.linears
        with self._region("prenet"):
            prenet = self._prenet(frame, index)
        with self._region("attention_lstm"):
            attention_hidden, attention_cell = self._lstm(d.attention_rnn, lin.attention_lstm,
                                                          (prenet, state.attention_context),
                                                          state.attention_hidden, state.attention_cell)
        with self._region("attention"):
            context, weights = self._attend(attention_hidden, state.attention_weights, state.attention_weights_cum)
        with self._region("decoder_lstm"):
            decoder_hidden, decoder_cell = self._lstm(d.decoder_rnn, lin.decoder_lstm, (attention_hidden, context),
                                                      state.decoder_hidden, state.decoder_cell)
        with self._region("projections"):
            hidden_context = torch.cat((decoder_hidden, context), 1)
            lin.projection(hidden_context, self.block_mel[index])
            lin.gate(hidden_context, self.block_gate[index])
            self.block_alignment[index].copy_(weights)
        return DecoderState(attention_hidden, attention_cell, decoder_hidden, decoder_cell, weights,
                            state.attention_weights_cum + weights, context)


def decode(loop: FastDecoderLoop, max_steps: int, early_stopping: bool, gate_threshold: float,
           stop_check_interval: Optional[int] = None) -> DecoderInference:
    """Run ``loop`` in blocks of ``stop_check_interval`` steps (default ``loop.block_size``).

    Gives exactly the steps, ``mel_lengths`` and ``reached_limit`` of the
    step-by-step rule (see :class:`StopTracker`). A loop whose block size is
    fixed (a captured CUDA graph) always runs whole blocks; the frames past
    ``max_steps`` or the stopping point are dropped.
    """
    interval = loop.block_size if stop_check_interval is None or loop.fixed_block else stop_check_interval
    if interval > loop.block_size:
        raise ValueError(f"stop_check_interval={interval} exceeds the loop's block_size={loop.block_size}")
    memory = loop.memory
    batch, steps_n = memory.size(0), memory.size(1)
    mels = loop.block_mel.new_empty((max_steps, batch, loop.block_mel.size(2)))
    gates = loop.block_gate.new_empty((max_steps, batch))
    alignments = loop.block_alignment.new_empty((max_steps, batch, steps_n))
    tracker = StopTracker(batch, max_steps, gate_threshold, memory.device)
    generator = default_generator(memory.device) if loop.prenet_dropout else None
    loop.reset()
    step = block_start = advanced = 0
    rng_state = None
    while step < max_steps:
        n = min(interval, max_steps - step)
        rng_state = generator.get_state() if generator is not None else None
        advanced = interval if loop.fixed_block else n
        loop.advance(advanced)
        mels[step:step + n] = loop.block_mel[:n]
        gates[step:step + n] = loop.block_gate[:n, :, 0]
        alignments[step:step + n] = loop.block_alignment[:n]
        tracker.update(gates[step:step + n], step)
        block_start, step = step, step + n
        if early_stopping and tracker.all_stopped():
            step = tracker.steps_needed()
            break
    if rng_state is not None and block_start + advanced > step:
        generator.set_state(rng_state)  # rewind, then redraw only what the step-by-step loop drew
        loop.draw_masks(step - block_start)
    return loop.decoder.inference_result(mels[:step], gates[:step], alignments[:step], tracker)


@torch.no_grad()
def fast_infer(decoder: torch.nn.Module, linears: DecoderLinears, memory: Tensor, memory_lengths: Tensor, *,
               early_stopping: bool, max_steps: int, prenet_dropout: bool = True, precision: str = "fp32",
               stop_check_interval: Optional[int] = None, regions: bool = False) -> DecoderInference:
    """Free-running decoding with the fast loop; same result type and rules as :meth:`Decoder.infer`.

    ``linears``: the decoder's products prepared in ``precision`` (:func:`~tacotron2.fast_linears.build_linears`).

    ``stop_check_interval`` (default :data:`DEFAULT_STOP_CHECK_INTERVAL` = 8):
    steps between looks at the gate. Larger values save host syncs (CUDA) at
    the cost of up to ``interval - 1`` discarded steps at the end; results do
    not depend on it. ``regions=True`` names the parts of each step for
    ``torch.profiler`` (prenet, attention_lstm, attention, decoder_lstm,
    projections), which adds a small cost to every step (measured in docs/performance.md).
    """
    interval = DEFAULT_STOP_CHECK_INTERVAL if stop_check_interval is None else stop_check_interval
    interval = min(interval, max_steps)
    loop = FastDecoderLoop(decoder, linears, memory, memory_lengths, precision=precision,
                           prenet_dropout=prenet_dropout, block_size=interval, regions=regions)
    return decode(loop, max_steps, early_stopping, decoder.gate_threshold)
