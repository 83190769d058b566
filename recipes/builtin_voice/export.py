"""Write a training checkpoint as the shippable built-in voice file."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

import torch

from checkpoints import load_tacotron2, save_checkpoint
from tacotron2 import Tacotron2, Tacotron2Config
from tacotron2_waveglow.builtin_voice import TEXT_PROCESSOR_KEY, VOICE_KEY
from tacotron2_waveglow.bundles import TextProcessor

PathLike = Union[str, "os.PathLike[str]"]


def export_voice(training_checkpoint: PathLike, out_path: PathLike, *,
                 info: Optional[Mapping[str, Any]] = None, max_decoder_steps: Optional[int] = None,
                 dtype: torch.dtype = torch.float16, text_processor: Optional[TextProcessor] = None) -> Path:
    """Write a training checkpoint as a shippable hub-layout file (``dtype`` weights, no optimizer).

    Args:
        training_checkpoint: a checkpoint of ``python -m tacotron2_waveglow.training``
            (any layout :func:`checkpoints.load_tacotron2` reads).
        out_path: where to write ``{'state_dict', 'config', 'voice'}``.
        info: JSON-like description stored under ``'voice'``.
        max_decoder_steps: replaces the config's decoder step limit, if given.
        dtype: floating-point dtype of the stored weights.
        text_processor: the text front end the voice was trained with, recorded in ``info`` so that the
            ``builtin`` bundle, the CLI and the pipeline give it text that way (a phoneme voice:
            ``TextProcessor(end_punctuation=".", arpabet=True)``); ``None`` records nothing (letters).
    """
    model = load_tacotron2(training_checkpoint)
    if max_decoder_steps is not None:
        if not isinstance(max_decoder_steps, int) or max_decoder_steps < 1:
            raise ValueError(f"max_decoder_steps must be a positive int, got {max_decoder_steps!r}")
        config = model.config.to_dict()
        config["max_decoder_steps"] = max_decoder_steps
        model = _with_config(model, config)
    info = dict(info or {})
    if text_processor is not None:
        info[TEXT_PROCESSOR_KEY] = text_processor.to_dict()
    extra = {VOICE_KEY: info} if info else None
    return save_checkpoint(model, out_path, dtype=dtype, extra=extra)


def _with_config(model: Tacotron2, config: Dict[str, Any]) -> Tacotron2:
    rebuilt = Tacotron2(Tacotron2Config.from_dict(config))
    rebuilt.load_state_dict(model.state_dict())
    return rebuilt.eval()
