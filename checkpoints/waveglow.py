"""Load every published WaveGlow checkpoint layout into :class:`waveglow.WaveGlow`.

Layouts (see DESIGN.md):

* hub/NGC files ``{'state_dict', 'config'}``, keys maybe prefixed ``module.``,
  maybe fp16, weight norm as ``weight_g``/``weight_v``, one ``cond_layers.i``
  per WN layer; DLE training checkpoints (the same plus optimizer state);
* newer PyTorch weight-norm keys ``parametrizations.weight.original0/1``;
* folded weights (``weight`` only, after ``remove_weightnorm``);
* NVIDIA/waveglow pickled modules under ``'model'``: ``glow.WaveGlow`` (one
  fused ``cond_layer`` per WN) and ``glow_old.WaveGlow`` (per-layer
  ``cond_layers``, alternating coupling halves), zip or legacy serialization,
  read by the restricted unpickler; hyperparameters come from the pickled
  attributes and tensor shapes.

Everything is converted to the hub key names by the explicit tables below and
loaded strictly with :func:`load_state_dict_checked`.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import torch

from waveglow import WaveGlow, WaveGlowConfig
from waveglow.config import WNConfig

from .errors import CheckpointError
from .limits import WAVEGLOW_LIMITS, check_config_bounds
from .read import PathOrDict, read_checkpoint
from .state_dict import StateDictMismatch, compare_state_dict, load_state_dict_checked, strip_prefixes
from .unpickler import PickledModule, restricted_load

# Suffix renames, old -> new (torch.nn.utils.parametrizations.weight_norm -> torch.nn.utils.weight_norm).
PARAMETRIZATION_KEYS: Tuple[Tuple[str, str], ...] = (
    (".parametrizations.weight.original0", ".weight_g"),
    (".parametrizations.weight.original1", ".weight_v"),
)
# NVIDIA/waveglow glow.WN: one conv for all layers' conditioning, split into DLE's per-layer convs.
FUSED_COND = re.compile(r"^(WN\.\d+)\.cond_layer\.(weight_g|weight_v|weight|bias)$")
# Early glow_old.WN: separate residual and skip convs, concatenated into DLE's res_skip_layers.
SPLIT_RES_SKIP = re.compile(r"^(WN\.\d+)\.(res_layers|skip_layers)\.(\d+)\.(weight_g|weight_v|weight|bias)$")
# Weight-normed convolutions of a WN, whose folded "weight" is turned back into (weight_g, weight_v).
WEIGHT_NORMED = re.compile(r"^(WN\.\d+\.(?:start|in_layers\.\d+|cond_layers\.\d+|res_skip_layers\.\d+))\.weight$")
TACOTRON2_PREFIXES = ("embedding.", "encoder.", "decoder.", "postnet.")
PICKLED_KINDS = {"glow.WaveGlow": "glow", "glow_old.WaveGlow": "glow_old"}


def rename_parametrizations(state_dict: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """``*.parametrizations.weight.original0/1`` -> ``*.weight_g`` / ``*.weight_v``."""
    out = {}
    for key, value in state_dict.items():
        for old, new in PARAMETRIZATION_KEYS:
            if key.endswith(old):
                key = key[: -len(old)] + new
                break
        out[key] = value
    return out


def split_fused_cond(state_dict: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """``WN.k.cond_layer.*`` ``(2 * n_channels * n_layers, ...)`` -> ``WN.k.cond_layers.i.*``.

    Weight norm is per output channel (dim 0), so slicing ``weight_g``,
    ``weight_v`` and ``bias`` along dim 0 is exact. The layer count is taken
    from ``WN.k.in_layers.*``.
    """
    out = {}
    for key, value in state_dict.items():
        match = FUSED_COND.match(key)
        if not match:
            out[key] = value
            continue
        prefix, name = match.groups()
        n_layers = len({k.split(".")[3] for k in state_dict if k.startswith(f"{prefix}.in_layers.")})
        if n_layers == 0 or value.size(0) % n_layers:
            raise CheckpointError(f"cannot split {key} of shape {tuple(value.shape)} over {n_layers} WN layers")
        for i, chunk in enumerate(value.chunk(n_layers, dim=0)):
            out[f"{prefix}.cond_layers.{i}.{name}"] = chunk.clone()
    return out


def merge_res_skip(state_dict: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """``WN.k.res_layers.i`` + ``WN.k.skip_layers.i`` -> ``WN.k.res_skip_layers.i`` (residual first).

    The last layer has a skip conv only; concatenating per-output-channel
    weight-norm parameters along dim 0 is exact.
    """
    out, parts = {}, {}
    for key, value in state_dict.items():
        match = SPLIT_RES_SKIP.match(key)
        if match:
            prefix, kind, index, name = match.groups()
            parts.setdefault((prefix, int(index), name), {})[kind] = value
        else:
            out[key] = value
    for (prefix, index, name), found in parts.items():
        pieces = [found[k] for k in ("res_layers", "skip_layers") if k in found]
        out[f"{prefix}.res_skip_layers.{index}.{name}"] = torch.cat(pieces, 0)
    return out


def unfold_weight_norm(state_dict: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Folded ``X.weight`` of a WN convolution -> ``X.weight_g = ||weight||``, ``X.weight_v = weight``.

    ``g * v / ||v||`` then reproduces the folded weight exactly.
    """
    out = {}
    for key, value in state_dict.items():
        match = WEIGHT_NORMED.match(key)
        if match and f"{match.group(1)}.weight_v" not in state_dict:
            v = value.float()
            out[f"{match.group(1)}.weight_g"] = torch.linalg.vector_norm(v, dim=(1, 2), keepdim=True).to(value.dtype)
            out[f"{match.group(1)}.weight_v"] = value
        else:
            out[key] = value
    return out


def to_hub_keys(state_dict: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Any supported WaveGlow state dict -> DLE hub key names (``weight_g``/``weight_v``, ``cond_layers.i``)."""
    state = strip_prefixes(state_dict)
    state = rename_parametrizations(state)
    state = split_fused_cond(state)
    state = merge_res_skip(state)
    return unfold_weight_norm(state)


def _count(state_dict: Mapping[str, torch.Tensor], pattern: str) -> int:
    regex = re.compile(pattern)
    return len({m.group(1) for k in state_dict for m in [regex.match(k)] if m})


def _shape(state_dict: Mapping[str, torch.Tensor], key: str) -> Tuple[int, ...]:
    if key not in state_dict:
        raise CheckpointError(
            f"cannot infer WaveGlow hyperparameters: key {key!r} is missing; "
            "this does not look like a WaveGlow checkpoint (pass config= if it is one)")
    return tuple(state_dict[key].shape)


def infer_config(state_dict: Mapping[str, torch.Tensor], attributes: Optional[Mapping[str, Any]] = None,
                 alternate_halves: bool = False) -> WaveGlowConfig:
    """Hyperparameters from hub-named tensor shapes (and pickled attributes where given)."""
    attributes = attributes or {}
    n_flows = _count(state_dict, r"^convinv\.(\d+)\.conv\.weight$")
    if n_flows == 0:
        _shape(state_dict, "convinv.0.conv.weight")
    channels = [_shape(state_dict, f"convinv.{k}.conv.weight")[0] for k in range(n_flows)]
    drops = [k for k in range(1, n_flows) if channels[k] < channels[k - 1]]
    n_early_every = int(attributes.get("n_early_every", drops[0] if drops else n_flows))
    n_early_size = int(attributes.get("n_early_size", channels[drops[0] - 1] - channels[drops[0]] if drops else 2))
    wn = WNConfig(n_layers=_count(state_dict, r"^WN\.0\.in_layers\.(\d+)\.weight_v$"),
                  kernel_size=_shape(state_dict, "WN.0.in_layers.0.weight_v")[2],
                  n_channels=_shape(state_dict, "WN.0.start.weight_v")[0])
    return WaveGlowConfig(n_mel_channels=_shape(state_dict, "upsample.weight")[0], n_flows=n_flows,
                          n_group=int(attributes.get("n_group", channels[0])), n_early_every=n_early_every,
                          n_early_size=n_early_size, WN_config=wn, alternate_halves=alternate_halves)


def tacotron2_hint(mismatch: StateDictMismatch, state_dict: Mapping[str, torch.Tensor]) -> Optional[str]:
    """Recognise a Tacotron 2 file given to the WaveGlow loader."""
    if any(k.startswith(TACOTRON2_PREFIXES) for k in state_dict):
        return "this is a Tacotron 2 checkpoint; load it with checkpoints.load_tacotron2"
    return None


def config_hint(mismatch: StateDictMismatch, state_dict: Mapping[str, torch.Tensor]) -> Optional[str]:
    """Mis-shaped or extra flows/layers: the given config differs from the file's."""
    if mismatch.mis_shaped or (mismatch.missing and mismatch.unexpected):
        return ("the config does not match the checkpoint's hyperparameters (for example 256 vs 512 WN "
                "channels); pass config=None to infer them from the file")
    return None


class LoadedWaveGlow:
    """A WaveGlow checkpoint reduced to hub-named tensors, stored config and origin."""

    def __init__(self, state_dict: Dict[str, torch.Tensor], config: Optional[Mapping[str, Any]],
                 kind: str, attributes: Optional[Mapping[str, Any]] = None) -> None:
        self.state_dict = state_dict
        self.config = config
        self.kind = kind
        self.attributes = dict(attributes or {})


def _pickled_attributes(module: PickledModule) -> Dict[str, Any]:
    names = ("n_flows", "n_group", "n_early_every", "n_early_size")
    return {n: module.get(n) for n in names if isinstance(module.get(n), int)}


def read_waveglow_checkpoint(path_or_dict: Union[PathOrDict, Any],
                             map_location: Union[str, torch.device] = "cpu") -> LoadedWaveGlow:
    """Read any WaveGlow layout (safely) into hub-named tensors; no model is built."""
    try:
        checkpoint = read_checkpoint(path_or_dict, map_location=map_location)
    except CheckpointError:
        if isinstance(path_or_dict, Mapping):
            raise
        # weights_only refused (or failed on) the file: the restricted unpickler reads NVIDIA/waveglow's
        # pickled modules, and for anything else raises its own error naming the refused global or damage.
        checkpoint = restricted_load(path_or_dict)
    if isinstance(checkpoint, PickledModule):
        checkpoint = {"model": checkpoint}
    if not isinstance(checkpoint, Mapping):
        raise CheckpointError(f"the file holds a {type(checkpoint).__name__}, not a checkpoint dictionary")
    try:
        return _canonical(checkpoint)
    except (RuntimeError, IndexError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(f"the tensors do not form a WaveGlow ({type(exc).__name__}: "
                              f"{' '.join(str(exc).split())[:200]})") from exc


def _canonical(checkpoint: Mapping[str, Any]) -> LoadedWaveGlow:
    model = checkpoint.get("model")
    if isinstance(model, PickledModule):
        kind = PICKLED_KINDS.get(model.qualname)
        if kind is None:
            raise CheckpointError(f"the pickled model is a {model.qualname}, not a WaveGlow")
        return LoadedWaveGlow(to_hub_keys(model.state_dict()), None, kind, _pickled_attributes(model))
    if isinstance(checkpoint.get("state_dict"), Mapping):
        return LoadedWaveGlow(to_hub_keys(checkpoint["state_dict"]), checkpoint.get("config"), "hub")
    if isinstance(model, Mapping):
        return LoadedWaveGlow(to_hub_keys(model), checkpoint.get("config"), "hub")
    if checkpoint and all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        return LoadedWaveGlow(to_hub_keys(checkpoint), None, "state_dict")
    raise CheckpointError(
        f"no WaveGlow weights found: expected 'state_dict' or a pickled 'model', got keys {sorted(map(str, checkpoint))}")


def _resolve_config(loaded: LoadedWaveGlow, config: Union[WaveGlowConfig, Mapping[str, Any], None]) -> WaveGlowConfig:
    """The config to build: the caller's, else the file's, else inferred; checked against the limits.

    Raises :class:`CheckpointError` (one line) for a config that is not a
    WaveGlow config or is outside :data:`checkpoints.limits.WAVEGLOW_LIMITS`.
    """
    alternate = loaded.kind == "glow_old"
    source = "given" if config is not None else "the checkpoint's"
    if config is None:
        config = loaded.config
    try:
        if config is None:
            resolved = infer_config(loaded.state_dict, loaded.attributes, alternate)
        else:
            if isinstance(config, Mapping):
                check_config_bounds(config, WAVEGLOW_LIMITS, "WaveGlow")
            resolved = config if isinstance(config, WaveGlowConfig) else WaveGlowConfig.from_dict(config)
            resolved = dataclasses.replace(resolved, alternate_halves=True) if alternate else resolved
    except CheckpointError:
        raise
    except (TypeError, ValueError, IndexError) as exc:
        raise CheckpointError(f"{source} config is not a valid WaveGlow config: {' '.join(str(exc).split())}") from exc
    check_config_bounds(resolved.to_dict(), WAVEGLOW_LIMITS, "WaveGlow")
    return resolved


def _checked_skeleton(config: WaveGlowConfig, state_dict: Mapping[str, torch.Tensor]) -> None:
    """Build ``config`` on the meta device (no memory) and refuse a state dict that does not fit it."""
    with torch.device("meta"):
        skeleton = WaveGlow(config)
    if compare_state_dict(skeleton.state_dict(), state_dict):
        load_state_dict_checked(skeleton, state_dict, "WaveGlow", hints=(tacotron2_hint, config_hint))


def load_waveglow(path_or_dict: Union[PathOrDict, Any], config: Union[WaveGlowConfig, Mapping[str, Any], None] = None,
                  map_location: Union[str, torch.device] = "cpu") -> WaveGlow:
    """Load any NVIDIA WaveGlow checkpoint as a :class:`WaveGlow` in eval mode (fp32, weight norm kept).

    Args:
        path_or_dict: a file path or an already loaded checkpoint mapping.
        config: hyperparameters; ``None`` uses the file's ``config`` or infers
            them from tensor shapes. A ``glow_old`` file always gets
            ``alternate_halves=True``.
        map_location: device for the returned model.

    Raises:
        CheckpointError: unreadable, unsafe, not a WaveGlow, or shapes that do
            not fit (listing missing/unexpected/mis-shaped keys and the likely cause).
    """
    loaded = read_waveglow_checkpoint(path_or_dict, map_location="cpu")
    if any(k.startswith(TACOTRON2_PREFIXES) for k in loaded.state_dict) and config is None:
        raise CheckpointError("this is a Tacotron 2 checkpoint, not a WaveGlow one; load it with "
                              "checkpoints.load_tacotron2")
    resolved = _resolve_config(loaded, config)
    _checked_skeleton(resolved, loaded.state_dict)  # before the real model allocates anything
    model = WaveGlow(resolved)
    load_state_dict_checked(model, loaded.state_dict, "WaveGlow", hints=(tacotron2_hint, config_hint))
    return model.to(map_location).eval()
