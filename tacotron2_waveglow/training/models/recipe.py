"""What the CLI needs per model: defaults, config, model, task and pretrained loader."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Sequence

import torch

from ..data.filelist import Utterance
from ..data.mel import MelExtractor
from ..task import TrainingTask


@dataclass
class DataSpec:
    """Validated rows and data options handed to a recipe's ``make_task``."""

    train_rows: Sequence[Utterance]
    val_rows: Sequence[Utterance]
    mels: MelExtractor
    text_cleaners: Sequence[str] = ("english_cleaners",)
    load_mel_from_disk: bool = False
    segment_length: int = 8000
    sigma: float = 1.0
    seed: int = 1234
    output_dir: Optional[str] = None
    #: Tacotron 2 only, opt-in (0 = off, NVIDIA's recipe): weight and width of
    #: :func:`training.guided_attention.guided_attention_loss` added to the loss.
    guided_attention_weight: float = 0.0
    guided_attention_sigma: float = 0.2
    #: Tacotron 2 only, opt-in: a folder of known alignments (:mod:`training.data.attention_targets`);
    #: the guided term is then centred on them, ``attention_target_sigma`` symbols wide.
    attention_targets: Optional[str] = None
    attention_target_sigma: float = 1.0
    #: Tacotron 2 only, opt-in (1 = NVIDIA's): ``pos_weight`` of the gate BCE.
    gate_positive_weight: float = 1.0
    #: Tacotron 2 only, opt-in (0 = NVIDIA's teacher forcing): scheduled sampling, the probability that a
    #: training step's decoder input is its own previous frame (``Tacotron2.forward(feedback=...)``).
    scheduled_sampling: float = 0.0


@dataclass(frozen=True)
class ModelRecipe:
    """One trainable model.

    ``defaults`` are NVIDIA DLE's training hyperparameters for it (keys of
    :class:`training.config.TrainerConfig`); ``make_config(overrides)`` builds
    the model config from the hub defaults updated by ``overrides``;
    ``load_pretrained(path)`` reads any published layout.
    """

    name: str
    defaults: Dict[str, Any]
    make_config: Callable[[Mapping[str, Any]], Any]
    make_model: Callable[[Any], torch.nn.Module]
    make_task: Callable[[torch.nn.Module, DataSpec], TrainingTask]
    load_pretrained: Callable[[Any], torch.nn.Module]
    require_text: bool = True
    extra_defaults: Dict[str, Any] = field(default_factory=dict)


def merged_config_dict(defaults: Mapping[str, Any], overrides: Mapping[str, Any], model_name: str) -> Dict[str, Any]:
    """``defaults`` updated by ``overrides`` (nested dicts merged); unknown keys raise ``ValueError``."""
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ValueError(f"unknown {model_name} config field(s) {unknown}; known: {sorted(defaults)}")
    merged = dict(defaults)
    for key, value in overrides.items():
        if isinstance(merged[key], Mapping) and isinstance(value, Mapping):
            merged[key] = merged_config_dict(merged[key], value, f"{model_name}.{key}")
        else:
            merged[key] = value
    return merged
