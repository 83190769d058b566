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

The noise for the whole utterance is drawn once, up front, in NVIDIA's order
(:func:`waveglow.noise.draw_latent`), so a seeded chunked run reproduces the
seeded unchunked run. Chunking is an option of every inference configuration
(``chunk_frames``, ``overlap_frames``; :mod:`waveglow.inference`). Peak memory is that of one chunk plus
the latent and the output audio (``T_mel * 256`` floats each).
"""
from __future__ import annotations

import math
from typing import Callable, Iterator

import torch

from .config import HOP_LENGTH, UPSAMPLE_KERNEL

DEFAULT_CHUNK_FRAMES = 512


def wn_reach_steps(config) -> int:
    """Steps ``r`` on each side that one WN sees: ``(kernel_size - 1) / 2 * (2 ** n_layers - 1)``."""
    wn = config.WN_config
    return (wn.kernel_size - 1) // 2 * (2 ** wn.n_layers - 1)


def exact_overlap_frames(config) -> int:
    """Mel frames of context per side that make chunked inference equal unchunked (see module doc)."""
    samples = config.n_flows * wn_reach_steps(config) * config.n_group
    return UPSAMPLE_KERNEL // HOP_LENGTH - 1 + math.ceil(samples / HOP_LENGTH)


def iter_chunks(run: Callable[[torch.Tensor, float, torch.Tensor], torch.Tensor], mel: torch.Tensor, sigma: float,
                z: torch.Tensor, chunk_frames: int, overlap_frames: int) -> Iterator[torch.Tensor]:
    """Yield the audio of ``mel`` ``(B, n_mel, T_mel)`` chunk by chunk, ``(B, chunk_frames * 256)`` each.

    ``run(mel_slice, sigma, z_slice)`` is a backend's whole-mel inference (mel
    and latent already checked); ``z`` ``(B, n_group, T_mel * 256 // n_group)``
    is the latent of the whole utterance, so a seeded chunked run reproduces
    the seeded unchunked one. The last piece is shorter when ``chunk_frames``
    does not divide ``T_mel``; the pieces concatenate to ``(B, T_mel * 256)``.
    Used by :meth:`waveglow.prepared.PreparedWaveGlow.iter_chunks`.
    """
    n_frames = mel.size(2)
    steps_per_frame = z.size(2) // n_frames  # the preparer checked that n_group divides the hop length
    for start in range(0, n_frames, chunk_frames):
        stop = min(start + chunk_frames, n_frames)
        low, high = max(0, start - overlap_frames), min(n_frames, stop + overlap_frames)
        audio = run(mel[:, :, low:high], sigma, z[:, :, low * steps_per_frame:high * steps_per_frame])
        yield audio[:, (start - low) * HOP_LENGTH:(stop - low) * HOP_LENGTH].clone()
