"""ONNX export of Tacotron 2 and WaveGlow, and an ONNX Runtime backend that gives our numbers.

* :func:`export_onnx` (CLI ``tacotron2-export-onnx``, ``python -m tacotron2_waveglow.onnx``):
  writes ``encoder.onnx``, ``decoder_step.onnx``, ``postnet.onnx``, ``waveglow.onnx`` and
  ``manifest.json``, then verifies every graph with ONNX Runtime against PyTorch;
* :class:`OnnxTacotron2`, :class:`OnnxWaveGlow`, :func:`load_onnx`: the runtime, with
  the models' ``infer`` signatures (``Synthesizer.from_onnx`` builds the pipeline on them);
* :func:`verify_export`: the verification on its own.

See ``docs/deployment.md``. Nothing is imported at package import time beyond
these names' modules; ``onnx`` and ``onnxruntime`` are imported when used.
"""
from .export import DEFAULT_OPSET, ExportResult, export_onnx
from .manifest import Manifest, OnnxExportError, read_manifest
from .runtime import OnnxTacotron2, OnnxWaveGlow, load_onnx
from .verify import DEFAULT_TOLERANCES, OnnxVerificationError, VerificationReport, verify_export

__all__ = ["DEFAULT_OPSET", "DEFAULT_TOLERANCES", "ExportResult", "Manifest", "OnnxExportError", "OnnxTacotron2",
           "OnnxVerificationError", "OnnxWaveGlow", "VerificationReport", "export_onnx", "load_onnx",
           "read_manifest", "verify_export"]
