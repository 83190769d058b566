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

import _compat_pickle
import collections
import io
import os
import pickle
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any, BinaryIO, Callable, Dict, Iterator, Mapping, Optional, Tuple, Union

import torch

from .errors import CheckpointError, UnsafeCheckpointError
from .limits import MAX_NESTING, check_regular_file, check_tensor_views, check_zip_entries

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001
CHUNK_BYTES = 1 << 20

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
    def parameters(self) -> Dict[str, Optional[torch.Tensor]]:
        """``_parameters`` as stored; :class:`CheckpointError` unless it maps names to tensors (or None)."""
        return self._table("_parameters", torch.Tensor)

    @property
    def buffers(self) -> Dict[str, Optional[torch.Tensor]]:
        """``_buffers`` as stored, checked like :attr:`parameters`."""
        return self._table("_buffers", torch.Tensor)

    @property
    def modules(self) -> Dict[str, Optional["PickledModule"]]:
        """``_modules`` as stored; :class:`CheckpointError` unless it maps names to known modules (or None)."""
        return self._table("_modules", PickledModule)

    def _table(self, attribute: str, kind: type) -> Dict[str, Any]:
        table = self.attributes.get(attribute)
        if table is None:
            return {}
        if not isinstance(table, Mapping):
            raise CheckpointError(f"pickled {self.qualname} has {attribute} of type {type(table).__name__}, "
                                  "not a dict; the file is damaged or hostile")
        for name, value in table.items():
            if not isinstance(name, str) or not (value is None or isinstance(value, kind)):
                raise CheckpointError(f"pickled {self.qualname} has {attribute}[{name!r}] of type "
                                      f"{type(value).__name__}, not a {kind.__name__}; the file is damaged or hostile")
        return dict(table)

    def named_tensors(self, prefix: str = "") -> Iterator[Tuple[str, torch.Tensor]]:
        """``(dotted name, tensor)`` for every parameter and buffer, as ``state_dict`` names them.

        A module that contains itself (a ``_modules`` cycle), or nesting deeper
        than :data:`checkpoints.limits.MAX_NESTING`, raises :class:`CheckpointError`.
        """
        stack: list = [(self, prefix, ())]
        while stack:
            module, name, ancestors = stack.pop()
            if id(module) in ancestors:
                raise CheckpointError(f"pickled {module.qualname} {name.rstrip('.') or '(root)'} contains itself "
                                      "(a _modules cycle); the file is damaged or hostile")
            if len(ancestors) >= MAX_NESTING:
                raise CheckpointError(f"pickled modules are nested more than {MAX_NESTING} levels deep; refused")
            for key, value in {**module.parameters, **module.buffers}.items():
                if value is not None:
                    yield name + key, value
            children = [(child, f"{name}{key}.", ancestors + (id(module),))
                        for key, child in module.modules.items() if child is not None]
            stack.extend(reversed(children))

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
    """A view of ``storage`` (a 1-D tensor) with ``size``/``stride``/``offset``.

    ``as_strided`` refuses a view outside the storage; views larger than
    their storage (stride 0) are refused after loading by
    :func:`checkpoints.limits.check_tensor_views`.
    """
    base = _as_storage(storage)
    if not (isinstance(size, tuple) and isinstance(stride, tuple) and isinstance(storage_offset, int)
            and all(isinstance(n, int) for n in size + stride)):
        raise CheckpointError(f"invalid tensor geometry size={size!r} stride={stride!r} offset={storage_offset!r}")
    if len(size) != len(stride) or any(n < 0 for n in size + stride) or storage_offset < 0:
        raise CheckpointError(f"invalid tensor geometry size={size} stride={stride} offset={storage_offset}")
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


def refused_global(qualname: str) -> UnsafeCheckpointError:
    """The one message for a pickled global that no loader will rebuild."""
    return UnsafeCheckpointError(
        f"refused to unpickle {qualname}: this file asks to run code (only tensors, containers and the known "
        "WaveGlow module classes are rebuilt); it was not loaded", global_name=qualname)


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
        if self.proto < 3:  # Python 2 names, as pickle itself maps them (``__builtin__`` -> ``builtins``)
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        qualname = f"{module}.{name}"
        if qualname in _STAND_INS:
            return _STAND_INS[qualname]
        if qualname in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[qualname]
        if module == "torch" and name in STORAGE_DTYPES:
            return StorageType(name)
        raise refused_global(qualname)

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


def _element_size(dtype: torch.dtype) -> int:
    return torch.empty((), dtype=dtype).element_size()


def _read_zip(path: Path) -> Any:
    with zipfile.ZipFile(path) as archive:
        check_zip_entries(archive, path)
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("data.pkl")]
        if not pickles:
            raise CheckpointError(f"{str(path)!r} is a zip archive without data.pkl: not a PyTorch checkpoint")
        prefix = pickles[0][: -len("data.pkl")]
        byteorder = f"{prefix}byteorder"
        if byteorder in names and archive.getinfo(byteorder).file_size > 16:
            raise CheckpointError(f"{str(path)!r}: its byteorder entry is oversized; file is damaged")
        if byteorder in names and _read_entry(archive, byteorder, archive.getinfo(byteorder).file_size,
                                              path).strip() not in (b"little", b""):
            raise CheckpointError(f"{str(path)!r} was saved on a big-endian machine; this is not supported")
        storages: Dict[str, torch.Tensor] = {}

        def load_storage(storage_type: StorageType, key: str, numel: int) -> torch.Tensor:
            if key not in storages:
                name = f"{prefix}data/{key}"
                expected = numel * _element_size(storage_type.dtype)
                try:
                    declared = archive.getinfo(name).file_size
                except KeyError:
                    raise CheckpointError(f"{str(path)!r} has no data for storage {key}: file is damaged") from None
                if numel < 0 or declared != expected:  # checked before a single byte is read
                    raise CheckpointError(
                        f"storage {key} of {str(path)!r} declares {declared} bytes, expected {expected}: file is damaged")
                raw = _read_entry(archive, name, expected, path)
                storages[key] = (torch.frombuffer(raw, dtype=storage_type.dtype) if numel
                                 else torch.empty(0, dtype=storage_type.dtype))
            return storages[key]

        data = _read_entry(archive, pickles[0], archive.getinfo(pickles[0]).file_size, path)
        return _unpickle(io.BytesIO(bytes(data)), load_storage)


def _read_entry(archive: zipfile.ZipFile, name: str, limit: int, path: Path) -> bytearray:
    """Entry ``name`` read in chunks into a buffer of at most ``limit`` bytes (more data: damaged)."""
    buffer = bytearray(limit)
    view = memoryview(buffer)
    filled = 0
    with archive.open(name) as entry:
        while filled < limit:
            got = entry.readinto(view[filled:filled + CHUNK_BYTES])
            if not got:
                raise CheckpointError(f"{str(path)!r} is truncated (zip entry {name} is incomplete)")
            filled += got
        if entry.read(1):
            raise CheckpointError(f"{str(path)!r}: zip entry {name} holds more than its declared {limit} bytes")
    return buffer


def _read_legacy(path: Path) -> Any:
    budget = path.stat().st_size  # every storage's bytes must be in the file: allocations never exceed it
    with open(path, "rb") as stream:
        _read_legacy_header(stream, path)
        storages: Dict[str, torch.Tensor] = {}

        def allocate(storage_type: StorageType, key: str, numel: int) -> torch.Tensor:
            nonlocal budget
            if key not in storages:
                nbytes = numel * _element_size(storage_type.dtype)
                if numel < 0 or nbytes > budget:
                    raise CheckpointError(f"{str(path)!r}: storage {key} declares {nbytes} bytes, more than the "
                                          "file holds; the file is damaged or hostile")
                budget -= nbytes
                storages[key] = torch.empty(numel, dtype=storage_type.dtype)
            return storages[key]

        result = _unpickle(stream, allocate)
        keys = _unpickle(stream)
        if not isinstance(keys, (list, tuple)):
            raise CheckpointError(f"{str(path)!r}: the legacy storage list is a {type(keys).__name__}; file is damaged")
        filled = set()
        for key in keys:
            _fill_legacy_storage(stream, storages, str(key), path)
            filled.add(str(key))
    _check_all_filled(storages, filled, path)
    return result


def _read_legacy_header(stream: BinaryIO, path: Path) -> None:
    """Check the magic number, protocol and byte order that open a legacy file."""
    magic = _unpickle(stream)
    if magic != LEGACY_MAGIC_NUMBER:
        raise CheckpointError(f"{str(path)!r} is neither a zip nor a legacy PyTorch checkpoint (bad magic number)")
    protocol = _unpickle(stream)
    if protocol != LEGACY_PROTOCOL_VERSION:
        raise CheckpointError(f"{str(path)!r} uses unsupported legacy protocol {protocol!r}")
    sys_info = _unpickle(stream)
    if isinstance(sys_info, dict) and not sys_info.get("little_endian", True):
        raise CheckpointError(f"{str(path)!r} was saved on a big-endian machine; this is not supported")


def _read_record_header(stream: BinaryIO, key: str, expected: int, path: Path) -> None:
    """Read a legacy storage record's int64 element count and check it is ``expected``."""
    header = stream.read(8)
    if len(header) != 8:
        raise CheckpointError(f"{str(path)!r} is truncated (storage {key} missing)")
    (numel,) = struct.unpack("<q", header)
    if numel != expected:
        raise CheckpointError(f"{str(path)!r}: storage {key} holds {numel} elements, expected {expected}")


def _check_all_filled(declared, filled, path: Path) -> None:
    unfilled = sorted(set(declared) - set(filled))
    if unfilled:
        raise CheckpointError(f"{str(path)!r} uses storage(s) {unfilled[:5]} whose data the file never contains "
                              "(the weights would be garbage); the file is damaged")


def _fill_legacy_storage(stream: BinaryIO, storages: Dict[str, torch.Tensor], key: str, path: Path) -> None:
    """Read one storage record (int64 element count, raw bytes) into ``storages[key]``."""
    if key not in storages:
        raise CheckpointError(f"{str(path)!r} lists storage {key!r} that no tensor uses: file is damaged")
    storage = storages[key]
    _read_record_header(stream, key, storage.numel(), path)
    target = storage.view(torch.uint8)  # the storage's bytes, filled chunk by chunk (no full-size copy)
    for start in range(0, target.numel(), CHUNK_BYTES):
        chunk = stream.read(min(CHUNK_BYTES, target.numel() - start))
        if len(chunk) != min(CHUNK_BYTES, target.numel() - start):
            raise CheckpointError(f"{str(path)!r} is truncated (storage {key} is incomplete)")
        target[start:start + len(chunk)].copy_(torch.frombuffer(bytearray(chunk), dtype=torch.uint8))


class _Opaque:
    """What the storage scan puts where an unknown global would be: inert, never the real object."""

    def __new__(cls, *_args: Any, **_kwargs: Any) -> "_Opaque":
        return object.__new__(cls)

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        pass


class _StorageScanner(RestrictedUnpickler):
    """Walks a legacy pickle to learn its storages (as meta tensors) without allocating or running anything."""

    dispatch = dict(RestrictedUnpickler.dispatch)
    dispatch[pickle.BUILD[0]] = lambda self: self.stack.pop()

    def __init__(self, file: BinaryIO, storage_loader: Callable[[StorageType, str, int], torch.Tensor],
                 strict: bool = False) -> None:
        super().__init__(file, storage_loader)
        self._strict = strict  # True: a refused global stops the scan (UnsafeCheckpointError)

    def find_class(self, module: str, name: str) -> Any:
        try:
            return super().find_class(module, name)
        except UnsafeCheckpointError:
            if self._strict:
                raise
            return _Opaque


def scan_legacy_storages(path: Union[str, os.PathLike]) -> bool:
    """Check, before ``torch.load`` allocates anything, that a legacy file holds every storage it uses.

    Refuses (:class:`CheckpointError`) storages that are declared but never
    filled, records whose element count differs from the declaration, and
    data past the end of the file. A pickle the scan cannot follow (an
    unknown construct) is left to ``torch.load``'s own weights-only checks;
    a file that is not legacy-format is left alone. Returns whether the
    whole file was followed (``True``: every storage is present).
    """
    path = Path(path)
    size = path.stat().st_size
    declared: Dict[str, Tuple[int, int]] = {}  # key -> (elements, bytes)

    def record(storage_type: StorageType, key: str, numel: int) -> torch.Tensor:
        if numel < 0:
            raise CheckpointError(f"{str(path)!r}: storage {key} declares {numel} elements; the file is damaged")
        declared[key] = (numel, numel * _element_size(storage_type.dtype))
        return torch.empty(numel, dtype=storage_type.dtype, device="meta")

    with open(path, "rb") as stream:
        try:
            _read_legacy_header(stream, path)
            _StorageScanner(stream, record).load()
            keys = _unpickle(stream)
        except CheckpointError as exc:
            if "storage" in str(exc):
                raise
            return False  # not a legacy file, or a pickle torch.load judges itself
        except Exception:  # noqa: BLE001 - any other failure is torch.load's to report
            return False
        if not isinstance(keys, (list, tuple)):
            return False
        keys = [str(key) for key in keys]
        for key in keys:
            if key not in declared:
                raise CheckpointError(f"{str(path)!r} lists storage {key!r} that no tensor uses: file is damaged")
            numel, nbytes = declared[key]
            _read_record_header(stream, key, numel, path)
            stream.seek(nbytes, os.SEEK_CUR)
            if stream.tell() > size:
                raise CheckpointError(f"{str(path)!r} is truncated (storage {key} is incomplete)")
    _check_all_filled(declared, keys, path)
    return True


def first_refused_global(path: Union[str, os.PathLike]) -> Optional[str]:
    """The first global in the file's pickle that the allow-list refuses, or ``None``.

    Used to explain a file that ``torch.load(weights_only=True)`` rejects in
    other words (for example a protocol-4 pickle). Storages become meta
    tensors, nothing is allocated or called.
    """
    def meta(storage_type: StorageType, key: str, numel: int) -> torch.Tensor:
        return torch.empty(max(int(numel), 0), dtype=storage_type.dtype, device="meta")

    def scan(stream: BinaryIO) -> None:
        _StorageScanner(stream, meta, strict=True).load()

    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                check_zip_entries(archive, path)
                name = next((n for n in archive.namelist() if n.endswith("data.pkl")), None)
                if name is None:
                    return None
                scan(io.BytesIO(bytes(_read_entry(archive, name, archive.getinfo(name).file_size, Path(path)))))
        else:
            with open(path, "rb") as stream:
                _read_legacy_header(stream, Path(path))
                scan(stream)
    except UnsafeCheckpointError as exc:
        return exc.global_name
    except Exception:  # noqa: BLE001 - damage of any kind: no refused global found
        return None
    return None


def restricted_load(path: Union[str, os.PathLike]) -> Any:
    """Unpickle a torch checkpoint (zip or legacy) with the allow-list; tensors are on the CPU.

    Raises :class:`CheckpointError` (one line) for a refused global
    (:class:`UnsafeCheckpointError`, naming it), a truncated, damaged or
    oversized file, a view larger than its storage, or a format that is not
    a PyTorch checkpoint. Memory stays within about the file's size.
    """
    path = check_regular_file(path)
    try:
        result = _read_zip(path) if zipfile.is_zipfile(path) else _read_legacy(path)
    except CheckpointError:
        raise
    except (EOFError, pickle.UnpicklingError, zipfile.BadZipFile, struct.error, KeyError) as exc:
        raise CheckpointError(f"{str(path)!r} is truncated or not a PyTorch checkpoint "
                              f"({type(exc).__name__}: {one_line(exc)})") from exc
    except (TypeError, ValueError, AttributeError, IndexError, RuntimeError, OverflowError, RecursionError,
            MemoryError, UnicodeDecodeError, zlib.error, NotImplementedError) as exc:
        raise CheckpointError(f"{str(path)!r} could not be unpickled safely ({type(exc).__name__}: "
                              f"{one_line(exc)})") from exc
    check_tensor_views(result, repr(str(path)))
    return result


def one_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message, at most ``limit`` characters."""
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:limit]
