"""The built-in voice shipped in the package: where its checkpoint is and how to read it.

Building the voice (corpus, teacher, training recipe, report, export) lives in
the repository's ``recipes/builtin_voice`` folder, which is not installed;
using it needs only this checkpoint and the library.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Mapping, Union

import torch

from checkpoints import load_tacotron2
from tacotron2 import Tacotron2

if TYPE_CHECKING:
    from .bundles import TextProcessor

BUILTIN_DIR = Path(__file__).resolve().parent / "data"
"""Folder of the package's data files."""
BUILTIN_VOICE_NAME = "voice_tacotron2.pt"
"""File name of the shipped Tacotron 2 checkpoint in :data:`BUILTIN_DIR`."""
VOICE_KEY = "voice"
"""Checkpoint entry with the voice's description (corpus, recipe, training steps)."""
TEXT_PROCESSOR_KEY = "text_processor"
"""Entry of the voice's description with its text front end (``TextProcessor.to_dict()``); absent in a
voice that reads letters with the bundle's defaults."""
BUILTIN_END_PUNCTUATION = "."
"""Mark added to text pieces that do not end a sentence: the built-in voice was trained only on
sentences ending in ``. ! ?`` and does not stop without one (its bundle's text processor adds it)."""


def builtin_voice_path() -> Path:
    """Path of the shipped Tacotron 2 checkpoint (hub layout, fp16).

    Raises:
        FileNotFoundError: the package was installed without its data files.
    """
    path = BUILTIN_DIR / BUILTIN_VOICE_NAME
    if not path.is_file():
        raise FileNotFoundError(f"the built-in voice {path} is missing; reinstall the package with its "
                                "package data (pip install .)")
    return path


def load_builtin_voice(map_location: Union[str, torch.device] = "cpu") -> Tacotron2:
    """The built-in voice as a :class:`tacotron2.Tacotron2` in eval mode, fp32, on ``map_location``.

    It speaks 22050 Hz, 80-bin NVIDIA mels (``audio.TacotronSTFT`` defaults),
    so any mel vocoder for those works; Griffin-Lim needs no download.
    """
    return load_tacotron2(builtin_voice_path(), map_location=map_location)


def voice_info(path: Union[str, Path]) -> Dict[str, Any]:
    """The ``voice`` entry of a voice or progress file (teacher, recipe, iterations), or ``{}``."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    info = checkpoint.get(VOICE_KEY, {}) if isinstance(checkpoint, Mapping) else {}
    return dict(info) if isinstance(info, Mapping) else {}


def builtin_voice_info() -> Dict[str, Any]:
    """The ``voice`` entry of the shipped checkpoint (teacher, recipe, iterations), or ``{}``."""
    return voice_info(builtin_voice_path())


def recorded_text_processor(path: Union[str, Path], default: "TextProcessor") -> "TextProcessor":
    """The text front end a voice or progress file records under :data:`TEXT_PROCESSOR_KEY`, else ``default``.

    Raises:
        ValueError: the file records malformed settings.
    """
    from .bundles import TextProcessor

    entry = voice_info(path).get(TEXT_PROCESSOR_KEY)
    if entry is None:
        return default
    return TextProcessor.from_dict(entry, where=f"{path}'s {VOICE_KEY}.{TEXT_PROCESSOR_KEY}")


def builtin_text_processor(default: "TextProcessor") -> "TextProcessor":
    """The text front end the shipped voice file records (:func:`recorded_text_processor`), else ``default``."""
    try:
        path = builtin_voice_path()
    except FileNotFoundError:  # loading the voice itself reports the missing file
        return default
    return recorded_text_processor(path, default)


__all__ = ["BUILTIN_DIR", "BUILTIN_VOICE_NAME", "BUILTIN_END_PUNCTUATION", "VOICE_KEY", "builtin_voice_path",
           "load_builtin_voice", "builtin_voice_info", "builtin_text_processor", "TEXT_PROCESSOR_KEY", "voice_info",
           "recorded_text_processor"]
