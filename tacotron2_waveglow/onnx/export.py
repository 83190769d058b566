"""Writing an export folder: the ONNX graphs of Tacotron 2 and/or WaveGlow, the manifest, then verification.

The graphs are traced with PyTorch's TorchScript-based ONNX exporter
(``torch.onnx.export(..., dynamo=False)``): the ``torch.export``-based one
takes minutes on WaveGlow's unrolled flows and fixes the text axis of the
encoder's outputs. Everything is written into a hidden staging folder beside
``out_dir``, verified with ONNX Runtime (:mod:`tacotron2_waveglow.onnx.verify`),
and only then renamed to ``out_dir``; a failed or interrupted export leaves
nothing under that name, and an existing export is replaced only with
``force=True``.
"""
from __future__ import annotations

import copy
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Union

import torch

from tacotron2 import Tacotron2
from text.symbols import symbols as SYMBOLS
from waveglow import WaveGlow

from ..bundles import NVIDIA_TEXT, TextProcessor
from .graphs import DecoderStepGraph, EncoderGraph, PostnetGraph, WaveGlowGraph
from .manifest import EXPORT_ID_KEY, GRAPH_KEY, MANIFEST_NAME, GraphSpec, Manifest, OnnxExportError
from .plain_kernels import plain_cpu_kernels
from .sessions import import_onnx, import_onnxruntime
from .specs import axis_sizes, dynamic_axes, sample_feed, tacotron2_specs, waveglow_specs
from .verify import VerificationReport, effective_tolerances, verify_export

PathLike = Union[str, "os.PathLike[str]"]

DEFAULT_OPSET = 17
#: Opsets the exporter is tested with (the TorchScript exporter writes 9 to 20; our graphs need 14 or more).
SUPPORTED_OPSETS = tuple(range(14, 21))
PRECISIONS = ("fp32", "fp16")
#: Sizes of the traced sample inputs (different from the verification's, so dynamic axes are exercised).
TRACE_SIZES = dict(batch=2, text_len=9, frames=5)


@dataclass
class ExportResult:
    """The folder written, its manifest and the verification report (``None`` when skipped)."""

    folder: Path
    manifest: Manifest
    report: Optional[VerificationReport]


def package_version() -> str:
    """This package's installed version (``"unknown"`` when run from a source tree without metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tacotron2-waveglow")
    except PackageNotFoundError:
        return "unknown"


def _check_out_dir(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise OnnxExportError(f"{out_dir} exists and is not a folder; choose another output folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        what = "an export" if (out_dir / MANIFEST_NAME).exists() else "files"
        raise OnnxExportError(f"{out_dir} already holds {what}; pass --force (force=True) to replace it, "
                              "or choose another folder")


def _export_graph(module: torch.nn.Module, spec: GraphSpec, path: Path, opset: int, export_id: str, name: str,
                  sizes: Dict[str, int], n_symbols: Optional[int]) -> None:
    """Trace ``module`` to ``path`` and stamp the graph with the export id and its role."""
    onnx = import_onnx()
    feed = sample_feed(spec, sizes, torch.Generator().manual_seed(0), n_symbols)
    with torch.no_grad(), plain_cpu_kernels(), warnings.catch_warnings():
        # the TorchScript exporter is deprecated in favour of dynamo=True (see the module docstring) and warns
        # about shape checks it traces as constants; neither concerns the user
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(module, tuple(feed.values()), str(path), input_names=spec.input_names(),
                              output_names=spec.output_names(), dynamic_axes=dynamic_axes(spec),
                              opset_version=opset, do_constant_folding=True, dynamo=False)
        except Exception as exc:  # the exporter raises many types; name the graph and the cause on one line
            raise OnnxExportError(f"exporting the {name} graph with opset {opset} failed: "
                                  f"{' '.join(str(exc).split())[:300]}") from None
    model = onnx.load(str(path))
    for key, value in ((EXPORT_ID_KEY, export_id), (GRAPH_KEY, name)):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.producer_name = "tacotron2-waveglow"
    onnx.save(model, str(path))


def _publish(staging: Path, out_dir: Path, force: bool) -> None:
    """Rename ``staging`` to ``out_dir``; with ``force`` an existing ``out_dir`` is removed only after that."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(staging, 0o777 & ~mask)  # mkdtemp's 0700 -> what a plain mkdir would give
    old = None
    if out_dir.exists() and force:
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
        os.replace(out_dir, old / out_dir.name)
    try:
        os.rename(staging, out_dir)  # fails if another run created a non-empty out_dir meanwhile
    except OSError:
        if old is not None:
            os.replace(old / out_dir.name, out_dir)
        raise OnnxExportError(f"{out_dir} was written by another run while this export ran; nothing was "
                              "replaced: export again into a folder of its own") from None
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def export_onnx(out_dir: PathLike, tacotron2: Optional[Tacotron2] = None, waveglow: Optional[WaveGlow] = None, *,
                opset: int = DEFAULT_OPSET, precision: str = "fp32", text_processor: TextProcessor = NVIDIA_TEXT,
                force: bool = False, verify: bool = True, tolerances: Optional[Dict[str, float]] = None,
                ) -> ExportResult:
    """Export Tacotron 2 (``encoder``, ``decoder_step``, ``postnet``) and/or WaveGlow (``waveglow``) to ``out_dir``.

    Args:
        out_dir: the export folder (created; must be empty or absent unless ``force``).
        tacotron2, waveglow: models from ``checkpoints.load_tacotron2`` /
            ``load_waveglow`` or a named voice; at least one. They are not changed
            (the export works on copies, WaveGlow's weight norm folded).
        opset: ONNX opset, one of :data:`SUPPORTED_OPSETS`.
        precision: ``"fp32"``, or ``"fp16"`` (every graph in half precision, for GPU runtimes; verified
            on ONNX Runtime's CPU provider against our fp32 model with :data:`~tacotron2_waveglow.onnx.verify.FP16_TOLERANCES`).
        text_processor: the cleaners, end punctuation and ARPAbet setting recorded in the manifest.
        force: replace an existing export in ``out_dir``.
        verify: run :func:`~tacotron2_waveglow.onnx.verify.verify_export` before publishing.
        tolerances: per-check overrides of the verification tolerances.

    Raises:
        OnnxExportError: bad arguments, an occupied ``out_dir``, or a failed export (nothing is left behind).
        OnnxVerificationError: ONNX Runtime's outputs differ from PyTorch's beyond the tolerance.
    """
    if tacotron2 is None and waveglow is None:
        raise OnnxExportError("nothing to export: give a Tacotron 2 and/or a WaveGlow model")
    if isinstance(opset, bool) or not isinstance(opset, int) or opset not in SUPPORTED_OPSETS:
        raise OnnxExportError(f"opset must be one of {SUPPORTED_OPSETS[0]}..{SUPPORTED_OPSETS[-1]}, got {opset!r}")
    if precision not in PRECISIONS:
        raise OnnxExportError(f"precision {precision!r} is not supported; use one of {', '.join(PRECISIONS)}")
    effective_tolerances(precision, tolerances)  # refuse unknown check names before any work
    if isinstance(tacotron2, Tacotron2) and tacotron2.config.n_frames_per_step != 1:
        raise OnnxExportError(f"the ONNX export runs Tacotron 2 models with n_frames_per_step=1; this one predicts "
                              f"{tacotron2.config.n_frames_per_step} frames per step (run it with "
                              "backend='reference' in PyTorch)")
    import_onnx()
    if verify:
        import_onnxruntime()
    for label, model, cls in (("tacotron2", tacotron2, Tacotron2), ("waveglow", waveglow, WaveGlow)):
        if model is not None and not isinstance(model, cls):
            raise OnnxExportError(f"{label} must be a {cls.__name__}, got {type(model).__name__}")
    out_dir = Path(out_dir)
    _check_out_dir(out_dir, force)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(opset=opset, precision=precision, package_version=package_version(),
                        cleaners=list(text_processor.cleaners), end_punctuation=text_processor.end_punctuation,
                        arpabet=text_processor.arpabet)
    dtype = torch.float16 if precision == "fp16" else torch.float32
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.export-", dir=out_dir.parent))
    try:
        if tacotron2 is not None:
            model = copy.deepcopy(tacotron2).to(device="cpu", dtype=dtype).eval()
            manifest.tacotron2_config = model.config.to_dict()
            manifest.symbols = list(SYMBOLS)
            specs = tacotron2_specs(model.config, precision)
            modules = {"encoder": EncoderGraph(model), "decoder_step": DecoderStepGraph(model),
                       "postnet": PostnetGraph(model)}
            sizes = axis_sizes(**TRACE_SIZES)
            for name, spec in specs.items():
                _export_graph(modules[name].eval(), spec, staging / spec.file, opset, manifest.export_id, name,
                              sizes, model.config.n_symbols)
            manifest.graphs.update(specs)
        if waveglow is not None:
            glow = copy.deepcopy(waveglow).float().cpu().eval().remove_weightnorm().to(dtype)
            manifest.waveglow_config = glow.config.to_dict()
            specs = waveglow_specs(glow.config, precision)
            sizes = axis_sizes(**TRACE_SIZES, n_group=glow.config.n_group)
            for name, spec in specs.items():
                _export_graph(WaveGlowGraph(glow).eval(), spec, staging / spec.file, opset, manifest.export_id,
                              name, sizes, None)
            manifest.graphs.update(specs)
        for spec in manifest.graphs.values():
            spec.size_bytes = (staging / spec.file).stat().st_size
        manifest.tolerances = effective_tolerances(precision, tolerances)
        (staging / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
        report = None
        if verify:
            report = verify_export(staging, tacotron2, waveglow, tolerances=tolerances)
            manifest.verification = dict(report.errors)
            (staging / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
        _check_out_dir(out_dir, force)
        _publish(staging, out_dir, force)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(out_dir, manifest, report)

