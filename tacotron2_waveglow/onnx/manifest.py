"""The JSON manifest of an ONNX export folder: what each graph is, and the checks that it belongs there.

An export folder holds ``encoder.onnx``, ``decoder_step.onnx``,
``postnet.onnx`` (Tacotron 2) and/or ``waveglow.onnx``, plus
``manifest.json``. The manifest records the configs, the opset, every graph's
input and output names, shapes (symbolic axes by name) and dtypes, the symbol
table and cleaners, the package version, an ``export_id`` and each file's
size, the verification tolerances and the errors measured when it was
written. Every graph carries the same ``export_id`` in its ONNX metadata, so a
graph copied in from another export (another model or config) is refused
when the folder is loaded.
"""
from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

PathLike = Union[str, "os.PathLike[str]"]

MANIFEST_NAME = "manifest.json"
#: Version of the manifest layout; a folder with another one is refused.
FORMAT_VERSION = 1
#: ONNX metadata key that ties each graph to its manifest.
EXPORT_ID_KEY = "tacotron2_waveglow.export_id"
#: ONNX metadata key naming the graph's role (``encoder``, ``decoder_step``, ...).
GRAPH_KEY = "tacotron2_waveglow.graph"

TACOTRON2_GRAPHS = ("encoder", "decoder_step", "postnet")
WAVEGLOW_GRAPHS = ("waveglow",)


class OnnxExportError(ValueError):
    """An ONNX export folder that cannot be used (missing, foreign or mismatched files); one-line message."""


@dataclass
class TensorSpec:
    """One graph input or output: ``shape`` entries are ints or axis names such as ``"batch"``."""

    name: str
    shape: List[Union[int, str]]
    dtype: str


@dataclass
class GraphSpec:
    """One ONNX file of the export."""

    file: str
    inputs: List[TensorSpec]
    outputs: List[TensorSpec]
    size_bytes: int = 0

    def input_names(self) -> List[str]:
        return [t.name for t in self.inputs]

    def output_names(self) -> List[str]:
        return [t.name for t in self.outputs]


@dataclass
class Manifest:
    """Everything a runtime needs to know about an export folder without importing PyTorch models."""

    opset: int
    precision: str
    package_version: str
    export_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    format_version: int = FORMAT_VERSION
    tacotron2_config: Optional[Dict[str, Any]] = None
    waveglow_config: Optional[Dict[str, Any]] = None
    symbols: Optional[List[str]] = None
    cleaners: Optional[List[str]] = None
    end_punctuation: Optional[str] = None
    arpabet: bool = False
    graphs: Dict[str, GraphSpec] = field(default_factory=dict)
    tolerances: Dict[str, float] = field(default_factory=dict)
    verification: Dict[str, float] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = MANIFEST_NAME) -> "Manifest":
        """Parse a manifest; :class:`OnnxExportError` naming ``where`` for anything malformed."""
        if not isinstance(data, Mapping):
            raise OnnxExportError(f"{where} is not a JSON object; re-export with tacotron2-export-onnx")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise OnnxExportError(f"{where} has manifest format {version!r}, this version reads {FORMAT_VERSION}; "
                                  "re-export with this version's tacotron2-export-onnx")
        try:
            graphs = {name: GraphSpec(file=g["file"], size_bytes=int(g.get("size_bytes", 0)),
                                      inputs=[TensorSpec(**t) for t in g["inputs"]],
                                      outputs=[TensorSpec(**t) for t in g["outputs"]])
                      for name, g in data["graphs"].items()}
            fields_ = {k: data[k] for k in ("opset", "precision", "package_version", "export_id")}
        except (KeyError, TypeError) as exc:
            raise OnnxExportError(f"{where} lacks or garbles the entry {exc}; re-export with tacotron2-export-onnx") \
                from None
        return cls(**fields_, format_version=version, graphs=graphs,
                   tacotron2_config=data.get("tacotron2_config"), waveglow_config=data.get("waveglow_config"),
                   symbols=data.get("symbols"), cleaners=data.get("cleaners"),
                   end_punctuation=data.get("end_punctuation"), arpabet=bool(data.get("arpabet", False)),
                   tolerances=dict(data.get("tolerances") or {}),
                   verification=dict(data.get("verification") or {}))

    def has_tacotron2(self) -> bool:
        return all(name in self.graphs for name in TACOTRON2_GRAPHS)

    def has_waveglow(self) -> bool:
        return all(name in self.graphs for name in WAVEGLOW_GRAPHS)


def read_manifest(folder: PathLike) -> Manifest:
    """The manifest of ``folder``; :class:`OnnxExportError` when the folder or manifest is missing or malformed."""
    folder = Path(folder)
    if not folder.is_dir():
        raise OnnxExportError(f"ONNX folder not found: {folder} (export one with tacotron2-export-onnx)")
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise OnnxExportError(f"{folder} has no {MANIFEST_NAME}: it is not a tacotron2-export-onnx folder")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OnnxExportError(f"cannot read {path}: {' '.join(str(exc).split())}") from None
    return Manifest.from_dict(data, str(path))
