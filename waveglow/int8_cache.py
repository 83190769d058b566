"""The int8 WaveGlow form saved on disk, so that a later process skips folding and quantizing.

Building :class:`~waveglow.int8_infer.Int8WaveGlow` folds the upsampler into
every WN layer's conditioning (322 GFLOP for the 256-channel hub model, 3.6 s
on two cores) and quantizes the result; its weights (0.55 GB for 256
channels, 1.2 GB for 512) are the same every time for the same model. With
``prepare_inference(precision="int8", cache_dir=DIR)`` the form is written to
``DIR`` once and mapped back (``torch.load(mmap=True)``) by every later
preparation of the same weights; Inductor's own on-disk cache then makes the compile cheap too.

The file name is a SHA-256 of everything the form depends on: this module's
:data:`FORM_VERSION`, the torch version, the model's configuration and every
tensor of its ``state_dict`` (name, dtype, shape, bytes; hashing the 256-channel
model takes about 0.3 s). A changed weight gives another name, so a cached
form is never used for other weights. Files are written atomically (a crash
leaves no partial file). Reading uses ``torch.load(weights_only=True)`` and
checks the file size and every tensor's shape and dtype against what the
model's configuration implies before anything is used; a file that fails is
reported in one warning and rebuilt, never trusted. A folder keeps at most
:data:`MAX_CACHED_FORMS` forms: writing a new one deletes the least recently
used beyond that.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import torch
from torch import nn

from .phase_condition import phase_geometry

#: Bump when the contents of :class:`~waveglow.int8_infer.Int8Flow` or the way they are computed change.
FORM_VERSION = 3  # 2: phase_weights stored (P * 2C, M * n_mel), read through .t(); 3: first_weight
#: Forms kept in one cache folder (0.55-1.2 GB each); the least recently used beyond this are deleted.
MAX_CACHED_FORMS = 3
_PATTERN = "waveglow-int8-*.pt"
#: Slack over the expected tensor bytes that a cache file may have (pickle framing, names).
_SIZE_SLACK = 1.05
_SIZE_MARGIN = 4 * 2 ** 20

PathLike = Union[str, "os.PathLike[str]"]
Layout = Dict[str, Union[Tuple[Tuple[int, ...], torch.dtype], List[Tuple[Tuple[int, ...], torch.dtype]], object]]


def form_key(model: nn.Module) -> str:
    """SHA-256 (hex) of what the int8 form of ``model`` depends on (see the module doc)."""
    digest = hashlib.sha256()
    digest.update(f"waveglow-int8 v{FORM_VERSION} torch {torch.__version__}\n".encode())
    digest.update(json.dumps(dataclasses.asdict(model.config), sort_keys=True, default=str).encode())
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"\n{name} {tensor.dtype} {tuple(tensor.shape)}\n".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def form_path(model: nn.Module, cache_dir: PathLike) -> Path:
    """Where the int8 form of ``model`` lives in ``cache_dir``."""
    return Path(cache_dir).expanduser() / _PATTERN.replace("*", form_key(model)[:32])


def expected_layout(model: nn.Module) -> List[Layout]:
    """Per flow, each field of :class:`~waveglow.int8_infer.Int8Flow`: ``(shape, dtype)`` for a tensor, a list
    of them for a per-layer list, the value itself for the other fields. Derived from the configuration."""
    config, wn = model.config, model.config.WN_config
    geometry = phase_geometry(model.upsample, model.n_group)
    channels, kernel, layers = wn.n_channels, wn.kernel_size, wn.n_layers
    halves = [config.flow_channels(k) // 2 for k in range(model.n_flows)]
    h_max = max(halves)
    n_mel = model.upsample.in_channels
    f32, i8 = torch.float32, torch.int8
    res_widths = [channels + 2 * h_max] * (layers - 1) + [2 * h_max]
    flows = []
    for k, half in enumerate(halves):
        flows.append(dict(
            start_weight=((h_max, channels), f32), start_bias=((channels,), f32),
            first_weight=((kernel * (h_max + 1), 2 * channels), f32),
            in_weights=[((kernel * channels, 2 * channels), i8)] * (layers - 1),
            in_scales=[((2 * channels,), f32)] * (layers - 1),
            phase_weights=[((geometry.phases * 2 * channels, geometry.frames * n_mel), i8)] * layers,
            phase_scales=[((geometry.phases * 2 * channels,), f32)] * layers,
            biases=[((2 * channels,), f32)] * layers,
            res_weights=[((channels, width), i8) for width in res_widths],
            res_scales=[((width,), f32) for width in res_widths],
            res_biases=[((width,), f32) for width in res_widths],
            inverse_weight=((2 * half, 2 * half), f32),
            dilations=tuple(2 ** i for i in range(layers)), n_half=half, swapped=model._swapped(k),
            early=config.is_early(k)))
    return flows


def _layout_bytes(layout: List[Layout]) -> int:
    total = 0
    for flow in layout:
        for value in flow.values():
            for item in (value if isinstance(value, list) else [value]):
                if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], torch.dtype):
                    total += int(torch.Size(item[0]).numel()) * torch.empty(0, dtype=item[1]).element_size()
    return total


def _check(flows: object, layout: List[Layout]) -> Optional[str]:
    """``None`` when ``flows`` (as loaded) matches ``layout``, else what differs."""
    if not isinstance(flows, list) or len(flows) != len(layout):
        return f"expected {len(layout)} flows"
    for k, (flow, expected) in enumerate(zip(flows, layout)):
        if not isinstance(flow, dict) or set(flow) != set(expected):
            return f"flow {k} has other fields"
        for name, want in expected.items():
            got = flow[name]
            if isinstance(want, list):
                if not isinstance(got, list) or len(got) != len(want):
                    return f"flow {k} {name}: expected {len(want)} tensors"
                pairs = zip(got, want)
            elif isinstance(want, tuple) and len(want) == 2 and isinstance(want[1], torch.dtype):
                pairs = [(got, want)]
            else:
                if (tuple(got) if isinstance(got, list) else got) != want:
                    return f"flow {k} {name}: {got!r} where {want!r} was expected"
                continue
            for tensor, (shape, dtype) in pairs:
                if not torch.is_tensor(tensor) or tuple(tensor.shape) != shape or tensor.dtype != dtype:
                    return f"flow {k} {name}: not a {dtype} tensor of shape {shape}"
    return None


def load_form(path: Path, model: nn.Module) -> Optional[List[dict]]:
    """The cached flows of ``model`` as :class:`Int8Flow` keyword dicts, or ``None`` (missing or refused).

    A file that exists but cannot be used (damaged, truncated, too large, of
    another layout) gives one ``RuntimeWarning`` naming it; the caller then
    builds the form again and replaces the file.
    """
    if not path.is_file():
        return None
    layout = expected_layout(model)
    limit = int(_layout_bytes(layout) * _SIZE_SLACK) + _SIZE_MARGIN
    try:
        size = path.stat().st_size
        if size > limit:
            raise ValueError(f"{size} bytes, more than the {limit} this model's form can take")
        with warnings.catch_warnings():  # torch's own notes on odd files; the one warning below says it all
            warnings.simplefilter("ignore")
            # mapped, not read: the tensors page in from the file as the first call uses them (a copy of
            # 1.2 GB cost seconds of page faults); the file is only ever replaced by a rename, never rewritten
            saved = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        if not isinstance(saved, dict) or saved.get("format") != FORM_VERSION:
            raise ValueError("not an int8 WaveGlow form of this version")
        problem = _check(saved.get("flows"), layout)
        if problem is not None:
            raise ValueError(problem)
    except Exception as error:  # any damage: a warning and a rebuild, never a crash
        warnings.warn(f"ignoring the cached int8 WaveGlow form {path} ({type(error).__name__}: {error}); "
                      "building it again", RuntimeWarning, stacklevel=3)
        return None
    try:
        os.utime(path)  # recently used: kept when older forms are pruned
    except OSError:
        pass
    flows = saved["flows"]
    for flow in flows:
        flow["dilations"] = tuple(flow["dilations"])
    return flows


def save_form(path: Path, flows: List[object]) -> None:
    """Write ``flows`` (:class:`Int8Flow` objects) to ``path`` atomically; a failure is one warning."""
    from audio.atomic import atomic_write

    state = {"format": FORM_VERSION, "flows": [dataclasses.asdict(flow) for flow in flows]}
    try:
        atomic_write(path, lambda handle: torch.save(state, handle))
    except OSError as error:  # a full disk or a read-only cache: the form still works, it is just not kept
        warnings.warn(f"could not cache the int8 WaveGlow form in {path.parent} ({error}); "
                      "the next process will build it again", RuntimeWarning, stacklevel=3)
        return
    prune(path.parent, keep=path)


def prune(cache_dir: Path, keep: Optional[Path] = None, limit: int = MAX_CACHED_FORMS) -> List[Path]:
    """Delete the least recently used forms in ``cache_dir`` beyond ``limit`` (never ``keep``); returns them."""
    def used(candidate: Path) -> float:
        try:
            return candidate.stat().st_mtime
        except OSError:
            return 0.0

    forms = sorted((p for p in cache_dir.glob(_PATTERN) if p != keep), key=used, reverse=True)
    removed = forms[max(0, limit - (keep is not None)):]
    for old in removed:
        try:
            old.unlink()
        except OSError:
            pass
    return removed
