"""The built-in voice shipped in the package: where it is, how to load it, how it was exported."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

import torch

from checkpoints import load_tacotron2, save_checkpoint
from tacotron2 import Tacotron2

PathLike = Union[str, "os.PathLike[str]"]
BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
BUILTIN_VOICE_NAME = "voice_tacotron2.pt"
VOICE_KEY = "voice"
"""Checkpoint entry with the voice's description (corpus, recipe, training steps)."""
BUILTIN_END_PUNCTUATION = "."
"""Mark added to text pieces that do not end a sentence: the built-in voice was trained only on
sentences ending in ``. ! ?`` and does not stop without one (``Synthesizer(end_punctuation=...)``)."""


def builtin_voice_path() -> Path:
    """Path of the shipped Tacotron 2 checkpoint (hub layout, fp16).

    Raises:
        FileNotFoundError: the package was installed without its data files.
    """
    path = BUILTIN_DIR / BUILTIN_VOICE_NAME
    if not path.is_file():
        raise FileNotFoundError(f"the built-in voice {path} is missing; reinstall the package with its "
                                "package data (pip install .) or retrain it with python -m voice.train_recipe")
    return path


def load_builtin_voice(map_location: Union[str, torch.device] = "cpu") -> Tacotron2:
    """The built-in voice as a :class:`tacotron2.Tacotron2` in eval mode, fp32, on ``map_location``.

    It speaks 22050 Hz, 80-bin NVIDIA mels (``audio.TacotronSTFT`` defaults),
    so any mel vocoder for those works; Griffin-Lim needs no download.
    """
    return load_tacotron2(builtin_voice_path(), map_location=map_location)


def builtin_voice_info() -> Dict[str, Any]:
    """The ``voice`` entry of the shipped checkpoint (corpus, recipe, iterations), or ``{}``."""
    checkpoint = torch.load(builtin_voice_path(), map_location="cpu", weights_only=True)
    info = checkpoint.get(VOICE_KEY, {})
    return dict(info) if isinstance(info, Mapping) else {}


def export_voice(training_checkpoint: PathLike, out_path: PathLike, *,
                 info: Optional[Mapping[str, Any]] = None, max_decoder_steps: Optional[int] = None,
                 dtype: torch.dtype = torch.float16) -> Path:
    """Write a training checkpoint as a shippable hub-layout file (``dtype`` weights, no optimizer).

    Args:
        training_checkpoint: a checkpoint of ``python -m training`` (any layout
            :func:`checkpoints.load_tacotron2` reads).
        out_path: where to write ``{'state_dict', 'config', 'voice'}``.
        info: JSON-like description stored under ``'voice'``.
        max_decoder_steps: replaces the config's decoder step limit, if given.
        dtype: floating-point dtype of the stored weights.
    """
    model = load_tacotron2(training_checkpoint)
    if max_decoder_steps is not None:
        if not isinstance(max_decoder_steps, int) or max_decoder_steps < 1:
            raise ValueError(f"max_decoder_steps must be a positive int, got {max_decoder_steps!r}")
        config = model.config.to_dict()
        config["max_decoder_steps"] = max_decoder_steps
        model = _with_config(model, config)
    extra = {VOICE_KEY: dict(info)} if info else None
    return save_checkpoint(model, out_path, dtype=dtype, extra=extra)


def _with_config(model: Tacotron2, config: Dict[str, Any]) -> Tacotron2:
    from tacotron2 import Tacotron2Config
    rebuilt = Tacotron2(Tacotron2Config.from_dict(config))
    rebuilt.load_state_dict(model.state_dict())
    return rebuilt.eval()
