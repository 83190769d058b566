"""Opening an export folder's graphs with ONNX Runtime, refusing files that do not belong to it."""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import BinaryIO, Dict, Optional, Sequence, Tuple, Union

from .manifest import EXPORT_ID_KEY, GRAPH_KEY, Manifest, OnnxExportError

PathLike = Union[str, "os.PathLike[str]"]


def import_onnxruntime():
    """The ``onnxruntime`` module, or an ``ImportError`` saying how to install it."""
    try:
        import onnxruntime
    except ImportError:
        raise ImportError("the ONNX Runtime backend needs onnxruntime: pip install 'tacotron2-waveglow[onnx]'") \
            from None
    return onnxruntime


def import_onnx():
    """The ``onnx`` module (needed to export), or an ``ImportError`` saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise ImportError("exporting needs onnx and onnxruntime: pip install 'tacotron2-waveglow[onnx]'") from None
    return onnx


def session_options(threads: Optional[int] = None):
    """``onnxruntime.SessionOptions`` with ``threads`` intra-op threads (``None``: ONNX Runtime's default)."""
    ort = import_onnxruntime()
    options = ort.SessionOptions()
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive int, got {threads!r}")
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: ORT's warnings would go to stderr unfiltered
    return options


def open_graph(folder: PathLike, manifest: Manifest, name: str, *, providers: Optional[Sequence[str]] = None,
               threads: Optional[int] = None):
    """An ``onnxruntime.InferenceSession`` for graph ``name`` of the export in ``folder``.

    Raises :class:`OnnxExportError` (one line) when the file is missing, was
    written by another export (its ``export_id`` differs from the
    manifest's), has another opset than the manifest, or has other input or
    output names.
    """
    ort = import_onnxruntime()
    spec = manifest.graphs.get(name)
    if spec is None:
        raise OnnxExportError(f"{folder} has no {name} graph in its manifest; export it with tacotron2-export-onnx")
    path = Path(folder) / spec.file
    if not path.is_file():
        raise OnnxExportError(f"{path} is missing (listed in the manifest); re-export the folder")
    if spec.size_bytes and path.stat().st_size != spec.size_bytes:
        raise OnnxExportError(f"{path} has {path.stat().st_size} bytes, the manifest says {spec.size_bytes}: "
                              "the file was replaced or truncated; re-export the folder")
    opset = default_opset(path)
    if opset != manifest.opset:
        raise OnnxExportError(f"{path} uses ONNX opset {opset}, its manifest says {manifest.opset}: "
                              "the file comes from another export; re-export the folder")
    try:
        session = ort.InferenceSession(str(path), sess_options=session_options(threads),
                                       providers=list(providers) if providers else ["CPUExecutionProvider"])
    except Exception as exc:  # ORT raises its own exception types (InvalidGraph, Fail, ...)
        raise OnnxExportError(f"ONNX Runtime cannot load {path}: {' '.join(str(exc).split())[:300]}") from None
    meta = session.get_modelmeta().custom_metadata_map
    if meta.get(EXPORT_ID_KEY) != manifest.export_id or meta.get(GRAPH_KEY) != name:
        raise OnnxExportError(f"{path} belongs to another export (another model or config) than {folder}'s manifest; "
                              "do not mix files of two exports: re-export the folder")
    names = ([i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()])
    if names != (spec.input_names(), spec.output_names()):
        raise OnnxExportError(f"{path} has inputs {names[0]} and outputs {names[1]}, the manifest lists "
                              f"{spec.input_names()} and {spec.output_names()}; re-export the folder")
    return session


def _varint(handle: BinaryIO) -> Optional[int]:
    """Read one protobuf varint; ``None`` at end of file."""
    value = shift = 0
    while True:
        byte = handle.read(1)
        if not byte:
            return None
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
        shift += 7


def default_opset(path: PathLike) -> Optional[int]:
    """The default-domain opset of the ONNX file ``path``, read from its top-level ``opset_import`` entries.

    Scans only the top level of the ``ModelProto`` (the graph and its weights
    are skipped, not parsed), so it is cheap for large files and needs no ``onnx``
    package. ``None`` when the file declares no default-domain opset.
    """
    found = None
    with open(path, "rb") as handle:
        while True:
            key = _varint(handle)
            if key is None:
                return found
            field_number, wire_type = key >> 3, key & 7
            if wire_type == 0:
                _varint(handle)
            elif wire_type == 2:
                length = _varint(handle) or 0
                if field_number == 8:  # OperatorSetIdProto: domain (1, string), version (2, int64)
                    domain, version = _opset_entry(handle.read(length))
                    if domain in ("", "ai.onnx"):
                        found = version
                else:
                    handle.seek(length, os.SEEK_CUR)
            elif wire_type in (1, 5):
                handle.seek(8 if wire_type == 1 else 4, os.SEEK_CUR)
            else:
                raise OnnxExportError(f"{path} is not an ONNX model file (bad protobuf wire type {wire_type})")


def _opset_entry(data: bytes) -> Tuple[str, Optional[int]]:
    handle = io.BytesIO(data)
    domain, version = "", None
    while True:
        key = _varint(handle)
        if key is None:
            return domain, version
        if key == (1 << 3 | 2):
            domain = handle.read(_varint(handle) or 0).decode("utf-8", "replace")
        elif key == (2 << 3 | 0):
            version = _varint(handle)
        elif key & 7 == 2:
            handle.seek(_varint(handle) or 0, os.SEEK_CUR)
        else:
            _varint(handle)


def open_graphs(folder: PathLike, manifest: Manifest, names: Sequence[str], *,
                providers: Optional[Sequence[str]] = None, threads: Optional[int] = None) -> Dict[str, object]:
    """:func:`open_graph` for each of ``names``."""
    return {name: open_graph(folder, manifest, name, providers=providers, threads=threads) for name in names}
