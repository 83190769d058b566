"""Restricted unpickling of NVIDIA/waveglow's pickled-module checkpoints.

NVIDIA/waveglow's ``train.py`` saved whole ``glow.WaveGlow`` (or
``glow_old.WaveGlow``) module objects. Loading those normally needs the
``glow`` module on ``sys.path`` and lets the file run any code it names. Here
the pickle is read with an allow-list: tensors, storages, plain containers and
the known module classes, which become inert :class:`PickledModule` records of
their ``_parameters``, ``_buffers``, ``_modules`` and attributes. No class
code runs (``__setstate__`` of the real classes is never called), and any other
global (``os.system``, ``builtins.eval``, an unknown class, ...) raises
:class:`CheckpointError` naming it, before anything is called.

Both torch serializations are read: the zip archive (``data.pkl`` plus one
entry per storage, torch >= 1.6) and the legacy stream (magic number,
protocol, sys info, the pickle, the storage keys, then each storage as an
int64 element count and raw little-endian bytes).
"""
from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, Dict, Iterator, Optional, Tuple, Union

import torch

from .errors import CheckpointError

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001

STORAGE_DTYPES: Dict[str, torch.dtype] = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}

MODULE_CLASSES: Tuple[str, ...] = (
    "glow.WaveGlow", "glow.WN", "glow.Invertible1x1Conv",
    "glow_old.WaveGlow", "glow_old.WN", "glow_old.Invertible1x1Conv",
    "torch.nn.modules.conv.Conv1d", "torch.nn.modules.conv.ConvTranspose1d",
    "torch.nn.modules.container.ModuleList",
    "torch.nn.utils.weight_norm.WeightNorm",
)


class PickledModule:
    """Inert stand-in for a pickled ``torch.nn.Module`` (or weight-norm hook) of a known class.

    ``qualname`` is the pickled class (``'glow.WN'``); ``attributes`` is the
    object's pickled ``__dict__`` as it was stored, nothing executed.
    """

    qualname = ""

    def __init__(self) -> None:
        self.attributes: Dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:
            state = state[0]
        if not isinstance(state, dict):
            raise CheckpointError(f"pickled {self.qualname} has a state of type {type(state).__name__}, not a dict")
        self.attributes = dict(state)

    def __repr__(self) -> str:
        return f"PickledModule({self.qualname})"

    def get(self, name: str, default: Any = None) -> Any:
        """An attribute such as ``n_flows`` as stored in the file."""
        return self.attributes.get(name, default)

    @property
    def parameters(self) -> Dict[str, Any]:
        return dict(self.attributes.get("_parameters") or {})

    @property
    def buffers(self) -> Dict[str, Any]:
        return dict(self.attributes.get("_buffers") or {})

    @property
    def modules(self) -> Dict[str, "PickledModule"]:
        return dict(self.attributes.get("_modules") or {})

    def named_tensors(self, prefix: str = "") -> Iterator[Tuple[str, torch.Tensor]]:
        """``(dotted name, tensor)`` for every parameter and buffer, as ``state_dict`` names them."""
        for name, value in {**self.parameters, **self.buffers}.items():
            if value is not None:
                yield prefix + name, value
        for name, child in self.modules.items():
            if isinstance(child, PickledModule):
                yield from child.named_tensors(f"{prefix}{name}.")

    def state_dict(self) -> Dict[str, torch.Tensor]:
        """Every parameter and buffer, detached copies keyed as ``Module.state_dict`` would."""
        return {name: tensor.detach().clone() for name, tensor in self.named_tensors()}


def _stand_in(qualname: str) -> type:
    return type(qualname.replace(".", "_"), (PickledModule,), {"qualname": qualname})


_STAND_INS: Dict[str, type] = {name: _stand_in(name) for name in MODULE_CLASSES}


class StorageType:
    """Marker for a pickled storage class such as ``torch.FloatStorage``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = STORAGE_DTYPES[name]

    def __repr__(self) -> str:
        return f"StorageType({self.name})"


def _as_storage(storage: Any) -> torch.Tensor:
    if not isinstance(storage, torch.Tensor) or storage.dim() != 1:
        raise CheckpointError(f"a pickled tensor refers to {type(storage).__name__}, not a storage")
    return storage


def _rebuild_tensor(storage: Any, storage_offset: int, size: Tuple[int, ...], stride: Tuple[int, ...],
                    *_ignored: Any) -> torch.Tensor:
    """A view of ``storage`` (a 1-D tensor) with ``size``/``stride``/``offset``; bounds are checked."""
    base = _as_storage(storage)
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride) or any(s < 0 for s in size + stride) or storage_offset < 0:
        raise CheckpointError(f"invalid tensor geometry size={size} stride={stride} offset={storage_offset}")
    extent = storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else 0
    if extent > base.numel():
        raise CheckpointError(
            f"tensor of size {size} at offset {storage_offset} overruns its storage of {base.numel()} elements")
    return base.as_strided(size, stride, storage_offset)


def _rebuild_parameter(data: Any, *_ignored: Any) -> torch.Tensor:
    """A parameter is kept as its plain tensor (``requires_grad`` and hooks are not restored)."""
    if not isinstance(data, torch.Tensor):
        raise CheckpointError(f"a pickled parameter holds {type(data).__name__}, not a tensor")
    return data


def _reconstructor(cls: Any, base: Any, state: Any = None) -> Any:
    """``copyreg._reconstructor`` limited to the stand-in module classes."""
    if not (isinstance(cls, type) and issubclass(cls, PickledModule)) or base is not object:
        raise CheckpointError(f"copyreg._reconstructor of {cls!r} is not allowed")
    return cls()


_SAFE_GLOBALS: Dict[str, Any] = {
    "collections.OrderedDict": collections.OrderedDict,
    "builtins.set": set, "__builtin__.set": set,
    "builtins.frozenset": frozenset, "__builtin__.frozenset": frozenset,
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
    "torch.nn.parameter.Parameter": _rebuild_parameter,
    "copyreg._reconstructor": _reconstructor, "copy_reg._reconstructor": _reconstructor,
}


def _build(self: "RestrictedUnpickler") -> None:
    """``BUILD`` opcode: only stand-in modules get state; nothing else runs ``__setstate__``."""
    state = self.stack.pop()
    inst = self.stack[-1]
    if not isinstance(inst, PickledModule):
        raise CheckpointError(f"the pickle sets the state of a {type(inst).__name__}, which is not allowed")
    inst.__setstate__(state)


class RestrictedUnpickler(pickle._Unpickler):
    """Unpickler that resolves only allow-listed globals and builds only stand-in modules.

    ``storage_loader(storage_type, key, numel)`` returns the 1-D tensor behind
    a persistent storage id; ``view`` metadata and legacy ``'module'`` ids are
    handled here.
    """

    dispatch = dict(pickle._Unpickler.dispatch)
    dispatch[pickle.BUILD[0]] = _build

    def __init__(self, file: BinaryIO,
                 storage_loader: Optional[Callable[[StorageType, str, int], torch.Tensor]] = None) -> None:
        super().__init__(file, encoding="latin1")
        self._storage_loader = storage_loader
        self._views: Dict[str, torch.Tensor] = {}

    def find_class(self, module: str, name: str) -> Any:
        qualname = f"{module}.{name}"
        if qualname in _STAND_INS:
            return _STAND_INS[qualname]
        if qualname in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[qualname]
        if module == "torch" and name in STORAGE_DTYPES:
            return StorageType(name)
        raise CheckpointError(
            f"refusing to unpickle global {qualname!r}: it is not a tensor, container or known WaveGlow "
            "module class, and loading it could run arbitrary code")

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or not pid:
            raise CheckpointError(f"unexpected persistent id {pid!r}")
        kind = pid[0].decode("ascii") if isinstance(pid[0], bytes) else pid[0]
        if kind == "module":
            cls = pid[1]
            if not (isinstance(cls, type) and issubclass(cls, PickledModule)):
                raise CheckpointError(f"legacy module id names {cls!r}, not a known module class")
            return cls
        if kind != "storage" or len(pid) not in (5, 6) or self._storage_loader is None:
            raise CheckpointError(f"unexpected persistent id {pid[:2]!r}")
        storage_type, key, _location, numel = pid[1:5]
        if not isinstance(storage_type, StorageType):
            raise CheckpointError(f"persistent storage id names {storage_type!r}, not a storage type")
        storage = self._storage_loader(storage_type, str(key), int(numel))
        view = pid[5] if len(pid) == 6 else None
        if view is None:
            return storage
        view_key, offset, view_size = view
        if offset < 0 or offset + view_size > storage.numel():
            raise CheckpointError(f"storage view {view!r} overruns its storage of {storage.numel()} elements")
        return self._views.setdefault(str(view_key), storage[offset:offset + view_size])


def _unpickle(stream: BinaryIO, storage_loader=None) -> Any:
    return RestrictedUnpickler(stream, storage_loader).load()


def _read_zip(path: Path) -> Any:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("data.pkl")]
        if not pickles:
            raise CheckpointError(f"{str(path)!r} is a zip archive without data.pkl: not a PyTorch checkpoint")
        prefix = pickles[0][: -len("data.pkl")]
        byteorder = f"{prefix}byteorder"
        if byteorder in names and archive.read(byteorder).strip() not in (b"little", b""):
            raise CheckpointError(f"{str(path)!r} was saved on a big-endian machine; this is not supported")
        storages: Dict[str, torch.Tensor] = {}

        def load_storage(storage_type: StorageType, key: str, numel: int) -> torch.Tensor:
            if key not in storages:
                raw = archive.read(f"{prefix}data/{key}")
                expected = numel * torch.empty((), dtype=storage_type.dtype).element_size()
                if len(raw) != expected:
                    raise CheckpointError(
                        f"storage {key} of {str(path)!r} has {len(raw)} bytes, expected {expected}: file is damaged")
                storages[key] = (torch.frombuffer(bytearray(raw), dtype=storage_type.dtype) if numel
                                 else torch.empty(0, dtype=storage_type.dtype))
            return storages[key]

        return _unpickle(io.BytesIO(archive.read(pickles[0])), load_storage)


def _read_legacy(path: Path) -> Any:
    with open(path, "rb") as stream:
        magic = _unpickle(stream)
        if magic != LEGACY_MAGIC_NUMBER:
            raise CheckpointError(f"{str(path)!r} is neither a zip nor a legacy PyTorch checkpoint (bad magic number)")
        protocol = _unpickle(stream)
        if protocol != LEGACY_PROTOCOL_VERSION:
            raise CheckpointError(f"{str(path)!r} uses unsupported legacy protocol {protocol!r}")
        sys_info = _unpickle(stream)
        if isinstance(sys_info, dict) and not sys_info.get("little_endian", True):
            raise CheckpointError(f"{str(path)!r} was saved on a big-endian machine; this is not supported")
        storages: Dict[str, torch.Tensor] = {}

        def allocate(storage_type: StorageType, key: str, numel: int) -> torch.Tensor:
            return storages.setdefault(key, torch.empty(numel, dtype=storage_type.dtype))

        result = _unpickle(stream, allocate)
        keys = _unpickle(stream)
        for key in keys:
            _fill_legacy_storage(stream, storages, str(key), path)
    return result


def _fill_legacy_storage(stream: BinaryIO, storages: Dict[str, torch.Tensor], key: str, path: Path) -> None:
    """Read one storage record (int64 element count, raw bytes) into ``storages[key]``."""
    if key not in storages:
        raise CheckpointError(f"{str(path)!r} lists storage {key!r} that no tensor uses: file is damaged")
    storage = storages[key]
    header = stream.read(8)
    if len(header) != 8:
        raise CheckpointError(f"{str(path)!r} is truncated (storage {key} missing)")
    (numel,) = struct.unpack("<q", header)
    if numel != storage.numel():
        raise CheckpointError(f"{str(path)!r}: storage {key} holds {numel} elements, expected {storage.numel()}")
    raw = stream.read(numel * storage.element_size())
    if len(raw) != numel * storage.element_size():
        raise CheckpointError(f"{str(path)!r} is truncated (storage {key} is incomplete)")
    if numel:
        storage.copy_(torch.frombuffer(bytearray(raw), dtype=storage.dtype))


def restricted_load(path: Union[str, os.PathLike]) -> Any:
    """Unpickle a torch checkpoint (zip or legacy) with the allow-list; tensors are on the CPU.

    Raises :class:`CheckpointError` for a refused global (naming it), a
    truncated or damaged file, or a format that is not a PyTorch checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint file not found: {str(path)!r}")
    try:
        if zipfile.is_zipfile(path):
            return _read_zip(path)
        return _read_legacy(path)
    except CheckpointError:
        raise
    except (EOFError, pickle.UnpicklingError, zipfile.BadZipFile, struct.error, KeyError) as exc:
        raise CheckpointError(
            f"{str(path)!r} is truncated or not a PyTorch checkpoint ({type(exc).__name__}: {exc})") from exc
    except (TypeError, ValueError, AttributeError, IndexError, RuntimeError) as exc:
        raise CheckpointError(f"{str(path)!r} could not be unpickled safely ({type(exc).__name__}: {exc})") from exc
