"""Size rules every checkpoint must pass before anything large is allocated.

A checkpoint may cost at most a small multiple of its own size plus the
model's real size in memory. Four rules enforce that, and this file is their
one source:

* :func:`check_regular_file`: only regular files are read (never a
  directory, FIFO, socket or device, also not through a symlink);
* :func:`check_zip_entries`: a zip archive's declared (uncompressed) sizes
  may not exceed :data:`ZIP_EXPANSION_LIMIT` times the file's size, checked
  from the central directory before any entry is read;
* :func:`check_tensor_views`: no tensor is larger than the storage it views
  (a stride-0 or overlapping view that claims gigabytes from a few bytes),
  and the tensors of one checkpoint together claim at most
  :data:`VIEW_SHARING_LIMIT` times the bytes their storages hold;
* :func:`check_config_bounds`: model hyperparameters are ints (or floats)
  within :data:`TACOTRON2_LIMITS` / :data:`WAVEGLOW_LIMITS`, so a config of
  a few bytes cannot ask for a model of many gigabytes.
"""
from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterator, Mapping, Tuple, Union

if TYPE_CHECKING:
    import torch

from .errors import CheckpointError

#: A zip entry may expand to at most this many times the archive's size (torch stores entries uncompressed: 1x).
ZIP_EXPANSION_LIMIT = 4
#: All tensors of a checkpoint together may view at most this many times the bytes of their storages.
VIEW_SHARING_LIMIT = 2
#: Nesting depth of containers / pickled modules walked before a checkpoint is refused.
MAX_NESTING = 64

#: Largest accepted value of each integer Tacotron 2 hyperparameter (NVIDIA's values are far below).
TACOTRON2_LIMITS: Mapping[str, int] = {
    "n_mel_channels": 1024, "n_symbols": 1 << 16, "symbols_embedding_dim": 8192, "encoder_kernel_size": 255,
    "encoder_n_convolutions": 64, "encoder_embedding_dim": 8192, "attention_rnn_dim": 8192,
    "attention_dim": 8192, "attention_location_n_filters": 4096, "attention_location_kernel_size": 1023,
    "n_frames_per_step": 16, "decoder_rnn_dim": 8192, "prenet_dim": 8192, "max_decoder_steps": 100_000,
    "postnet_embedding_dim": 8192, "postnet_kernel_size": 255, "postnet_n_convolutions": 64,
}
#: Largest accepted value of each WaveGlow hyperparameter (``WN_config`` fields included).
WAVEGLOW_LIMITS: Mapping[str, int] = {
    "n_mel_channels": 1024, "n_flows": 64, "n_group": 256, "n_early_every": 64, "n_early_size": 256,
    "n_layers": 30, "kernel_size": 63, "n_channels": 8192,
}

PathLike = Union[str, "os.PathLike[str]"]


def check_regular_file(path: PathLike) -> Path:
    """``path`` as a :class:`Path` if it names a non-empty regular file; else one-line :class:`CheckpointError`.

    A directory, FIFO, socket or device (also behind a symlink) is named as
    such and never opened, so a FIFO cannot block and ``/dev/zero`` cannot be read.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            raise CheckpointError(f"checkpoint {str(path)!r} is a broken symbolic link") from None
        raise CheckpointError(f"checkpoint file not found: {str(path)!r}") from None
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {str(path)!r}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
                else "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "not a regular file")
        via = " (through a symbolic link)" if os.path.islink(path) else ""
        raise CheckpointError(f"checkpoint {str(path)!r} is {kind}{via}, not a checkpoint file; give the path of a .pt file")
    if not os.access(path, os.R_OK):
        raise CheckpointError(f"checkpoint {str(path)!r} is not readable (permission denied)")
    if os.stat(path).st_size == 0:
        raise CheckpointError(f"checkpoint file {str(path)!r} is empty")
    return path


def check_zip_entries(archive: zipfile.ZipFile, path: PathLike) -> None:
    """Refuse an archive whose entries declare more bytes than :data:`ZIP_EXPANSION_LIMIT` x its size.

    Only the central directory is read (``ZipInfo.file_size``), nothing is decompressed.
    """
    size = os.path.getsize(path)
    declared = 0
    for info in archive.infolist():
        declared += info.file_size
        if info.file_size > ZIP_EXPANSION_LIMIT * size:
            raise CheckpointError(
                f"{str(path)!r}: zip entry {info.filename!r} declares {info.file_size} bytes in a file of {size} "
                "(a zip bomb); refused before reading")
    if declared > ZIP_EXPANSION_LIMIT * size:
        raise CheckpointError(f"{str(path)!r}: zip entries declare {declared} bytes in a file of {size} "
                              "(a zip bomb); refused before reading")


def iter_tensors(obj: Any, where: str = "checkpoint") -> Iterator[Tuple[str, torch.Tensor]]:
    """``(location, tensor)`` for every tensor in nested dicts, lists, tuples and pickled-module records.

    Each container is visited once (cycles and shared sub-trees are fine);
    nesting deeper than :data:`MAX_NESTING` raises :class:`CheckpointError`.
    """
    import torch  # only here: the file checks above need no torch (tacotron2-tts checks options before importing it)

    seen = set()
    stack = [(obj, where, 0)]
    while stack:
        item, name, depth = stack.pop()
        if isinstance(item, torch.Tensor):
            yield name, item
            continue
        children = _children(item)
        if children is None or id(item) in seen:
            continue
        seen.add(id(item))
        if depth >= MAX_NESTING:
            raise CheckpointError(f"{name} is nested more than {MAX_NESTING} levels deep; refused")
        stack.extend((value, f"{name}.{key}", depth + 1) for key, value in children)


def _children(item: Any):
    if isinstance(item, Mapping):
        return list(item.items())
    if isinstance(item, (list, tuple, set, frozenset)):
        return list(enumerate(item))
    from .unpickler import PickledModule  # here, not at the top: the unpickler uses these rules

    return list(item.attributes.items()) if isinstance(item, PickledModule) else None


def check_tensor_views(obj: Any, source: str) -> None:
    """Refuse tensors larger than their storage, or storages shared to claim far more than they hold.

    ``source`` names the file in messages. Meta tensors (no data) are checked
    against their declared storage sizes all the same.
    """
    storages: Dict[Tuple[str, int], int] = {}
    claimed = 0
    for name, tensor in iter_tensors(obj):
        storage = tensor.untyped_storage()
        held = storage.nbytes()
        element = tensor.element_size()
        if tensor.numel():
            extent = tensor.storage_offset() + sum((n - 1) * s for n, s in zip(tensor.shape, tensor.stride())) + 1
            if min(tensor.stride(), default=1) < 0 or extent * element > held:
                raise CheckpointError(f"{source}: tensor {name} of shape {tuple(tensor.shape)} overruns its storage "
                                      f"of {held} bytes; the file is damaged or hostile")
        nbytes = tensor.numel() * element
        if nbytes > held:
            raise CheckpointError(
                f"{source}: tensor {name} of shape {tuple(tensor.shape)} claims {nbytes} bytes from a storage of "
                f"{held} (a stride-0 or overlapping view); refused")
        key = (str(tensor.device), storage.data_ptr() if tensor.device.type != "meta" else id(storage))
        storages[key] = held
        claimed += nbytes
    held_total = sum(storages.values())
    if claimed > VIEW_SHARING_LIMIT * held_total + (1 << 20):
        raise CheckpointError(f"{source}: tensors claim {claimed} bytes from storages of {held_total} (views of "
                              "shared storage); refused")


def check_config_bounds(config: Mapping[str, Any], limits: Mapping[str, int], model: str) -> None:
    """Refuse a hyperparameter that is not a plain int/float/bool or is above its limit.

    ``config`` is a model config as a dict (``WN_config`` nested for
    WaveGlow); fields without a limit are only type-checked. Raises
    :class:`CheckpointError` naming the field and the limit.
    """
    for name, value in _flatten(config):
        if not isinstance(value, (bool, int, float)) or isinstance(value, float) and value != value:
            raise CheckpointError(f"{model} config field {name} is {value!r} ({type(value).__name__}), "
                                  "not a number; the file's config is damaged")
        limit = limits.get(name.rsplit(".", 1)[-1])
        if limit is not None and not isinstance(value, bool) and (not isinstance(value, int) or value > limit):
            raise CheckpointError(f"{model} config field {name}={value!r} is outside the supported range "
                                  f"(an int up to {limit}); the file's config is damaged or hostile")


def _flatten(config: Mapping[str, Any], prefix: str = "") -> Iterator[Tuple[str, Any]]:
    for key, value in config.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
