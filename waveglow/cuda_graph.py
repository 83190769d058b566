"""WaveGlow inference replayed from a CUDA graph (fixed batch size and mel length).

At batch 1 on a fast GPU, WaveGlow's hundreds of small kernel launches cost
more than the arithmetic; capturing the prepared fast path
(:mod:`waveglow.fast_infer`) once and replaying it removes the launch
overhead. The latent is drawn outside the graph with
:func:`waveglow.chunked.draw_latent` (the order of :meth:`WaveGlow.infer`)
and copied in, so a seeded call equals a seeded ``model.infer`` of the same
compute dtype up to rounding.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from .chunked import draw_latent
from .fast_infer import PreparedWaveGlow, prepared_form
from .model import HOP_LENGTH

WARMUP_RUNS = 2


class GraphedWaveGlow:
    """Captured ``model.infer`` for mels of shape ``(batch, n_mel, frames)`` on CUDA.

    Args:
        model: a :class:`~waveglow.WaveGlow` on a CUDA device, in eval mode.
        batch: batch size of every call.
        frames: mel frames of every call.
        compute_dtype: as for :meth:`WaveGlow.infer` (``torch.float16`` for the fast path).
        fold_upsampler: as for :meth:`WaveGlow.infer`.

    Calling it with a changed model (new weights) captures the graph again.
    """

    def __init__(self, model: nn.Module, batch: int, frames: int,
                 compute_dtype: Optional[torch.dtype] = None, fold_upsampler: Optional[bool] = None) -> None:
        device = model.upsample.weight.device
        if device.type != "cuda":
            raise ValueError(f"GraphedWaveGlow needs the model on a CUDA device, got {device}; "
                             "on CPU call model.infer directly")
        self.model = model
        self.compute_dtype = compute_dtype
        self.fold_upsampler = fold_upsampler
        self.n_steps = frames * HOP_LENGTH // model.n_group
        dtype = model.upsample.weight.dtype
        self.static_mel = torch.zeros(batch, model.config.n_mel_channels, frames, device=device, dtype=dtype)
        self.static_z = torch.zeros(batch, model.n_group, self.n_steps, device=device)
        self._capture()

    def _capture(self) -> None:
        with torch.inference_mode():
            self.prepared: PreparedWaveGlow = prepared_form(self.model, self.compute_dtype, self.fold_upsampler)
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(WARMUP_RUNS):
                    self.prepared.infer(self.static_mel, 1.0, self.static_z)
            torch.cuda.current_stream().wait_stream(side)
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self.static_audio = self.prepared.infer(self.static_mel, 1.0, self.static_z)

    def __call__(self, mel: torch.Tensor, sigma: float = 1.0, z: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Mel ``(batch, n_mel, frames)`` -> audio ``(batch, frames * 256)``, as ``model.infer``."""
        if tuple(mel.shape) != tuple(self.static_mel.shape):
            raise ValueError(f"this graph was captured for mels of shape {tuple(self.static_mel.shape)}, "
                             f"got {tuple(mel.shape)}; build another GraphedWaveGlow for that shape")
        if not self.prepared.is_current():
            self._capture()
        batch = mel.size(0)
        if z is None:
            z = draw_latent(self.model, batch, self.n_steps, mel.device)
        else:
            self.model._check_z(z, batch, self.n_steps)
        with torch.inference_mode():
            self.static_mel.copy_(mel)
            self.static_z.copy_(sigma * z.float())
            self.graph.replay()
            audio = self.static_audio.clone()
        return audio.clone()
