"""Hyperparameters of WaveGlow, with NVIDIA's field names."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Dict, Mapping

#: Mel upsampler (ConvTranspose1d) kernel and stride: NVIDIA's WaveGlow, 256 audio samples per mel frame.
UPSAMPLE_KERNEL = 1024
HOP_LENGTH = 256

_WN_FIELDS = ("n_layers", "kernel_size", "n_channels")
_WAVEGLOW_FIELDS = ("n_mel_channels", "n_flows", "n_group", "n_early_every", "n_early_size", "WN_config")


def _require_positive_int(owner: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{owner}.{name} must be an int, got {value!r} ({type(value).__name__})")
    if value <= 0:
        raise ValueError(f"{owner}.{name} must be positive, got {value}")


def _reject_unknown(owner: str, given: Mapping[str, Any], known: tuple) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ValueError(f"unknown {owner} field(s) {unknown}; expected a subset of {list(known)}")


@dataclass(frozen=True)
class WNConfig:
    """The WaveNet-like coupling network of every flow (``WN_config`` in NVIDIA's code).

    Args:
        n_layers: dilated convolution layers (dilation ``2**i`` for layer ``i``).
        kernel_size: odd kernel width of the dilated convolutions.
        n_channels: even width of the residual stream.
    """

    n_layers: int = 8
    kernel_size: int = 3
    n_channels: int = 512

    def __post_init__(self) -> None:
        for name in _WN_FIELDS:
            _require_positive_int("WN_config", name, getattr(self, name))
        if self.kernel_size % 2 != 1:
            raise ValueError(f"WN_config.kernel_size must be odd, got {self.kernel_size}")
        if self.n_channels % 2 != 0:
            raise ValueError(f"WN_config.n_channels must be even, got {self.n_channels}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "WNConfig":
        """Build from NVIDIA's ``WN_config`` dictionary; unknown keys raise ``ValueError``."""
        if isinstance(data, WNConfig):
            return data
        if not isinstance(data, Mapping):
            raise TypeError(f"WN_config must be a mapping, got {type(data).__name__}")
        _reject_unknown("WN_config", data, _WN_FIELDS)
        return cls(**dict(data))

    def to_dict(self) -> Dict[str, int]:
        """``{'n_layers', 'kernel_size', 'n_channels'}``, NVIDIA's ``WN(**WN_config)`` keywords."""
        return {name: getattr(self, name) for name in _WN_FIELDS}


@dataclass(frozen=True)
class WaveGlowConfig:
    """WaveGlow hyperparameters; the defaults are the NVIDIA hub model's (512 WN channels).

    Args:
        n_mel_channels: mel bins of the conditioning spectrogram.
        n_flows: number of flows (1x1 convolution + affine coupling).
        n_group: audio samples squeezed into one time step (even).
        n_early_every: a flow index multiple of this (except 0) emits early channels.
        n_early_size: channels emitted at each early output (even).
        WN_config: the coupling network, a :class:`WNConfig` (a dict is converted).
        alternate_halves: the coupling of odd flows transforms the first half
            and conditions on the second, as NVIDIA/waveglow's ``glow_old``
            model does. Not a parameter of NVIDIA's hub ``WaveGlow``:
            :meth:`to_dict` writes it only when ``True``.
    """

    n_mel_channels: int = 80
    n_flows: int = 12
    n_group: int = 8
    n_early_every: int = 4
    n_early_size: int = 2
    WN_config: WNConfig = field(default_factory=WNConfig)
    alternate_halves: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.WN_config, Mapping):
            object.__setattr__(self, "WN_config", WNConfig.from_dict(self.WN_config))
        if not isinstance(self.WN_config, WNConfig):
            raise TypeError(f"WaveGlowConfig.WN_config must be a WNConfig or dict, got {self.WN_config!r}")
        for name in _WAVEGLOW_FIELDS[:-1]:
            _require_positive_int("WaveGlowConfig", name, getattr(self, name))
        if not isinstance(self.alternate_halves, bool):
            raise TypeError(f"WaveGlowConfig.alternate_halves must be a bool, got {self.alternate_halves!r}")
        if self.n_group % 2 != 0:
            raise ValueError(f"WaveGlowConfig.n_group must be even, got {self.n_group}")
        if self.n_early_size % 2 != 0:
            raise ValueError(f"WaveGlowConfig.n_early_size must be even, got {self.n_early_size}")
        if self.n_remaining_channels < 2:
            raise ValueError(
                f"n_group={self.n_group} leaves {self.n_remaining_channels} channel(s) after "
                f"{self.n_early_outputs} early outputs of n_early_size={self.n_early_size}; "
                "increase n_group or n_early_every, or reduce n_early_size")

    @classmethod
    def original_256(cls, **overrides: Any) -> "WaveGlowConfig":
        """The NVIDIA/waveglow repository's published models (``waveglow_256channels*.pt``)."""
        wn = WNConfig(n_layers=8, kernel_size=3, n_channels=256)
        return cls(**{"WN_config": wn, **overrides})

    @property
    def n_early_outputs(self) -> int:
        """How many flows emit early channels."""
        return len([k for k in range(1, self.n_flows) if k % self.n_early_every == 0])

    @property
    def n_remaining_channels(self) -> int:
        """Channels that go through the last flow."""
        return self.n_group - self.n_early_size * self.n_early_outputs

    def flow_channels(self, k: int) -> int:
        """Channels entering flow ``k`` (after the early outputs before it)."""
        return self.n_group - self.n_early_size * len([j for j in range(1, k + 1) if j % self.n_early_every == 0])

    def is_early(self, k: int) -> bool:
        """Whether ``n_early_size`` channels leave just before flow ``k``."""
        return k > 0 and k % self.n_early_every == 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "WaveGlowConfig":
        """Build from a checkpoint's ``config`` (NVIDIA's ``WaveGlow(**config)`` keywords)."""
        if not isinstance(data, Mapping):
            raise TypeError(f"a WaveGlow config must be a mapping, got {type(data).__name__}")
        known = tuple(f.name for f in fields(cls))
        _reject_unknown("WaveGlowConfig", data, known)
        return cls(**dict(data))

    def to_dict(self) -> Dict[str, Any]:
        """NVIDIA's ``WaveGlow(**config)`` keywords, ``WN_config`` as a dict.

        ``alternate_halves`` is added only when ``True`` (a ``glow_old`` model,
        which NVIDIA's hub class cannot run correctly).
        """
        out: Dict[str, Any] = {name: getattr(self, name) for name in _WAVEGLOW_FIELDS[:-1]}
        out["WN_config"] = self.WN_config.to_dict()
        if self.alternate_halves:
            out["alternate_halves"] = True
        return out
