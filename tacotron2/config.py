"""Hyperparameters of Tacotron 2, with NVIDIA's field names and hub defaults."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Dict, Mapping

_POSITIVE_INTS = (
    "n_mel_channels", "n_symbols", "symbols_embedding_dim", "encoder_kernel_size",
    "encoder_n_convolutions", "encoder_embedding_dim", "attention_rnn_dim", "attention_dim",
    "attention_location_n_filters", "attention_location_kernel_size", "n_frames_per_step",
    "decoder_rnn_dim", "prenet_dim", "max_decoder_steps", "postnet_embedding_dim",
    "postnet_kernel_size", "postnet_n_convolutions",
)
_ODD_KERNELS = ("encoder_kernel_size", "attention_location_kernel_size", "postnet_kernel_size")
_DROPOUTS = ("p_attention_dropout", "p_decoder_dropout")
_BOOLS = ("mask_padding", "decoder_no_early_stopping")
#: Most frames one decoder step may predict (``n_frames_per_step``).
MAX_FRAMES_PER_STEP = 16


@dataclass(frozen=True)
class Tacotron2Config:
    """Constructor arguments of NVIDIA's ``Tacotron2``; defaults are the torch.hub model's.

    ``to_dict()`` gives exactly the 22 keyword arguments NVIDIA's
    ``Tacotron2(**config)`` takes, and ``from_dict`` reads the ``config`` entry
    of a hub/DLE checkpoint. NVIDIA's code (DLE and NVIDIA/tacotron2, whose
    hparams say "currently only 1 is supported") runs only
    ``n_frames_per_step=1``; here ``r = n_frames_per_step > 1`` (at most
    :data:`MAX_FRAMES_PER_STEP`) is an opt-in for training small models (each
    decoder step predicts ``r`` frames and reads the previous step's ``r``,
    as the original Tacotron's reduction factor), run by the reference
    backend only (:mod:`tacotron2.inference`).
    """

    mask_padding: bool = True
    n_mel_channels: int = 80
    n_symbols: int = 148
    symbols_embedding_dim: int = 512
    encoder_kernel_size: int = 5
    encoder_n_convolutions: int = 3
    encoder_embedding_dim: int = 512
    attention_rnn_dim: int = 1024
    attention_dim: int = 128
    attention_location_n_filters: int = 32
    attention_location_kernel_size: int = 31
    n_frames_per_step: int = 1
    decoder_rnn_dim: int = 1024
    prenet_dim: int = 256
    max_decoder_steps: int = 1000
    gate_threshold: float = 0.5
    p_attention_dropout: float = 0.1
    p_decoder_dropout: float = 0.1
    postnet_embedding_dim: int = 512
    postnet_kernel_size: int = 5
    postnet_n_convolutions: int = 5
    decoder_no_early_stopping: bool = False

    def __post_init__(self) -> None:
        for name in _BOOLS:
            _check_bool(name, getattr(self, name))
        for name in _POSITIVE_INTS:
            _check_positive_int(name, getattr(self, name))
        for name in _ODD_KERNELS:
            if getattr(self, name) % 2 != 1:
                raise ValueError(f"{name} must be odd so convolutions keep the length, got {getattr(self, name)}")
        for name in _DROPOUTS:
            _check_probability(name, getattr(self, name), upper_inclusive=False)
        _check_probability("gate_threshold", self.gate_threshold, upper_inclusive=True)
        self._check_consistency()

    def _check_consistency(self) -> None:
        if self.n_frames_per_step > MAX_FRAMES_PER_STEP:
            raise ValueError(
                f"n_frames_per_step={self.n_frames_per_step} is more than {MAX_FRAMES_PER_STEP} frames per "
                "decoder step; NVIDIA's models use 1, small ones 2 to 4")
        if self.encoder_embedding_dim != self.symbols_embedding_dim:
            raise ValueError(
                f"encoder_embedding_dim ({self.encoder_embedding_dim}) must equal symbols_embedding_dim "
                f"({self.symbols_embedding_dim}): the encoder convolutions read the embedding directly")
        if self.encoder_embedding_dim % 2:
            raise ValueError(
                f"encoder_embedding_dim must be even (a bidirectional LSTM of half that size), "
                f"got {self.encoder_embedding_dim}")
        if self.postnet_n_convolutions < 2:
            raise ValueError(f"postnet_n_convolutions must be at least 2, got {self.postnet_n_convolutions}")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Tacotron2Config":
        """Build from a checkpoint's ``config`` dict; fields it lacks keep the hub defaults.

        Raises ``ValueError`` naming any key that is not a ``Tacotron2`` argument.
        """
        if not isinstance(d, Mapping):
            raise TypeError(f"a Tacotron 2 config must be a mapping, got {type(d).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(str(k) for k in d if k not in names)
        if unknown:
            raise ValueError(f"unknown Tacotron 2 config keys {unknown}; valid keys are {sorted(names)}")
        return cls(**dict(d))

    def to_dict(self) -> Dict[str, Any]:
        """The 22 keyword arguments of NVIDIA's ``Tacotron2(**config)``."""
        return dataclasses.asdict(self)

    def replace(self, **overrides: Any) -> "Tacotron2Config":
        """A copy with ``overrides`` applied (and validated)."""
        return dataclasses.replace(self, **overrides)

    def differences(self, other: "Tacotron2Config") -> Dict[str, tuple]:
        """``{field: (self value, other value)}`` for every field that differs."""
        mine, theirs = self.to_dict(), other.to_dict()
        return {k: (mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]}


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be a bool, got {value!r}")


def _check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _check_probability(name: str, value: Any, upper_inclusive: bool) -> None:
    ok_type = isinstance(value, (int, float)) and not isinstance(value, bool)
    in_range = ok_type and 0.0 <= value and (value <= 1.0 if upper_inclusive else value < 1.0)
    if not in_range:
        bound = "[0, 1]" if upper_inclusive else "[0, 1)"
        raise ValueError(f"{name} must be a number in {bound}, got {value!r}")
