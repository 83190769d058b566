"""Fast free-running Tacotron 2 decoding: preallocated buffers, blocks of steps, one stop check per block.

:class:`FastDecoderLoop` owns every tensor a decoder step reads or writes
(state, concat buffers, attention scratch, prenet dropout scales and the
outputs of one block of ``block_size`` steps) and updates them in place, so a
step allocates almost nothing and the same code can be captured in a CUDA graph
(:mod:`tacotron2.cuda_graph_decoder`). :func:`decode` drives a loop block by
block: draw the block's prenet dropout scales, run the steps, copy the block's
frames out, look at the gates once, and stop when every item has stopped,
discarding frames past the step-by-step stopping point and rewinding the random
generator to where the step-by-step loop would have left it.

With ``precision="fp32"`` every operation is the one the faithful
:meth:`Decoder.step` performs except the LSTM gate products: each cell's input
and hidden products are one fused product on ``[x, h]`` (the hidden state
lives at the tail of the cell's input buffer, so no concatenation is needed),
run by oneDNN on a prepacked weight on CPU. That changes only the summation
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

from typing import Optional

import torch
from torch import Tensor
from torch.nn import functional as F
from torch.profiler import record_function

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
    ``block_mel`` (K, B, n_mels), ``block_gate`` (K, B, 1) and
    ``block_alignment`` (K, B, N) with K = ``block_size``. A loop with
    ``fixed_block=True`` (a captured graph) always advances by whole blocks.
    """

    fixed_block = False

    def __init__(self, decoder: torch.nn.Module, linears: DecoderLinears, memory: Tensor, memory_lengths: Tensor, *,
                 precision: str = "fp32", prenet_dropout: bool = True, block_size: int = 8) -> None:
        self.decoder = decoder
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
        attention_dim = self.processed_memory.size(2)
        n_filters = d.attention_layer.location_layer.location_conv.conv.out_channels
        frame_dim = d.n_mel_channels * d.n_frames_per_step
        self.frame = new(batch, frame_dim)
        self.prenet_hidden = [new(batch, layer.linear_layer.out_features) for layer in d.prenet.layers]
        self.masks = new(self.block_size, len(d.prenet.layers), batch, prenet_dim)
        # LSTM inputs [x, h]: each cell's hidden state is a view of the tail of its input buffer
        self.attention_input = new(batch, prenet_dim + embedding + d.attention_rnn_dim)
        self.attention_hidden = self.attention_input[:, prenet_dim + embedding:]
        self.attention_cell = new(batch, d.attention_rnn_dim)
        self.attention_gates, self.attention_scratch = new(batch, 4 * d.attention_rnn_dim), new(
            batch, 4 * d.attention_rnn_dim)
        self.weights_cat = new(batch, 2, steps)  # previous and cumulative attention weights
        self.context = new(batch, embedding)
        self.processed_query = new(batch, attention_dim)
        self.location = new(batch, steps, n_filters)
        self.processed_location = new(batch, steps, attention_dim)
        self.energies = new(batch, steps)
        self.weights = new(batch, steps)
        self.decoder_input = new(batch, d.attention_rnn_dim + embedding + d.decoder_rnn_dim)
        self.decoder_hidden = self.decoder_input[:, d.attention_rnn_dim + embedding:]
        self.decoder_cell = new(batch, d.decoder_rnn_dim)
        self.decoder_gates, self.decoder_scratch = new(batch, 4 * d.decoder_rnn_dim), new(
            batch, 4 * d.decoder_rnn_dim)
        self.hidden_context = new(batch, d.decoder_rnn_dim + embedding)
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
        """Run ``n_steps`` decoder steps using the drawn masks."""
        for index in range(n_steps):
            previous = self.frame if index == 0 else self.block_mel[index - 1]
            self._step(index, previous)
        self.frame.copy_(self.block_mel[n_steps - 1])

    def _prenet(self, frame: Tensor, index: int) -> Tensor:
        x = frame
        for layer, (linear, hidden) in enumerate(zip(self.linears.prenet, self.prenet_hidden)):
            x = linear(x, hidden).relu_()
            if self.prenet_dropout:
                x.mul_(self.masks[index, layer])
        return x

    def _lstm(self, cell: torch.nn.LSTMCell, product: LinearOp, inputs: Tensor, h: Tensor, c: Tensor,
              gates: Tensor, scratch: Tensor) -> None:
        """One LSTM cell update of ``h``, ``c`` (B, H) in place; ``inputs`` is ``[x, h]`` (``h`` a view of it)."""
        if self._exact_cells:  # CUDA's fused cell kernel: call it to stay bitwise faithful
            new_h, new_c = cell(inputs[:, :inputs.size(1) - h.size(1)], (h, c))
            h.copy_(new_h)
            c.copy_(new_c)
            return
        product(inputs, gates)
        in_gate, forget_gate, cell_gate, out_gate = gates.chunk(4, 1)
        in_gate.sigmoid_()
        forget_gate.sigmoid_()
        cell_gate.tanh_()
        out_gate.sigmoid_()
        c.mul_(forget_gate).add_(torch.mul(in_gate, cell_gate, out=scratch[:, :c.size(1)]))
        torch.mul(out_gate, torch.tanh(c, out=scratch[:, :c.size(1)]), out=h)

    def _attend(self) -> None:
        """Location-sensitive attention: ``weights``, ``context`` and ``weights_cat`` updated in place."""
        d, lin = self.decoder, self.linears
        conv = d.attention_layer.location_layer.location_conv.conv
        batch, steps = self.weights.shape
        lin.query(self.attention_hidden, self.processed_query)
        self.location.copy_(F.conv1d(self.weights_cat, conv.weight, conv.bias, conv.stride, conv.padding,
                                     conv.dilation).transpose(1, 2))
        lin.location_dense(self.location.view(batch * steps, -1), self.processed_location.view(batch * steps, -1))
        hidden = self.processed_location.add_(self.processed_query.unsqueeze(1)).add_(self.processed_memory).tanh_()
        lin.v(hidden.view(batch * steps, -1), self.energies.view(batch * steps, 1))
        self.energies.masked_fill_(self.mask, self._mask_fill)
        torch.softmax(self.energies, 1, out=self.weights)
        torch.bmm(self.weights.unsqueeze(1), self.memory, out=self.context.unsqueeze(1))
        self.weights_cat[:, 0].copy_(self.weights)
        self.weights_cat[:, 1].add_(self.weights)

    @staticmethod
    def _fill(buffer: Tensor, first: Tensor, second: Tensor) -> None:
        """Write ``[first, second]`` into the leading columns of ``buffer`` (its tail is the LSTM state)."""
        buffer[:, :first.size(1)].copy_(first)
        buffer[:, first.size(1):first.size(1) + second.size(1)].copy_(second)

    def _step(self, index: int, frame: Tensor) -> None:
        """One decoder step; the named regions are what ``benchmarks/tacotron2_bench.py`` profiles."""
        d, lin = self.decoder, self.linears
        with record_function("prenet"):
            prenet = self._prenet(frame, index)
            self._fill(self.attention_input, prenet, self.context)
        with record_function("attention_lstm"):
            self._lstm(d.attention_rnn, lin.attention_lstm, self.attention_input,
                       self.attention_hidden, self.attention_cell, self.attention_gates, self.attention_scratch)
        with record_function("attention"):
            self._attend()
        with record_function("decoder_lstm"):
            self._fill(self.decoder_input, self.attention_hidden, self.context)
            self._lstm(d.decoder_rnn, lin.decoder_lstm, self.decoder_input,
                       self.decoder_hidden, self.decoder_cell, self.decoder_gates, self.decoder_scratch)
        with record_function("projections"):
            torch.cat((self.decoder_hidden, self.context), 1, out=self.hidden_context)
            lin.projection(self.hidden_context, self.block_mel[index])
            lin.gate(self.hidden_context, self.block_gate[index])
            self.block_alignment[index].copy_(self.weights)


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
    return DecoderInference(mels[:step].permute(1, 2, 0).contiguous(), gates[:step].transpose(0, 1).contiguous(),
                            alignments[:step].transpose(0, 1).contiguous(), tracker.mel_lengths(step),
                            tracker.reached_limit(step))


@torch.no_grad()
def fast_infer(decoder: torch.nn.Module, linears: DecoderLinears, memory: Tensor, memory_lengths: Tensor, *,
               early_stopping: bool, max_steps: int, prenet_dropout: bool = True, precision: str = "fp32",
               stop_check_interval: Optional[int] = None) -> DecoderInference:
    """Free-running decoding with the fast loop; same result type and rules as :meth:`Decoder.infer`.

    ``linears``: the decoder's products prepared in ``precision`` (:func:`~tacotron2.fast_linears.build_linears`).

    ``stop_check_interval`` (default :data:`DEFAULT_STOP_CHECK_INTERVAL` = 8):
    steps between looks at the gate. Larger values save host syncs (CUDA) at
    the cost of up to ``interval - 1`` discarded steps at the end; results do
    not depend on it.
    """
    interval = DEFAULT_STOP_CHECK_INTERVAL if stop_check_interval is None else stop_check_interval
    interval = min(interval, max_steps)
    loop = FastDecoderLoop(decoder, linears, memory, memory_lengths, precision=precision,
                           prenet_dropout=prenet_dropout, block_size=interval)
    return decode(loop, max_steps, early_stopping, decoder.gate_threshold)
