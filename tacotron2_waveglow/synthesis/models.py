"""The models a synthesis run uses: local checkpoint files, else a named voice's."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Tuple, Union

import torch

from ..bundles import NVIDIA_TEXT, TextProcessor, Voice, get_voice

PathLike = Union[str, "os.PathLike[str]"]


@dataclass
class LoadedModels:
    """A Tacotron 2 model, an optional WaveGlow, where each came from (for messages), and the text processor."""

    tacotron2: torch.nn.Module
    waveglow: Optional[torch.nn.Module]
    tacotron2_source: str
    waveglow_source: Optional[str]
    text_processor: TextProcessor = NVIDIA_TEXT


def _load_file(model: str, path: PathLike) -> Tuple[torch.nn.Module, str]:
    from checkpoints import load_tacotron2, load_waveglow

    loader = load_tacotron2 if model == "tacotron2" else load_waveglow
    return loader(path), f"file {os.fspath(path)}"


def load_models(tacotron2: Optional[PathLike] = None, waveglow: Optional[PathLike] = None, *,
                voice: Optional[Union[str, Voice]] = None, need_waveglow: bool = True,
                cache_dir: Optional[PathLike] = None, progress: bool = True) -> LoadedModels:
    """Local files take precedence; whatever is not given comes from ``voice``.

    The text processor is the voice's when its Tacotron 2 is used, else
    NVIDIA's. ``ValueError`` when neither a file nor a voice provides a
    needed model (the built-in voice has no WaveGlow).
    """
    bundle = get_voice(voice) if voice is not None else None
    if tacotron2 is not None:
        taco, taco_source = _load_file("tacotron2", tacotron2)
        processor = NVIDIA_TEXT
    elif bundle is not None:
        taco = bundle.get_tacotron2(cache_dir=cache_dir, progress=progress)
        taco_source, processor = f"voice {bundle.name} ({bundle.description})", bundle.get_text_processor()
    else:
        raise ValueError("no tacotron2 weights: pass a checkpoint path or a voice name")
    glow, glow_source = None, None
    if need_waveglow:
        if waveglow is not None:
            glow, glow_source = _load_file("waveglow", waveglow)
        elif bundle is not None and bundle.waveglow_file is not None:
            glow = bundle.get_waveglow(cache_dir=cache_dir, progress=progress)
            glow_source = f"voice {bundle.name} ({bundle.waveglow_file.description})"
        elif bundle is not None:
            raise ValueError(f"the {bundle.name} voice has no WaveGlow: use --vocoder griffin-lim or --waveglow PATH")
        else:
            raise ValueError("no waveglow weights: pass a checkpoint path or a voice name, "
                             "or use the griffin-lim vocoder")
    return LoadedModels(taco, glow, taco_source, glow_source, processor)
