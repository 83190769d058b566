"""NVIDIA's own DeepLearningExamples code as a baseline row of the benchmarks.

Pass ``--nvidia-dle PATH`` to ``benchmarks/tacotron2_bench.py`` or
``benchmarks/waveglow_bench.py``, PATH being a checkout of
``DeepLearningExamples/PyTorch/SpeechSynthesis/Tacotron2`` (public; clone it
outside this repository). Its ``tacotron2/model.py`` and ``waveglow/model.py``
are loaded under private module names (``nvidia_dle_tacotron2_model``,
``nvidia_dle_waveglow_model``) so they cannot shadow this repository's
``tacotron2`` and ``waveglow`` packages; NVIDIA's ``tacotron2/model.py``
itself appends the checkout to ``sys.path`` to find its ``tacotron2_common``.
The models get exactly our weights (the parameter names are NVIDIA's), so a
seeded run of each does the same arithmetic.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Union

from torch import nn


def _load(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: --nvidia-dle must name DeepLearningExamples' "
                                "PyTorch/SpeechSynthesis/Tacotron2 folder")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def dle_tacotron2(folder: Union[str, Path], model: nn.Module) -> nn.Module:
    """NVIDIA's DLE ``Tacotron2`` with ``model``'s config and weights, in eval mode on ``model``'s device."""
    module = _load("nvidia_dle_tacotron2_model", Path(folder) / "tacotron2" / "model.py")
    theirs = module.Tacotron2(**model.config.to_dict())  # the 22 keyword arguments of NVIDIA's constructor
    theirs.load_state_dict(model.state_dict(), strict=True)
    weight = next(model.parameters())
    return theirs.to(device=weight.device, dtype=weight.dtype).eval()


def dle_waveglow(folder: Union[str, Path], model: nn.Module) -> nn.Module:
    """NVIDIA's DLE ``WaveGlow`` with ``model``'s config and weights, in eval mode on ``model``'s device."""
    module = _load("nvidia_dle_waveglow_model", Path(folder) / "waveglow" / "model.py")
    config = model.config.to_dict()
    theirs = module.WaveGlow(config["n_mel_channels"], config["n_flows"], config["n_group"], config["n_early_every"],
                             config["n_early_size"], dict(config["WN_config"]))
    theirs.load_state_dict(model.state_dict(), strict=True)
    weight = next(model.parameters())
    return theirs.to(device=weight.device, dtype=weight.dtype).eval()
