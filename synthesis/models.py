"""Load the Tacotron 2 / WaveGlow pair from local files or from the pretrained registry."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Union

import torch

from checkpoints.download import download_file
from checkpoints.registry import PretrainedFile, get_pretrained_file, get_voice

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

    ``ValueError`` when neither a file nor a voice is given for a needed model.
    """
    taco_entry, glow_entry = get_voice(pretrained) if pretrained is not None else (None, None)
    taco, taco_source = _load_one("tacotron2", tacotron2, taco_entry, cache_dir, progress)
    glow, glow_source = _load_one("waveglow", waveglow, glow_entry, cache_dir, progress) if need_waveglow \
        else (None, None)
    return LoadedModels(taco, glow, taco_source, glow_source)
