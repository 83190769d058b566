"""Tacotron 2 decoding with each block of steps replayed from a CUDA graph.

On a GPU a decoder step is a few dozen tiny kernels, so launch overhead, not
arithmetic, sets the speed. :class:`GraphDecoderLoop` is a
:class:`~tacotron2.fast_decoder.FastDecoderLoop` whose inputs live in static
buffers: the encoder outputs are copied into a buffer padded to a multiple of
``length_bucket`` text steps (padding is masked, so it gets exactly zero
attention), and one block, the prenet dropout draws plus ``block_size`` decoder
steps, is captured once per (batch size, length bucket, dropout) by the
:class:`GraphLoops` of a prepared decoder and replayed. The host looks at the gate once per block (the
shared :func:`~tacotron2.fast_decoder.decode` driver).

Dropout randomness inside the graph: PyTorch's CUDA generator is graph-safe
(each replay advances the generator's Philox offset by the captured amount),
so ``torch.native_dropout`` inside the graph draws fresh masks on every replay
and ``torch.manual_seed`` before ``infer`` makes a run reproducible. The masks
are drawn from the same generator as eager mode, but bitwise equality with the
eager path is not promised.

Without CUDA (``use_graph=False``) the same loop runs eagerly; the tests use
that to check bucketing, fixed-size blocks and the stop logic on CPU.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Optional, Tuple

import torch
from torch import Tensor

from .fast_decoder import FastDecoderLoop, decode
from .fast_linears import DecoderLinears
from .masks import padding_mask
from .outputs import DecoderInference
from .prenet_masks import default_generator

DEFAULT_LENGTH_BUCKET = 64


def bucket_length(length: int, bucket: int) -> int:
    """``length`` rounded up to a multiple of ``bucket``."""
    return -(-length // bucket) * bucket


class GraphDecoderLoop(FastDecoderLoop):
    """Fast decoder loop over static buffers of ``bucket_steps`` text steps, one CUDA graph per block."""

    fixed_block = True

    def __init__(self, decoder: torch.nn.Module, linears: DecoderLinears, batch: int, bucket_steps: int, *,
                 device: torch.device, dtype: torch.dtype, precision: str, prenet_dropout: bool, block_size: int,
                 use_graph: bool = True) -> None:
        memory = torch.zeros(batch, bucket_steps, decoder.attention_layer.memory_layer.linear_layer.in_features,
                             device=device, dtype=dtype)
        lengths = torch.full((batch,), bucket_steps, dtype=torch.long, device=device)
        super().__init__(decoder, linears, memory, lengths, precision=precision, prenet_dropout=prenet_dropout,
                         block_size=block_size)
        self.use_graph = use_graph
        self.graph: Optional["torch.cuda.CUDAGraph"] = None

    def load(self, memory: Tensor, memory_lengths: Tensor) -> None:
        """Copy ``memory`` (B, N <= bucket_steps, E) into the static buffers and rebuild mask and keys."""
        steps = memory.size(1)
        self.memory.zero_()
        self.memory[:, :steps].copy_(memory)
        self.mask.copy_(padding_mask(memory_lengths, self.memory.size(1)))
        self.processed_memory.copy_(self.decoder.attention_layer.memory_layer(self.memory))

    def advance(self, n_steps: int) -> None:
        """Replay the captured block (capturing it on first use); ``n_steps`` must be ``block_size``."""
        if n_steps != self.block_size:
            raise ValueError(f"a graph loop advances by block_size={self.block_size} steps, got {n_steps}")
        if not self.use_graph:
            super().advance(n_steps)
            return
        if self.graph is None:
            self.graph = self._capture()
        self.graph.replay()

    def _capture(self) -> "torch.cuda.CUDAGraph":
        """Warm up on a side stream, capture one block, then restore state and random generator."""
        generator = default_generator(self.memory.device)
        rng_state = generator.get_state()
        saved = [t.clone() for t in (self.frame, self.attention_hidden, self.attention_cell, self.weights_cat,
                                     self.context, self.decoder_hidden, self.decoder_cell)]
        stream = torch.cuda.Stream(self.memory.device)
        stream.wait_stream(torch.cuda.current_stream(self.memory.device))
        with torch.cuda.stream(stream):
            for _ in range(2):
                FastDecoderLoop.advance(self, self.block_size)
        torch.cuda.current_stream(self.memory.device).wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            FastDecoderLoop.advance(self, self.block_size)
        for buffer, value in zip((self.frame, self.attention_hidden, self.attention_cell, self.weights_cat,
                                  self.context, self.decoder_hidden, self.decoder_cell), saved):
            buffer.copy_(value)
        generator.set_state(rng_state)
        return graph


class GraphLoops:
    """The captured loops of one prepared decoder, one per (batch size, length bucket, dropout) seen.

    Owned by a :class:`~tacotron2.prepared.PreparedTacotron2`; at most
    ``max_loops`` are kept (the oldest is dropped first), so memory stays
    bounded however many shapes are decoded.
    """

    def __init__(self, decoder: torch.nn.Module, linears: DecoderLinears, *, precision: str, block_size: int,
                 length_bucket: int = DEFAULT_LENGTH_BUCKET, use_graph: bool = True, max_loops: int = 8) -> None:
        self.decoder, self.linears, self.precision = decoder, linears, precision
        self.block_size, self.length_bucket, self.use_graph, self.max_loops = block_size, length_bucket, use_graph, max_loops
        self.loops: "OrderedDict[Tuple, GraphDecoderLoop]" = OrderedDict()

    @property
    def nbytes(self) -> int:
        """Memory of the static buffers of every loop kept (graph memory pools not counted)."""
        storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for loop in self.loops.values()
                    for t in vars(loop).values() if torch.is_tensor(t)}
        return sum(storages.values())

    def loop(self, memory: Tensor, prenet_dropout: bool) -> GraphDecoderLoop:
        """The loop for ``memory``'s batch size and length bucket, built on first use."""
        key = (memory.size(0), bucket_length(memory.size(1), self.length_bucket), memory.device, memory.dtype,
               prenet_dropout)
        loop = self.loops.pop(key, None)
        if loop is None:
            loop = GraphDecoderLoop(self.decoder, self.linears, key[0], key[1], device=memory.device,
                                    dtype=memory.dtype, precision=self.precision, prenet_dropout=prenet_dropout,
                                    block_size=self.block_size, use_graph=self.use_graph)
            while len(self.loops) >= self.max_loops:
                self.loops.popitem(last=False)
        self.loops[key] = loop
        return loop

    @torch.no_grad()
    def infer(self, memory: Tensor, memory_lengths: Tensor, *, early_stopping: bool, max_steps: int,
              prenet_dropout: bool = True) -> DecoderInference:
        """Free-running decoding with graph-replayed blocks; same result type and rules as :meth:`Decoder.infer`.

        Alignments are cut back to the true text length ``N``.
        """
        loop = self.loop(memory, prenet_dropout)
        loop.load(memory, memory_lengths)
        result = decode(loop, max_steps, early_stopping, self.decoder.gate_threshold)
        return result._replace(alignments=result.alignments[:, :, :memory.size(1)].contiguous())
