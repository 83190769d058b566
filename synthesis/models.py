"""Load the Tacotron 2 / WaveGlow pair from local files or from the pretrained registry."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Union

import torch

from checkpoints.download import download_file
from checkpoints.registry import (BUILTIN_VOICE, BUILTIN_VOICE_DESCRIPTION, DEFAULT_VOICE, PretrainedFile,
                                  get_pretrained_file, get_voice)

PathLike = Union[str, os.PathLike]


def load_pretrained(entry: Union[str, PretrainedFile], cache_dir: Optional[PathLike] = None, *,
                    progress: bool = True, force_download: bool = False,
                    map_location: Union[str, torch.device] = "cpu") -> torch.nn.Module:
    """Download (once) and load the registry file ``entry`` as a model in eval mode.

    Raises ``checkpoints.download.DownloadError`` when the file cannot be
    fetched and ``CheckpointError`` when it does not load.
    """
    from checkpoints import load_tacotron2, load_waveglow

    entry = get_pretrained_file(entry) if isinstance(entry, str) else entry
    path = download_file(entry, cache_dir, force=force_download, progress=progress)
    loader = load_tacotron2 if entry.model == "tacotron2" else load_waveglow
    config = dict(entry.config) if entry.config is not None else None
    return loader(path, config=config, map_location=map_location)


@dataclass
class LoadedModels:
    """A Tacotron 2 model, an optional WaveGlow model, and where each came from (for messages)."""

    tacotron2: torch.nn.Module
    waveglow: Optional[torch.nn.Module]
    tacotron2_source: str
    waveglow_source: Optional[str]
    end_punctuation: Optional[str] = None  # what the voice needs at the end of each piece (Synthesizer option)


def _load_one(model: str, path: Optional[PathLike], entry: Optional[PretrainedFile],
              cache_dir: Optional[PathLike], progress: bool) -> "tuple[torch.nn.Module, str]":
    """``(model, where it came from)`` from a local file, else from the registry entry."""
    from checkpoints import load_tacotron2, load_waveglow

    if path is not None:
        loader = load_tacotron2 if model == "tacotron2" else load_waveglow
        return loader(path), f"file {os.fspath(path)}"
    if entry is not None:
        return load_pretrained(entry, cache_dir, progress=progress), f"pretrained {entry.name} ({entry.description})"
    hint = ", or use the griffin-lim vocoder" if model == "waveglow" else ""
    raise ValueError(f"no {model} weights: pass a checkpoint path or a pretrained voice name{hint}")


def load_models(tacotron2: Optional[PathLike] = None, waveglow: Optional[PathLike] = None, *,
                pretrained: Optional[str] = None, need_waveglow: bool = True, cache_dir: Optional[PathLike] = None,
                progress: bool = True) -> LoadedModels:
    """Local files take precedence; whatever is not given comes from voice ``pretrained``.

    ``pretrained=BUILTIN_VOICE`` takes the Tacotron 2 shipped in the package
    (it has no WaveGlow: pass ``waveglow`` or ``need_waveglow=False``).
    ``ValueError`` when neither a file nor a voice is given for a needed model.
    """
    if pretrained == BUILTIN_VOICE:
        return _load_builtin(tacotron2, waveglow, need_waveglow)
    taco_entry, glow_entry = get_voice(pretrained) if pretrained is not None else (None, None)
    taco, taco_source = _load_one("tacotron2", tacotron2, taco_entry, cache_dir, progress)
    glow, glow_source = _load_one("waveglow", waveglow, glow_entry, cache_dir, progress) if need_waveglow \
        else (None, None)
    return LoadedModels(taco, glow, taco_source, glow_source)


def _load_builtin(tacotron2: Optional[PathLike], waveglow: Optional[PathLike], need_waveglow: bool) -> LoadedModels:
    """The built-in Tacotron 2 (unless a file is given) with an optional local WaveGlow."""
    from voice.builtin import BUILTIN_END_PUNCTUATION, load_builtin_voice

    end_punctuation = None
    if tacotron2 is not None:
        taco, taco_source = _load_one("tacotron2", tacotron2, None, None, False)
    else:
        taco, taco_source = load_builtin_voice(), BUILTIN_VOICE_DESCRIPTION
        end_punctuation = BUILTIN_END_PUNCTUATION
    glow, glow_source = (None, None)
    if need_waveglow:
        if waveglow is None:
            raise ValueError(f"the {BUILTIN_VOICE} voice has no WaveGlow: use --vocoder griffin-lim or --waveglow PATH")
        glow, glow_source = _load_one("waveglow", waveglow, None, None, False)
    return LoadedModels(taco, glow, taco_source, glow_source, end_punctuation)


def default_voice(cache_dir: Optional[PathLike] = None) -> str:
    """The voice used when no weights are named.

    :data:`DEFAULT_VOICE` (NVIDIA's) when both its files are already in the
    download cache, else the built-in voice when the package ships it (no
    network needed), else :data:`DEFAULT_VOICE` (downloaded on first use).
    """
    from checkpoints.download import cached_path
    from voice.builtin import BUILTIN_DIR, BUILTIN_VOICE_NAME

    if all(cached_path(entry, cache_dir).is_file() for entry in get_voice(DEFAULT_VOICE)):
        return DEFAULT_VOICE
    if (BUILTIN_DIR / BUILTIN_VOICE_NAME).is_file():
        return BUILTIN_VOICE
    return DEFAULT_VOICE
