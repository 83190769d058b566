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


def load_models(tacotron2: Optional[PathLike] = None, waveglow: Optional[PathLike] = None, *,
                pretrained: Optional[str] = None, need_waveglow: bool = True, cache_dir: Optional[PathLike] = None,
                progress: bool = True) -> LoadedModels:
    """Local files take precedence; whatever is not given comes from voice ``pretrained``.

    ``ValueError`` when neither a file nor a voice is given for a needed model.
    """
    from checkpoints import load_tacotron2, load_waveglow

    files = get_voice(pretrained) if pretrained is not None else None
    if tacotron2 is not None:
        taco, taco_source = load_tacotron2(tacotron2), f"file {os.fspath(tacotron2)}"
    elif files is not None:
        taco = load_pretrained(files[0], cache_dir, progress=progress)
        taco_source = f"pretrained {files[0].name} ({files[0].description})"
    else:
        raise ValueError("no Tacotron 2 weights: pass a checkpoint path or a pretrained voice name")
    glow, glow_source = None, None
    if need_waveglow:
        if waveglow is not None:
            glow, glow_source = load_waveglow(waveglow), f"file {os.fspath(waveglow)}"
        elif files is not None:
            glow = load_pretrained(files[1], cache_dir, progress=progress)
            glow_source = f"pretrained {files[1].name} ({files[1].description})"
        else:
            raise ValueError("no WaveGlow weights: pass a WaveGlow checkpoint path, a pretrained voice name, "
                             "or use the griffin-lim vocoder")
    return LoadedModels(taco, glow, taco_source, glow_source)
