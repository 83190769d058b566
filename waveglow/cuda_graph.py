"""WaveGlow inference replayed from CUDA graphs, one per mel shape (the ``"cuda_graph"`` backend).

At batch 1 on a fast GPU, WaveGlow's hundreds of small kernel launches cost
more than the arithmetic; capturing the fast form (:mod:`waveglow.fast_infer`)
once per ``(batch, frames)`` and replaying it removes the launch overhead. The
latent is drawn outside the graph in NVIDIA's order
(:func:`waveglow.noise.draw_latent`) and copied in, so a seeded call equals a
seeded fast call of the same precision up to rounding. :class:`GraphedWaveGlow`
keeps at most ``max_graphs`` captures (the oldest is dropped first).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Tuple

import torch

WARMUP_RUNS = 2


class _Capture:
    """One captured ``form.infer`` for mels of shape ``(batch, n_mel, frames)``."""

    def __init__(self, form, mel_shape: Tuple[int, int, int], z_shape: Tuple[int, int, int],
                 device: torch.device, dtype: torch.dtype) -> None:
        self.static_mel = torch.zeros(mel_shape, device=device, dtype=dtype)
        self.static_z = torch.zeros(z_shape, device=device)
        with torch.inference_mode():
            side = torch.cuda.Stream(device)
            side.wait_stream(torch.cuda.current_stream(device))
            with torch.cuda.stream(side):
                for _ in range(WARMUP_RUNS):
                    form.infer(self.static_mel, 1.0, self.static_z)
            torch.cuda.current_stream(device).wait_stream(side)
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self.static_audio = form.infer(self.static_mel, 1.0, self.static_z)

    @property
    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.static_mel, self.static_z, self.static_audio))

    def __call__(self, mel: torch.Tensor, sigma: float, z: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            self.static_mel.copy_(mel)
            self.static_z.copy_(sigma * z.float())
            self.graph.replay()
            audio = self.static_audio.clone()
        return audio.clone()  # a normal tensor outside inference mode


class GraphedWaveGlow:
    """Graph-replayed ``form.infer`` (a :class:`~waveglow.fast_infer.FastWaveGlow` on CUDA), per mel shape."""

    def __init__(self, form, max_graphs: int = 4) -> None:
        weight = form.model.upsample.weight
        if weight.device.type != "cuda":
            raise ValueError(f"backend='cuda_graph' needs the model on a CUDA device, it is on {weight.device}")
        self.form, self.max_graphs = form, max_graphs
        self.captures: "OrderedDict[Tuple[int, ...], _Capture]" = OrderedDict()

    @property
    def nbytes(self) -> int:
        """Static input and output buffers of the captures kept (graph memory pools not counted)."""
        return sum(c.nbytes for c in self.captures.values())

    def infer(self, mel: torch.Tensor, sigma: float, z: torch.Tensor) -> torch.Tensor:
        """Checked mel ``(B, n_mel, T_mel)`` and latent ``z`` -> audio ``(B, T_mel * 256)``."""
        key = tuple(mel.shape) + (mel.dtype,)
        capture = self.captures.pop(key, None)
        if capture is None:
            capture = _Capture(self.form, tuple(mel.shape), tuple(z.shape), mel.device, mel.dtype)
            while len(self.captures) >= self.max_graphs:
                self.captures.popitem(last=False)
        self.captures[key] = capture
        return capture(mel, sigma, z)
