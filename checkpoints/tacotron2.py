"""Load every NVIDIA Tacotron 2 checkpoint layout into :class:`tacotron2.Tacotron2`.

Layouts: hub/NGC ``{'state_dict', 'config'}`` (keys maybe prefixed
``module.`` / ``module.1.``, fp16 tensors in the AMP files), DLE training
checkpoints (the same plus epoch/optimizer/scaler/RNG states, ignored), the
original NVIDIA/tacotron2 ``{'state_dict', 'optimizer', 'learning_rate',
'iteration'}`` (no config), and a bare state dict.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

import torch
from torch import Tensor

from tacotron2 import Tacotron2, Tacotron2Config
from tacotron2.shapes import config_fields_from_state_dict

from .errors import CheckpointError, UnsafeCheckpointError
from .limits import TACOTRON2_LIMITS, check_config_bounds
from .read import PathOrDict, read_checkpoint
from .state_dict import Hint, StateDictMismatch, compare_state_dict, load_state_dict_checked, strip_prefixes

ConfigLike = Union[Tacotron2Config, Mapping[str, Any], None]
MODEL_NAME = "Tacotron2"
WAVEGLOW_KEY_MARKERS = ("WN.", "convinv.", "upsample.")


def tacotron2_state_dict(path_or_dict: PathOrDict, config: ConfigLike = None,
                         map_location: Union[str, torch.device] = "cpu") -> Tuple[Dict[str, Tensor], Tacotron2Config]:
    """``(state_dict, config)`` of a Tacotron 2 checkpoint, checked and in canonical form.

    The state dict has our (= NVIDIA's) key names without wrapper prefixes and
    the checkpoint's own dtypes; it is verified against ``config`` without
    building a real model. ``config`` as in :func:`load_tacotron2`. Raises
    :class:`CheckpointError` for anything that does not fit, naming the keys
    and the likely cause. Meant for converters as well as the loader.
    """
    return _prepare(path_or_dict, config, map_location)


def load_tacotron2(path_or_dict: PathOrDict, config: ConfigLike = None,
                   map_location: Union[str, torch.device] = "cpu") -> Tacotron2:
    """A :class:`Tacotron2` in eval mode, in fp32 on ``map_location``, from any NVIDIA layout.

    ``config`` (a :class:`Tacotron2Config` or a dict of its fields) is needed
    only for files without one (NVIDIA/tacotron2's); the hub defaults are used
    otherwise. When the file has a config too, ``config`` wins and a warning
    lists the fields that differ. Files are read with ``weights_only=True``.
    """
    if not isinstance(map_location, (str, torch.device)):
        raise TypeError(f"map_location must be a device name or torch.device, got {type(map_location).__name__}")
    # No meta skeleton here: the real model's checked load raises the same report, and building
    # on "meta" runs nn.Embedding's normal_ through torch._refs, which imports torch._dynamo (~1 s).
    state_dict, resolved = _prepare(path_or_dict, config, "cpu", check_shapes=False)
    model = Tacotron2(resolved)
    load_state_dict_checked(model, state_dict, MODEL_NAME, hints=_hints(resolved))
    return model.to(map_location).eval()


def _prepare(path_or_dict: PathOrDict, config: ConfigLike, map_location: Union[str, torch.device],
             check_shapes: bool = True) -> Tuple[Dict[str, Tensor], Tacotron2Config]:
    """Read, canonicalise and shape-check; called directly by both public functions (for warning stack levels)."""
    try:
        checkpoint = read_checkpoint(path_or_dict, map_location=map_location)
    except UnsafeCheckpointError as exc:
        if exc.global_name.split(".")[0] in ("glow", "glow_old"):
            raise UnsafeCheckpointError(
                f"{exc}; likely cause: this is an original NVIDIA/waveglow file (a pickled {exc.global_name}), "
                "not a Tacotron 2 checkpoint; load it with checkpoints.load_waveglow",
                global_name=exc.global_name) from exc
        raise
    state_dict = _extract_state_dict(checkpoint)
    resolved = _resolve_config(_file_config(checkpoint, state_dict), config)
    check_config_bounds(resolved.to_dict(), TACOTRON2_LIMITS, "Tacotron 2")
    if not check_shapes:
        return state_dict, resolved
    with torch.device("meta"):
        skeleton = Tacotron2(resolved)
    if compare_state_dict(skeleton.state_dict(), state_dict):
        # raises before loading anything, with the full key report and likely cause
        load_state_dict_checked(skeleton, state_dict, MODEL_NAME, hints=_hints(resolved))
    return state_dict, resolved


def _extract_state_dict(checkpoint: Mapping[str, Any]) -> Dict[str, Tensor]:
    """The prefix-free state dict of a checkpoint mapping (or of a bare state dict)."""
    if "state_dict" in checkpoint:
        state_dict = checkpoint["state_dict"]
    elif checkpoint and all(torch.is_tensor(v) for v in checkpoint.values()):
        state_dict = checkpoint
    else:
        raise CheckpointError(
            f"checkpoint has no 'state_dict' entry (top-level keys: {sorted(map(str, checkpoint))[:12]}); "
            "likely cause: it is not a Tacotron 2 checkpoint (for example an original NVIDIA/waveglow file, "
            "which stores a pickled model under 'model', or an optimizer-only file)")
    if not isinstance(state_dict, Mapping) or not all(torch.is_tensor(v) for v in state_dict.values()):
        raise CheckpointError(f"checkpoint 'state_dict' is a {type(state_dict).__name__} whose values are not "
                              "all tensors; expected a mapping of parameter names to tensors")
    return strip_prefixes(state_dict)


def _looks_like_waveglow(state_dict: Mapping[str, Tensor]) -> bool:
    return any(marker in key for key in state_dict for marker in WAVEGLOW_KEY_MARKERS)


def _file_config(checkpoint: Mapping[str, Any], state_dict: Mapping[str, Tensor]) -> Optional[Tacotron2Config]:
    """The checkpoint's own config, None if it has none (or is another model's, reported later)."""
    raw = checkpoint.get("config") if "state_dict" in checkpoint else None
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise CheckpointError(f"checkpoint 'config' is a {type(raw).__name__}, not a dict of Tacotron 2 fields")
    if not _looks_like_waveglow(state_dict):
        check_config_bounds(raw, TACOTRON2_LIMITS, "Tacotron 2")
    try:
        return Tacotron2Config.from_dict(raw)
    except (TypeError, ValueError) as exc:
        if _looks_like_waveglow(state_dict):
            return None
        raise CheckpointError(f"checkpoint 'config' is not a valid Tacotron 2 config: {exc}") from exc


def _as_config(config: ConfigLike) -> Optional[Tacotron2Config]:
    if config is None or isinstance(config, Tacotron2Config):
        return config
    if isinstance(config, Mapping):
        return Tacotron2Config.from_dict(config)
    raise TypeError(f"config must be a Tacotron2Config, a dict of its fields or None, got {type(config).__name__}")


def _resolve_config(file_config: Optional[Tacotron2Config], config: ConfigLike) -> Tacotron2Config:
    """The caller's config if given (warning about fields that differ from the file's), else the file's,
    else the hub defaults."""
    given = _as_config(config)
    if given is None:
        return file_config if file_config is not None else Tacotron2Config()
    if file_config is not None:
        diff = file_config.differences(given)
        if diff:
            shown = ", ".join(f"{k}: file {a!r} -> given {b!r}" for k, (a, b) in diff.items())
            warnings.warn(f"the config passed to load_tacotron2 overrides the checkpoint's own in {shown}",
                          UserWarning, stacklevel=4)  # _resolve_config <- _prepare <- public <- caller
    return given


def _hints(config: Tacotron2Config) -> Tuple[Hint, ...]:
    return (_waveglow_hint, _symbol_count_hint, _config_shape_hint(config))


def _waveglow_hint(mismatch: StateDictMismatch, state_dict: Mapping[str, Tensor]) -> Optional[str]:
    if _looks_like_waveglow(state_dict):
        return ("this is a WaveGlow checkpoint (keys such as 'WN.', 'convinv.', 'upsample.'), not a Tacotron 2 "
                "one; load it with checkpoints.load_waveglow")
    return None


def _symbol_count_hint(mismatch: StateDictMismatch, state_dict: Mapping[str, Tensor]) -> Optional[str]:
    for key, given, expected in mismatch.mis_shaped:
        if key == "embedding.weight" and given[1:] == expected[1:]:
            return (f"the embedding has {given[0]} symbol rows but the config says n_symbols={expected[0]}: the "
                    "model was trained with a different symbol set (other text symbols, cleaners or padding); "
                    f"pass config with n_symbols={given[0]} and use the text symbols it was trained with")
    return None


def _config_shape_hint(config: Tacotron2Config) -> Callable[[StateDictMismatch, Mapping[str, Tensor]], Optional[str]]:
    def hint(mismatch: StateDictMismatch, state_dict: Mapping[str, Tensor]) -> Optional[str]:
        if not mismatch.mis_shaped:
            return None
        current = config.to_dict()
        found = config_fields_from_state_dict(state_dict)
        diff = {k: v for k, v in found.items() if current.get(k) != v}
        if not diff:
            return None
        shown = ", ".join(f"{k}={v} (config: {current[k]})" for k, v in diff.items())
        return (f"the tensor shapes fit a different configuration: {shown}; pass config=... with these values "
                "(files from NVIDIA/tacotron2 carry no config, so the hub defaults are assumed)")
    return hint
