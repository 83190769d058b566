"""WaveGlow: a flow that turns Gaussian noise into audio, conditioned on a mel spectrogram."""
from __future__ import annotations

from typing import List, NamedTuple, Optional, Tuple, Union

import torch
from torch import nn

from .config import WaveGlowConfig
from .fast_infer import prepared_form
from .invertible_conv import Invertible1x1Conv
from .wn import WN

UPSAMPLE_KERNEL = 1024
HOP_LENGTH = 256


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

    def _split(self, audio: torch.Tensor, k: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """(conditioning half, transformed half) of ``audio`` ``(B, C, T)`` for flow ``k``."""
        n_half = audio.size(1) // 2
        first, second = audio[:, :n_half], audio[:, n_half:]
        return (second, first) if self._swapped(k) else (first, second)

    def _merge(self, kept: torch.Tensor, changed: torch.Tensor, k: int) -> torch.Tensor:
        return torch.cat([changed, kept] if self._swapped(k) else [kept, changed], 1)

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
            kept, changed = self._split(audio, k)
            n_half = kept.size(1)
            output = self.WN[k](kept, spect)
            log_s, b = output[:, n_half:], output[:, :n_half]
            changed = torch.exp(log_s) * changed + b
            log_s_list.append(log_s)
            audio = self._merge(kept, changed, k)
        early.append(audio)
        return WaveGlowOutput(torch.cat(early, 1), log_s_list, log_det_W_list)

    def _noise(self, z: Optional[torch.Tensor], start: int, size: int, shape: Tuple[int, int, int],
               like: torch.Tensor) -> torch.Tensor:
        if z is not None:
            return z[:, start:start + size].to(like.dtype)
        return torch.randn(shape[0], size, shape[2], device=like.device).to(like.dtype)

    def _check_z(self, z: torch.Tensor, batch: int, n_steps: int) -> None:
        expected = (batch, self.n_group, n_steps)
        if tuple(z.shape) != expected:
            raise ValueError(f"z must have shape (B, n_group, T_mel * 256 // n_group) = {expected}, "
                             f"got {tuple(z.shape)}")

    def _check_mel(self, mel: torch.Tensor) -> None:
        n_mel = self.upsample.in_channels
        if not torch.is_tensor(mel) or mel.dim() != 3 or mel.size(1) != n_mel or mel.size(2) == 0:
            shape = tuple(mel.shape) if torch.is_tensor(mel) else type(mel).__name__
            raise ValueError(f"mel must be (B, {n_mel}, T_mel) with at least one frame, got {shape}")
        if not mel.is_floating_point():
            raise TypeError(f"mel must be a floating-point tensor, got {mel.dtype}")

    def squeezed_condition(self, mel: torch.Tensor) -> torch.Tensor:
        """Mel ``(B, n_mel, T_mel)`` -> upsampled, cropped to ``T_mel * 256`` samples, squeezed:
        ``(B, n_mel * n_group, T_mel * 256 // n_group)``."""
        length = mel.size(2) * HOP_LENGTH
        return squeeze_groups(self.upsample(mel)[:, :, :length], self.n_group)

    @torch.no_grad()
    def infer(self, mel: torch.Tensor, sigma: float = 1.0, z: Optional[torch.Tensor] = None, *,
              method: str = "fast", compute_dtype: Optional[torch.dtype] = None,
              fold_upsampler: Optional[bool] = None) -> torch.Tensor:
        """Mel ``(B, n_mel, T_mel)`` -> audio ``(B, T_mel * 256)``.

        Without ``z`` the noise is drawn as NVIDIA's code does (fp32 on
        ``mel``'s device, then cast): first ``(B, n_remaining_channels, T_mel * 256 // n_group)``,
        then ``(B, n_early_size, ...)`` per early output, highest flow first.
        ``z`` ``(B, n_group, T_mel * 256 // n_group)`` replaces the noise; it
        uses the layout of :attr:`WaveGlowOutput.z`, so
        ``infer(mel, 1.0, forward(mel, audio).z)`` returns ``audio``. The
        latent used is ``sigma * z``.

        Args:
            method: ``"fast"`` (default) runs the prepared form of
                :mod:`waveglow.fast_infer` (weight norm folded, fused
                conditioning; same numbers to fp32 rounding);
                ``"faithful"`` runs the layer-by-layer reference computation.
            compute_dtype: ``"fast"`` only: ``torch.bfloat16`` (CPU/CUDA) or
                ``torch.float16`` (CUDA) runs the convolutions in that dtype
                with fp32 islands and returns fp32 audio (see
                :mod:`waveglow.precision` for the error); ``torch.int8`` (CPU)
                runs the WN products as int8 matrix products, compiled with
                ``torch.compile`` on first use (:mod:`waveglow.int8_infer`:
                the fastest CPU path, about 5 dB less accurate than bf16);
                ``None`` uses the model's dtype.
            fold_upsampler: ``"fast"`` only: ``True`` folds the mel upsampler
                into every layer's conditioning (:mod:`waveglow.phase_condition`;
                same numbers to fp32 rounding, half the conditioning work) at a
                one-off cost of about 6 s in fp32 (3 s in bf16) for a hub model
                on 2 CPU cores, repaid after about 10 s of audio; ``False`` does not; ``None``
                (default) reuses a folded form built by an earlier ``True`` call.
        """
        self._check_mel(mel)
        if method == "fast":
            with torch.inference_mode():
                audio = prepared_form(self, compute_dtype, fold_upsampler).infer(mel, sigma, z)
            return audio.clone()  # a normal tensor: callers may update it in place
        if method != "faithful":
            raise ValueError(f"method must be 'fast' or 'faithful', got {method!r}")
        if compute_dtype is not None:
            raise ValueError("compute_dtype needs method='fast'; the faithful path runs in the model's dtype")
        if fold_upsampler:
            raise ValueError("fold_upsampler needs method='fast'; the faithful path upsamples the mel as NVIDIA's")
        return self._infer_faithful(mel, sigma, z)

    def _infer_faithful(self, mel: torch.Tensor, sigma: float, z: Optional[torch.Tensor]) -> torch.Tensor:
        """The layer-by-layer inverse pass of NVIDIA's ``WaveGlow.infer``."""
        spect = self.squeezed_condition(mel)
        shape = (spect.size(0), self.n_group, spect.size(2))
        if z is not None:
            self._check_z(z, shape[0], shape[2])
        position = self.n_group - self.n_remaining_channels
        audio = sigma * self._noise(z, position, self.n_remaining_channels, shape, spect)
        for k in reversed(range(self.n_flows)):
            kept, changed = self._split(audio, k)
            n_half = kept.size(1)
            output = self.WN[k](kept, spect)
            log_s, b = output[:, n_half:], output[:, :n_half]
            changed = (changed - b) / torch.exp(log_s)
            audio = self.convinv[k].inverse(self._merge(kept, changed, k))
            if self.config.is_early(k):
                position -= self.n_early_size
                noise = self._noise(z, position, self.n_early_size, shape, spect)
                audio = torch.cat([sigma * noise, audio], 1)
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
