"""WaveGlow: a flow that turns Gaussian noise into audio, conditioned on a mel spectrogram."""
from __future__ import annotations

import os
from typing import List, NamedTuple, Optional, Tuple, Union

import torch
from torch import nn

from .config import HOP_LENGTH, UPSAMPLE_KERNEL, WaveGlowConfig
from .coupling import affine_inverse, merge_halves, split_halves
from .invertible_conv import Invertible1x1Conv
from .noise import check_latent, draw_latent, latent_slices
from .prepared import PreparedWaveGlow
from .wn import WN



class WaveGlowOutput(NamedTuple):
    """Result of the training pass :meth:`WaveGlow.forward`.

    ``z`` ``(B, n_group, T // n_group)``: the early outputs in flow order, then
    the channels left after the last flow. ``log_s_list``: one ``(B, n_half, T // n_group)``
    per flow. ``log_det_W_list``: one fp32 scalar per flow.
    """

    z: torch.Tensor
    log_s_list: List[torch.Tensor]
    log_det_W_list: List[torch.Tensor]


def squeeze_groups(x: torch.Tensor, n_group: int) -> torch.Tensor:
    """``(B, C, T)`` -> ``(B, C * n_group, T // n_group)``, grouping consecutive samples.

    Channel ``c * n_group + j`` of step ``t`` is sample ``t * n_group + j`` of channel ``c``
    (NVIDIA's ``unfold``/``permute`` order); a remainder shorter than ``n_group`` is dropped.
    """
    batch, channels, length = x.shape
    n_steps = length // n_group
    x = x[:, :, :n_steps * n_group].reshape(batch, channels, n_steps, n_group)
    return x.permute(0, 1, 3, 2).reshape(batch, channels * n_group, n_steps)


class WaveGlow(nn.Module):
    """WaveGlow vocoder with the DLE hub model's parameters and numerics.

    Args:
        config: hyperparameters; ``None`` gives the hub defaults.
    """

    def __init__(self, config: Optional[WaveGlowConfig] = None) -> None:
        super().__init__()
        if config is None:
            config = WaveGlowConfig()
        if not isinstance(config, WaveGlowConfig):
            raise TypeError(f"config must be a WaveGlowConfig, got {type(config).__name__}")
        self.config = config
        self.n_flows = config.n_flows
        self.n_group = config.n_group
        self.n_early_every = config.n_early_every
        self.n_early_size = config.n_early_size
        self.n_remaining_channels = config.n_remaining_channels
        mels = config.n_mel_channels
        self.upsample = nn.ConvTranspose1d(mels, mels, UPSAMPLE_KERNEL, stride=HOP_LENGTH)
        self.WN = nn.ModuleList()
        self.convinv = nn.ModuleList()
        for k in range(config.n_flows):
            channels = config.flow_channels(k)
            self.convinv.append(Invertible1x1Conv(channels))
            self.WN.append(WN(channels // 2, mels * config.n_group, config.WN_config))

    def _swapped(self, k: int) -> bool:
        return self.config.alternate_halves and k % 2 == 1

    def _condition(self, mel: torch.Tensor, length: int) -> torch.Tensor:
        """Upsample ``mel`` ``(B, n_mel, T_mel)``, crop to ``length`` samples, squeeze to groups."""
        spect = self.upsample(mel)
        if spect.size(2) < length:
            raise ValueError(
                f"mel of {mel.size(2)} frames upsamples to {spect.size(2)} samples, fewer than the "
                f"{length} audio samples given; pass at least {length // HOP_LENGTH} frames")
        return squeeze_groups(spect[:, :, :length], self.n_group)

    def forward(self, mel: Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]],
                audio: Optional[torch.Tensor] = None) -> WaveGlowOutput:
        """Training pass: ``mel`` ``(B, n_mel, T_mel)``, ``audio`` ``(B, T)`` -> :class:`WaveGlowOutput`.

        NVIDIA's call style ``model((mel, audio))`` is accepted too.
        """
        if audio is None:
            if not isinstance(mel, (tuple, list)) or len(mel) != 2:
                raise TypeError("WaveGlow.forward needs (mel, audio): call model(mel, audio)")
            mel, audio = mel
        if audio.dim() != 2:
            raise ValueError(f"audio must be (B, T), got shape {tuple(audio.shape)}")
        spect = self._condition(mel, audio.size(1))
        audio = squeeze_groups(audio.unsqueeze(1), self.n_group)
        early, log_s_list, log_det_W_list = [], [], []
        for k in range(self.n_flows):
            if self.config.is_early(k):
                early.append(audio[:, :self.n_early_size])
                audio = audio[:, self.n_early_size:]
            audio, log_det_W = self.convinv[k](audio)
            log_det_W_list.append(log_det_W)
            kept, changed = split_halves(audio, self._swapped(k))
            n_half = kept.size(1)
            output = self.WN[k](kept, spect)
            log_s, b = output[:, n_half:], output[:, :n_half]
            changed = torch.exp(log_s) * changed + b
            log_s_list.append(log_s)
            audio = merge_halves(kept, changed, self._swapped(k))
        early.append(audio)
        return WaveGlowOutput(torch.cat(early, 1), log_s_list, log_det_W_list)

    def check_mel(self, mel: torch.Tensor) -> None:
        """Raise for a mel that is not ``(B, n_mel, T_mel)`` floating point with ``T_mel >= 1`` (every backend)."""
        n_mel = self.upsample.in_channels
        if not torch.is_tensor(mel) or mel.dim() != 3 or mel.size(1) != n_mel or mel.size(2) == 0:
            shape = tuple(mel.shape) if torch.is_tensor(mel) else type(mel).__name__
            raise ValueError(f"mel must be (B, {n_mel}, T_mel) with at least one frame, got {shape}")
        if not mel.is_floating_point():
            raise TypeError(f"mel must be a floating-point tensor, got {mel.dtype}")

    def latent_steps(self, n_frames: int) -> int:
        """Latent time steps ``T_mel * 256 // n_group`` of a mel of ``n_frames`` frames."""
        return n_frames * self.upsample.stride[0] // self.n_group

    def latent(self, mel: torch.Tensor, z: Optional[torch.Tensor]) -> torch.Tensor:
        """``z`` checked against ``mel``, or drawn in NVIDIA's order (:func:`waveglow.noise.draw_latent`)."""
        n_steps = self.latent_steps(mel.size(2))
        if z is None:
            return draw_latent(self.config, mel.size(0), n_steps, mel.device)
        check_latent(z, self.config, mel.size(0), n_steps)
        return z

    def squeezed_condition(self, mel: torch.Tensor) -> torch.Tensor:
        """Mel ``(B, n_mel, T_mel)`` -> upsampled, cropped to ``T_mel * 256`` samples, squeezed:
        ``(B, n_mel * n_group, T_mel * 256 // n_group)``."""
        length = mel.size(2) * HOP_LENGTH
        return squeeze_groups(self.upsample(mel)[:, :, :length], self.n_group)

    def prepare_inference(self, backend: Optional[str] = None, precision: str = "fp32",
                          fold_upsampler: Optional[bool] = None, chunk_frames: Optional[int] = None,
                          overlap_frames: Optional[int] = None,
                          cache_dir: Optional[Union[str, os.PathLike]] = None) -> PreparedWaveGlow:
        """This model prepared for one inference configuration: a :class:`PreparedWaveGlow` the caller holds.

        It reports ``nbytes`` and ``prepare_seconds`` and has :meth:`infer`
        like the model's. Prepare again after changing the weights. Words and
        combinations: :mod:`waveglow.inference`. ``cache_dir`` (int8 only)
        keeps the folded, quantized weights on disk for later processes
        (:mod:`waveglow.int8_cache`).
        """
        return PreparedWaveGlow(self, backend, precision, fold_upsampler, chunk_frames, overlap_frames,
                                cache_dir=cache_dir)

    def infer(self, mel: torch.Tensor, sigma: float = 1.0, z: Optional[torch.Tensor] = None, *,
              backend: Optional[str] = None, precision: str = "fp32", fold_upsampler: Optional[bool] = None,
              chunk_frames: Optional[int] = None, overlap_frames: Optional[int] = None) -> torch.Tensor:
        """Mel ``(B, n_mel, T_mel)`` -> audio ``(B, T_mel * 256)``.

        Without ``z`` the noise is drawn as NVIDIA's code does (fp32 on
        ``mel``'s device; :mod:`waveglow.noise`). ``z`` ``(B, n_group,
        T_mel * 256 // n_group)`` replaces it; it uses the layout of
        :attr:`WaveGlowOutput.z`, so ``infer(mel, 1.0, forward(mel, audio).z)``
        returns ``audio``. The latent used is ``sigma * z``.

        ``backend``, ``precision``, ``fold_upsampler``, ``chunk_frames``,
        ``overlap_frames``: the inference vocabulary (:mod:`waveglow.inference`,
        docs/performance.md). The default is the ``"fast"`` form in fp32,
        NVIDIA's numbers to rounding (``"reference"`` in training mode, under
        autocast, or for ``precision="fp32_exact"``). Each call prepares a
        transient :class:`PreparedWaveGlow` (folding weight norm: a pass over
        the weights); hold one from :meth:`prepare_inference` to pay that once.
        """
        return self.prepare_inference(backend, precision, fold_upsampler, chunk_frames, overlap_frames).infer(
            mel, sigma, z)

    @torch.no_grad()
    def infer_reference(self, mel: torch.Tensor, sigma: float, z: torch.Tensor) -> torch.Tensor:
        """NVIDIA's layer-by-layer inverse pass (the ``"reference"`` backend) for a checked mel and latent ``z``."""
        spect = self.squeezed_condition(mel)
        slices = iter(latent_slices(self.config))
        start, size = next(slices)
        audio = sigma * z[:, start:start + size].to(spect.dtype)
        for k in reversed(range(self.n_flows)):
            kept, changed = split_halves(audio, self._swapped(k))
            n_half = kept.size(1)
            output = self.WN[k](kept, spect)
            changed = affine_inverse(changed, output[:, :n_half], output[:, n_half:])
            audio = self.convinv[k].inverse(merge_halves(kept, changed, self._swapped(k)))
            if self.config.is_early(k):
                start, size = next(slices)
                audio = torch.cat([sigma * z[:, start:start + size].to(spect.dtype), audio], 1)
        return audio.permute(0, 2, 1).reshape(audio.size(0), -1)

    def remove_weightnorm(self, model: Optional["WaveGlow"] = None) -> "WaveGlow":
        """Fold weight norm into plain convolutions (faster inference); returns self.

        ``model`` exists for NVIDIA's call style ``waveglow = waveglow.remove_weightnorm(waveglow)``
        (a static function there); it must be this model itself.
        """
        if model is not None and model is not self:
            raise ValueError("remove_weightnorm(model) folds this model's own weights: pass the model itself "
                             "(waveglow.remove_weightnorm(waveglow)) or nothing")
        for wn in self.WN:
            wn.remove_weightnorm()
        return self
