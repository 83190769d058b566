"""torch.hub entry points, drop-in for NVIDIA DeepLearningExamples' Tacotron 2 / WaveGlow.

Code written for NVIDIA's hub models runs unchanged::

    tacotron2 = torch.hub.load(REPO, "nvidia_tacotron2", model_math="fp16")
    waveglow = torch.hub.load(REPO, "nvidia_waveglow", model_math="fp16")
    waveglow = waveglow.remove_weightnorm(waveglow)
    utils = torch.hub.load(REPO, "nvidia_tts_utils")
    sequences, lengths = utils.prepare_input_sequence(["Hello world."])
    with torch.no_grad():
        mel, _, _ = tacotron2.infer(sequences, lengths)
        audio = waveglow.infer(mel)

``REPO`` is a local checkout (``source="local"``) or the GitHub name of this
repository. Pretrained weights are NVIDIA's NGC files (the same URLs as DLE's
entry points), downloaded once into ``torch.hub.get_dir()/checkpoints``.

Differences from NVIDIA, all additive: configuration keyword arguments also
apply with ``pretrained=True`` when they do not change tensor shapes (for
example ``max_decoder_steps``, ``gate_threshold``); unknown keyword arguments
warn instead of being ignored silently; ``prepare_input_sequence`` without
``cpu_run=True`` on a machine without CUDA keeps the tensors on the CPU (with
a warning) instead of failing.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Dict, List, Sequence, Tuple

import torch

dependencies = ["torch", "numpy", "scipy", "librosa", "unidecode", "inflect", "tqdm"]

_HUB_OPTIONS = ("model_math", "force_reload", "progress")

#: What NVIDIA's ``nvidia_tacotron2(pretrained=False)`` sets apart from the hub model's defaults:
#: its config literal has ``'mask_padding': False`` (the NGC checkpoints' own configs are used otherwise).
_UNTRAINED_TACOTRON2 = {"mask_padding": False}


def _split_kwargs(kwargs: Dict[str, Any], config_fields: Sequence[str], entry_point: str,
                  nested: Sequence[str] = ()) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """``(hub options, config overrides)``; unknown names warn (NVIDIA ignores them silently)."""
    options = {k: kwargs[k] for k in _HUB_OPTIONS if k in kwargs}
    overrides = {k: v for k, v in kwargs.items() if k in config_fields or k in nested}
    unknown = sorted(set(kwargs) - set(options) - set(overrides))
    if unknown:
        warnings.warn(f"{entry_point}: ignoring unknown keyword argument(s) {unknown}", UserWarning, stacklevel=3)
    math = options.get("model_math", "fp32")
    if math not in ("fp32", "fp16"):
        raise ValueError(f"model_math must be 'fp32' or 'fp16', got {math!r}")
    return options, overrides


def _pretrained(model: str, options: Dict[str, Any]) -> torch.nn.Module:
    from checkpoints.registry import hub_file_name
    from tacotron2_waveglow.bundles import load_pretrained

    return load_pretrained(hub_file_name(model, options.get("model_math", "fp32")),
                           force_download=bool(options.get("force_reload", False)),
                           progress=bool(options.get("progress", True)))


def _rebuild(model: torch.nn.Module, config: Any) -> torch.nn.Module:
    """A model of ``type(model)`` built from ``config`` holding ``model``'s weights."""
    from checkpoints.state_dict import load_state_dict_checked

    rebuilt = type(model)(config)
    return load_state_dict_checked(rebuilt, model.state_dict(), type(model).__name__).eval()


def nvidia_tacotron2(pretrained: bool = True, **kwargs: Any) -> torch.nn.Module:
    """Tacotron 2 as NVIDIA's ``nvidia_tacotron2`` entry point builds it.

    Args:
        pretrained: load NVIDIA's LJ Speech weights (NGC ``nvidia_tacotron2pyt_*_20190427``).
        model_math: ``'fp32'`` or ``'fp16'``: which NGC file to load (the model computes in fp32;
            for reduced precision pass the inference vocabulary to ``infer``, e.g.
            ``infer(sequences, lengths, precision="bf16")``, or hold ``prepare_inference(...)``;
            see docs/performance.md).
        force_reload: download the file again.
        **kwargs: ``Tacotron2Config`` fields, e.g. ``n_symbols``, ``max_decoder_steps``,
            ``p_attention_dropout``, ``n_mel_channels`` (with ``pretrained=False``).
            With ``pretrained=False`` the model is built from NVIDIA's entry-point config,
            which differs from ``Tacotron2Config()`` in ``mask_padding=False``.

    Returns:
        ``Tacotron2`` whose ``infer(sequences, lengths)`` returns ``(mel, mel_lengths, alignments)``.
    """
    from tacotron2 import Tacotron2, Tacotron2Config

    fields = [f.name for f in dataclasses.fields(Tacotron2Config)]
    options, overrides = _split_kwargs(kwargs, fields, "nvidia_tacotron2")
    if not pretrained:
        return Tacotron2(Tacotron2Config.from_dict({**Tacotron2Config().to_dict(), **_UNTRAINED_TACOTRON2,
                                                    **overrides}))
    model = _pretrained("tacotron2", options)
    if overrides:
        model = _rebuild(model, dataclasses.replace(model.config, **overrides))
    return model


def _waveglow_config(base: Any, overrides: Dict[str, Any]) -> Any:
    """``base`` (a ``WaveGlowConfig``) with top-level and ``WN_config`` fields replaced."""
    from waveglow import WaveGlowConfig

    data = base.to_dict()
    wn = dict(data["WN_config"])
    for key, value in overrides.items():
        if key in data and key != "WN_config":
            data[key] = value
        else:
            wn[key] = value
    data["WN_config"] = wn
    return WaveGlowConfig.from_dict(data)


def nvidia_waveglow(pretrained: bool = True, **kwargs: Any) -> torch.nn.Module:
    """WaveGlow as NVIDIA's ``nvidia_waveglow`` entry point builds it.

    Args:
        pretrained: load NVIDIA's LJ Speech weights (NGC ``nvidia_waveglowpyt_*_20190427``).
        model_math: ``'fp32'`` or ``'fp16'``: which NGC file to load.
        force_reload: download the file again.
        **kwargs: ``WaveGlowConfig`` fields (``n_mel_channels``, ``n_flows``, ``n_group``,
            ``n_early_every``, ``n_early_size``) and ``WN_config`` fields (``n_layers``,
            ``n_channels``, ``kernel_size``), as NVIDIA's entry point accepts them.

    Returns:
        ``WaveGlow`` with ``infer(mel, sigma=1.0)`` (plus the inference vocabulary: ``backend``,
        ``precision``, ``fold_upsampler``, ``chunk_frames``); ``waveglow.remove_weightnorm(waveglow)``
        works as in NVIDIA's example.
    """
    from waveglow import WaveGlow, WaveGlowConfig

    base = WaveGlowConfig()
    top = [k for k in base.to_dict() if k != "WN_config"]
    options, overrides = _split_kwargs(kwargs, top, "nvidia_waveglow", nested=list(base.to_dict()["WN_config"]))
    if not pretrained:
        return WaveGlow(_waveglow_config(base, overrides))
    model = _pretrained("waveglow", options)
    if overrides:
        model = _rebuild(model, _waveglow_config(model.config, overrides))
    return model


class TTSUtils:
    """What NVIDIA's ``nvidia_tts_utils()`` returns: text to padded symbol-id batches."""

    @staticmethod
    def text_to_sequence(text: str, cleaner_names: Sequence[str] = ("english_cleaners",)) -> List[int]:
        """Symbol ids of ``text`` after the given cleaners."""
        from text import text_to_sequence

        return text_to_sequence(text, cleaner_names)

    @staticmethod
    def pad_sequences(batch: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Zero-pad 1-D id tensors, longest first: ``(LongTensor (B, T_max), LongTensor (B,))``."""
        from text import pad_sequences

        return pad_sequences(batch)

    @staticmethod
    def prepare_input_sequence(texts: Sequence[str], cpu_run: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(text_padded (B, T), input_lengths (B,))`` on CUDA, or on CPU with ``cpu_run=True``.

        Without CUDA the tensors stay on the CPU (with a warning) rather than failing.
        """
        from text import prepare_input_sequence

        if not cpu_run and not torch.cuda.is_available():
            warnings.warn("CUDA is not available: prepare_input_sequence keeps the tensors on the CPU",
                          UserWarning, stacklevel=2)
            cpu_run = True
        return prepare_input_sequence(texts, cpu_run=cpu_run)


def nvidia_tts_utils() -> TTSUtils:
    """Text helpers as NVIDIA's ``nvidia_tts_utils`` entry point: ``prepare_input_sequence`` and friends."""
    return TTSUtils()
