"""Long-audio WaveGlow: synthesize a long mel in chunks with bounded memory.

Why an overlap of :func:`exact_overlap_frames` frames makes chunking exact:

* The upsampler (``ConvTranspose1d``, kernel 1024, stride 256) gives the
  samples of frame ``f`` from mel frames ``f - 3 .. f`` only, so a chunk's
  first 3 frames of conditioning are wrong (their left neighbours are cut off).
* In the inverse pass, flow ``k`` changes step ``t`` using its WN's output
  at ``t``, which sees steps ``t - r .. t + r`` with
  ``r = (kernel_size - 1) / 2 * (2 ** n_layers - 1)`` (dilations ``1, 2, 4, ...``);
  the 1x1 convolutions mix channels only. Errors at a chunk's edges (cut
  conditioning, zero padding where the utterance has audio) therefore travel
  at most ``n_flows * r`` steps, ``n_flows * r * n_group`` samples, inward.

So with ``3 + ceil(n_flows * r * n_group / 256)`` frames of context on each
side, the kept middle of every chunk is the unchunked result up to fp32
rounding. For the hub models (12 flows, 8 layers, kernel 3, group 8:
``r = 255``, 24480 samples) that is 99 frames per side; for a chunk of
``N`` frames the work is ``(N + 198) / N`` times the unchunked work, so use
long chunks (the default 512 frames: 1.4x). A smaller ``overlap_frames``
trades exactness for speed; ``benchmarks/waveglow_bench.py`` reports the
error it costs.

The noise for the whole utterance is drawn once, up front, in the order of
:meth:`WaveGlow.infer` (see :func:`draw_latent`), so a seeded chunked run
reproduces the seeded unchunked run. Peak memory is that of one chunk plus
the latent and the output audio (``T_mel * 256`` floats each).
"""
from __future__ import annotations

import math
from typing import Iterator, Optional

import torch
from torch import nn

from .fast_infer import prepared_form
from .model import HOP_LENGTH, UPSAMPLE_KERNEL

DEFAULT_CHUNK_FRAMES = 512


def wn_reach_steps(config) -> int:
    """Steps ``r`` on each side that one WN sees: ``(kernel_size - 1) / 2 * (2 ** n_layers - 1)``."""
    wn = config.WN_config
    return (wn.kernel_size - 1) // 2 * (2 ** wn.n_layers - 1)


def exact_overlap_frames(config) -> int:
    """Mel frames of context per side that make chunked inference equal unchunked (see module doc)."""
    samples = config.n_flows * wn_reach_steps(config) * config.n_group
    return UPSAMPLE_KERNEL // HOP_LENGTH - 1 + math.ceil(samples / HOP_LENGTH)


def draw_latent(model: nn.Module, batch: int, n_steps: int, device: torch.device) -> torch.Tensor:
    """Standard normal ``z`` ``(B, n_group, n_steps)`` fp32, drawn in :meth:`WaveGlow.infer`'s order.

    ``infer(mel, sigma, z=draw_latent(...))`` after ``torch.manual_seed(s)``
    equals ``infer(mel, sigma)`` after the same seed: the remaining channels
    are drawn first, then ``n_early_size`` channels per early output, highest
    flow first, each placed where :attr:`WaveGlowOutput.z` keeps it.
    """
    config = model.config
    z = torch.empty(batch, config.n_group, n_steps, device=device)
    position = config.n_group - config.n_remaining_channels
    z[:, position:] = torch.randn(batch, config.n_remaining_channels, n_steps, device=device)
    for k in reversed(range(config.n_flows)):
        if config.is_early(k):
            position -= config.n_early_size
            z[:, position:position + config.n_early_size] = torch.randn(
                batch, config.n_early_size, n_steps, device=device)
    return z


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def iter_chunked(model: nn.Module, mel: torch.Tensor, sigma: float = 1.0, z: Optional[torch.Tensor] = None, *,
                 chunk_frames: int = DEFAULT_CHUNK_FRAMES, overlap_frames: Optional[int] = None,
                 compute_dtype: Optional[torch.dtype] = None,
                 fold_upsampler: Optional[bool] = None) -> Iterator[torch.Tensor]:
    """Yield the audio of ``mel`` ``(B, n_mel, T_mel)`` chunk by chunk, ``(B, chunk_frames * 256)`` each.

    The last piece is shorter when ``chunk_frames`` does not divide ``T_mel``;
    the pieces concatenate to ``(B, T_mel * 256)``.

    Args:
        model: a :class:`~waveglow.WaveGlow`.
        sigma: scale of the latent.
        z: the latent ``(B, n_group, T_mel * 256 // n_group)``; ``None`` draws it
            for the whole utterance when the first piece is requested
            (:func:`draw_latent`).
        chunk_frames: mel frames synthesized per piece.
        overlap_frames: context frames on each side; ``None`` gives
            :func:`exact_overlap_frames` (exact to fp32 rounding).
        compute_dtype: as for :meth:`WaveGlow.infer` (``torch.bfloat16`` ...).
        fold_upsampler: as for :meth:`WaveGlow.infer`.
    """
    _check_int("chunk_frames", chunk_frames, 1)
    overlap = exact_overlap_frames(model.config) if overlap_frames is None else overlap_frames
    _check_int("overlap_frames", overlap, 0)
    if mel.dim() != 3:
        raise ValueError(f"mel must be (B, n_mel, T_mel), got shape {tuple(mel.shape)}")
    if HOP_LENGTH % model.n_group != 0:
        raise ValueError(f"chunking needs n_group to divide {HOP_LENGTH}, got n_group={model.n_group}")
    batch, n_frames = mel.size(0), mel.size(2)
    steps_per_frame = HOP_LENGTH // model.n_group
    if z is None:
        z = draw_latent(model, batch, n_frames * steps_per_frame, mel.device)
    else:
        model._check_z(z, batch, n_frames * steps_per_frame)
    for start in range(0, n_frames, chunk_frames):
        stop = min(start + chunk_frames, n_frames)
        low, high = max(0, start - overlap), min(n_frames, stop + overlap)
        with torch.inference_mode():
            prepared = prepared_form(model, compute_dtype, fold_upsampler)
            audio = prepared.infer(mel[:, :, low:high], sigma,
                                   z[:, :, low * steps_per_frame:high * steps_per_frame])
        yield audio[:, (start - low) * HOP_LENGTH:(stop - low) * HOP_LENGTH].clone()


def infer_chunked(model: nn.Module, mel: torch.Tensor, sigma: float = 1.0, z: Optional[torch.Tensor] = None, *,
                  chunk_frames: int = DEFAULT_CHUNK_FRAMES, overlap_frames: Optional[int] = None,
                  compute_dtype: Optional[torch.dtype] = None,
                  fold_upsampler: Optional[bool] = None) -> torch.Tensor:
    """Audio ``(B, T_mel * 256)`` of ``mel`` ``(B, n_mel, T_mel)`` by :func:`iter_chunked`, concatenated."""
    pieces = iter_chunked(model, mel, sigma, z, chunk_frames=chunk_frames, overlap_frames=overlap_frames,
                          compute_dtype=compute_dtype, fold_upsampler=fold_upsampler)
    return torch.cat(list(pieces), 1)
