"""Tacotron 2 decoding with each block of steps replayed from a CUDA graph.

On a GPU a decoder step is a few dozen tiny kernels, so launch overhead, not
arithmetic, sets the speed. :class:`GraphDecoderLoop` is a
:class:`~tacotron2.fast_decoder.FastDecoderLoop` whose inputs live in static
buffers: the encoder outputs are copied into a buffer padded to a multiple of
``length_bucket`` text steps (padding is masked, so it gets exactly zero
attention), and one block, the prenet dropout draws plus ``block_size`` decoder
steps, is captured once per (batch size, length bucket, precision, dropout,
block size) and replayed. The host looks at the gate once per block (the
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

from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

from .fast_decoder import DEFAULT_STOP_CHECK_INTERVAL, FastDecoderLoop, decode
from .fast_linears import cached_linears
from .masks import padding_mask
from .outputs import DecoderInference
from .prenet_masks import default_generator

DEFAULT_LENGTH_BUCKET = 64
_CACHE_ATTRIBUTE = "_cuda_graph_loops"


def bucket_length(length: int, bucket: int) -> int:
    """``length`` rounded up to a multiple of ``bucket``."""
    return -(-length // bucket) * bucket


class GraphDecoderLoop(FastDecoderLoop):
    """Fast decoder loop over static buffers of ``bucket_steps`` text steps, one CUDA graph per block."""

    fixed_block = True

    def __init__(self, decoder: torch.nn.Module, batch: int, bucket_steps: int, *, device: torch.device,
                 dtype: torch.dtype, precision: str, prenet_dropout: bool, block_size: int,
                 use_graph: bool = True) -> None:
        memory = torch.zeros(batch, bucket_steps, decoder.attention_layer.memory_layer.linear_layer.in_features,
                             device=device, dtype=dtype)
        lengths = torch.full((batch,), bucket_steps, dtype=torch.long, device=device)
        super().__init__(decoder, memory, lengths, precision=precision, prenet_dropout=prenet_dropout,
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


def _graph_loop(decoder: torch.nn.Module, memory: Tensor, precision: str, prenet_dropout: bool,
                block_size: int, length_bucket: int, use_graph: bool) -> GraphDecoderLoop:
    """The cached loop for this shape and setting, rebuilt when the decoder's weights changed."""
    cache: Dict[Tuple, GraphDecoderLoop] = decoder.__dict__.setdefault(_CACHE_ATTRIBUTE, {})
    key = (memory.size(0), bucket_length(memory.size(1), length_bucket), memory.device, memory.dtype,
           precision, prenet_dropout, block_size, use_graph)
    loop = cache.get(key)
    if loop is None or loop.linears is not cached_linears(decoder, precision):
        loop = GraphDecoderLoop(decoder, key[0], key[1], device=memory.device, dtype=memory.dtype,
                                precision=precision, prenet_dropout=prenet_dropout, block_size=block_size,
                                use_graph=use_graph)
        cache[key] = loop
    return loop


def clear_graph_cache(decoder: torch.nn.Module) -> None:
    """Free the captured graphs and their static buffers held by ``decoder``."""
    decoder.__dict__.pop(_CACHE_ATTRIBUTE, None)


@torch.no_grad()
def cuda_graph_infer(decoder: torch.nn.Module, memory: Tensor, memory_lengths: Tensor, *, early_stopping: bool,
                     max_steps: int, prenet_dropout: bool = True, precision: str = "fp16",
                     stop_check_interval: Optional[int] = None, length_bucket: int = DEFAULT_LENGTH_BUCKET,
                     use_graph: Optional[bool] = None) -> DecoderInference:
    """Free-running decoding with graph-replayed blocks; same result type and rules as :meth:`Decoder.infer`.

    ``stop_check_interval`` is the block size (default 8 steps). ``use_graph``
    defaults to whether ``memory`` is on CUDA. Alignments are cut back to the
    true text length ``N``.
    """
    block_size = DEFAULT_STOP_CHECK_INTERVAL if stop_check_interval is None else stop_check_interval
    if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1:
        raise ValueError(f"stop_check_interval must be a positive int, got {stop_check_interval!r}")
    if use_graph is None:
        use_graph = memory.device.type == "cuda"
    loop = _graph_loop(decoder, memory, precision, prenet_dropout, block_size, length_bucket, use_graph)
    loop.load(memory, memory_lengths)
    result = decode(loop, max_steps, early_stopping, decoder.gate_threshold)
    return result._replace(alignments=result.alignments[:, :, :memory.size(1)].contiguous())
