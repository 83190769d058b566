"""NVIDIA's published Tacotron 2 and WaveGlow weights: where they are and how to read them.

Every entry says what is known about a file and, honestly, what is not: the
sizes and SHA-256 digests of NVIDIA's files are not published next to them,
so they are ``None`` ("unknown") here and a download is then verified only
for being complete (the server's ``Content-Length``) and loadable.

Sources (read from NVIDIA's code and READMEs):

* DLE torch.hub entry points ``PyTorch/SpeechSynthesis/Tacotron2/tacotron2/entrypoints.py``
  and ``waveglow/entrypoints.py`` of NVIDIA/DeepLearningExamples: the NGC
  files ``nvidia_tacotron2pyt_fp32/fp16_20190427`` and
  ``nvidia_waveglowpyt_fp32/fp16_20190427`` (hub layout, config stored).
* NVIDIA/tacotron2 README: ``tacotron2_statedict.pt`` and the WaveGlow model
  it pairs with (``waveglow_256channels_universe_v5.pt``), both on Google Drive.
* NVIDIA/waveglow README: its "published model" on Google Drive.

Google Drive serves large files only after a confirmation page, so those
entries are marked ``direct=False``: a download attempt that receives the web
page instead of the file fails with instructions to fetch it in a browser and
place it in the cache.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

#: Original NVIDIA/waveglow hyperparameters of the published 256-channel models (no config in the file).
WAVEGLOW_256_CONFIG: Mapping[str, Any] = {
    "n_mel_channels": 80, "n_flows": 12, "n_group": 8, "n_early_every": 4, "n_early_size": 2,
    "WN_config": {"n_layers": 8, "n_channels": 256, "kernel_size": 3},
}


@dataclass(frozen=True)
class PretrainedFile:
    """One published checkpoint file.

    Attributes:
        name: registry key, e.g. ``"tacotron2-dle-fp32"``.
        model: ``"tacotron2"`` or ``"waveglow"``.
        url: where the file is downloaded from.
        filename: the name it gets in the download cache.
        layout: ``"hub"`` (``{'state_dict', 'config'}``), ``"nvidia_repo"``
            (NVIDIA/tacotron2 ``train.py``) or ``"glow_pickle"`` (a pickled
            NVIDIA/waveglow module under ``'model'``).
        config: hyperparameters to build the model with when the file stores
            none; ``None`` when the file's own config (or the defaults) apply.
        size: file size in bytes, ``None`` when unknown.
        sha256: hex digest, ``None`` when unknown.
        direct: ``False`` when the URL needs a browser (Google Drive confirmation page).
        page: human-readable page to fetch it by hand.
        description: one line for listings.
    """

    name: str
    model: str
    url: str
    filename: str
    layout: str
    config: Optional[Mapping[str, Any]] = None
    size: Optional[int] = None
    sha256: Optional[str] = None
    direct: bool = True
    page: Optional[str] = None
    description: str = ""

    def __post_init__(self) -> None:
        if self.model not in ("tacotron2", "waveglow"):
            raise ValueError(f"model must be 'tacotron2' or 'waveglow', got {self.model!r}")
        if self.sha256 is not None and len(self.sha256) != 64:
            raise ValueError(f"sha256 must be 64 hex digits, got {self.sha256!r}")

    @property
    def checks(self) -> str:
        """What a download is verified against, in words."""
        size = f"size {self.size} bytes" if self.size is not None else "size unknown"
        digest = f"sha256 {self.sha256}" if self.sha256 is not None else "sha256 unknown"
        return f"{size}, {digest}"


_NGC = "https://api.ngc.nvidia.com/v2/models/nvidia"
_DRIVE = "https://drive.google.com/uc?export=download&id="
_DRIVE_PAGE = "https://drive.google.com/file/d/{}/view"

PRETRAINED_FILES: Dict[str, PretrainedFile] = {f.name: f for f in (
    PretrainedFile(
        "tacotron2-dle-fp32", "tacotron2",
        f"{_NGC}/tacotron2_pyt_ckpt_fp32/versions/19.09.0/files/nvidia_tacotron2pyt_fp32_20190427",
        "nvidia_tacotron2pyt_fp32_20190427", "hub",
        description="DLE torch.hub Tacotron 2, LJ Speech, fp32 (NGC 19.09.0)"),
    PretrainedFile(
        "tacotron2-dle-fp16", "tacotron2",
        f"{_NGC}/tacotron2_pyt_ckpt_amp/versions/19.09.0/files/nvidia_tacotron2pyt_fp16_20190427",
        "nvidia_tacotron2pyt_fp16_20190427", "hub",
        description="DLE torch.hub Tacotron 2, LJ Speech, AMP-trained fp16 tensors (NGC 19.09.0)"),
    PretrainedFile(
        "waveglow-dle-fp32", "waveglow",
        f"{_NGC}/waveglow_ckpt_fp32/versions/19.09.0/files/nvidia_waveglowpyt_fp32_20190427",
        "nvidia_waveglowpyt_fp32_20190427", "hub",
        description="DLE torch.hub WaveGlow, LJ Speech, fp32 (NGC 19.09.0)"),
    PretrainedFile(
        "waveglow-dle-fp16", "waveglow",
        f"{_NGC}/waveglow_ckpt_amp/versions/19.09.0/files/nvidia_waveglowpyt_fp16_20190427",
        "nvidia_waveglowpyt_fp16_20190427", "hub",
        description="DLE torch.hub WaveGlow, LJ Speech, AMP-trained fp16 tensors (NGC 19.09.0)"),
    PretrainedFile(
        "tacotron2-nvidia", "tacotron2", _DRIVE + "1c5ZTuT7J08wLUoVZ2KkUs_VdZuJ86ZqA",
        "tacotron2_statedict.pt", "nvidia_repo", direct=False,
        page=_DRIVE_PAGE.format("1c5ZTuT7J08wLUoVZ2KkUs_VdZuJ86ZqA"),
        description="NVIDIA/tacotron2 published model (LJ Speech); default hyperparameters"),
    PretrainedFile(
        "waveglow-nvidia-universe", "waveglow", _DRIVE + "1rpK8CzAAirq9sWZhe9nlfvxMF1dRgFbF",
        "waveglow_256channels_universe_v5.pt", "glow_pickle", config=WAVEGLOW_256_CONFIG, direct=False,
        page=_DRIVE_PAGE.format("1rpK8CzAAirq9sWZhe9nlfvxMF1dRgFbF"),
        description="WaveGlow linked from the NVIDIA/tacotron2 README (256 channels, multi-speaker)"),
    PretrainedFile(
        "waveglow-nvidia", "waveglow", _DRIVE + "1cjKPHbtAMh_4HTHmuIGNkbOkPBD9qwhj",
        "waveglow_256channels_nvidia_published.pt", "glow_pickle", config=WAVEGLOW_256_CONFIG, direct=False,
        page=_DRIVE_PAGE.format("1cjKPHbtAMh_4HTHmuIGNkbOkPBD9qwhj"),
        description="the 'published model' of the NVIDIA/waveglow README (256 channels, LJ Speech)"),
)}


def get_pretrained_file(name: str) -> PretrainedFile:
    """The registry entry called ``name``; ``ValueError`` listing the known names otherwise."""
    try:
        return PRETRAINED_FILES[name]
    except KeyError:
        raise ValueError(f"unknown pretrained file {name!r}; known: {', '.join(sorted(PRETRAINED_FILES))}") from None


def hub_file_name(model: str, model_math: str = "fp32") -> str:
    """Registry name of the file DLE's ``nvidia_<model>(model_math=...)`` downloads."""
    if model_math not in ("fp32", "fp16"):
        raise ValueError(f"model_math must be 'fp32' or 'fp16', got {model_math!r}")
    return f"{model}-dle-{model_math}"


__all__ = ["PretrainedFile", "PRETRAINED_FILES", "WAVEGLOW_256_CONFIG", "get_pretrained_file", "hub_file_name"]
