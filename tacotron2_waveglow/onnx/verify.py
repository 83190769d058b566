"""Built-in verification: every graph of an export run with ONNX Runtime against our PyTorch model.

The error of an output is ``max |onnx - torch| / max(1, max |torch|)`` (an
absolute error for values up to 1, relative beyond). The default tolerances
(:data:`DEFAULT_TOLERANCES`) are about 10 to 100 times what fp32 rounding gives on the tiny test
models and on hub-size random models; an export that exceeds one is refused.

* ``encoder``: the graph against ``Tacotron2.encode`` (packed BiLSTM) and the
  attention's memory layer, on an unsorted padded batch;
* ``decoder_step``: against ``Decoder.step`` after the prenet with the same
  dropout scales, on random states;
* ``postnet``: against ``mel + Tacotron2.postnet(mel)``;
* ``infer``: :class:`~tacotron2_waveglow.onnx.runtime.OnnxTacotron2` against
  ``Tacotron2.infer`` (faithful loop) after the same seed, early stopping off
  for :data:`INFER_STEPS` steps (the lengths must agree exactly);
* ``waveglow``: the graph against the faithful ``WaveGlow.infer`` with the
  same latent; ``waveglow_seeded``: :class:`~tacotron2_waveglow.onnx.runtime.OnnxWaveGlow`
  drawing its own latent against ``WaveGlow.infer`` after the same seed.

The sample sizes differ from the ones the graphs were traced with, so the
dynamic axes are exercised too.
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional, Union

import numpy as np
import torch

from tacotron2 import Tacotron2
from waveglow import WaveGlow

from .graphs import DecoderStepGraph
from .manifest import OnnxExportError, read_manifest
from .plain_kernels import plain_cpu_kernels
from .runtime import OnnxTacotron2, OnnxWaveGlow
from .specs import as_numpy, axis_sizes, sample_feed

PathLike = Union[str, "os.PathLike[str]"]

#: Largest allowed error per check (see the module docstring for the measure).
DEFAULT_TOLERANCES: Dict[str, float] = {"encoder": 1e-4, "decoder_step": 1e-4, "postnet": 1e-4, "infer": 1e-3,
                                        "waveglow": 1e-3, "waveglow_seeded": 1e-3}
#: fp16 graphs (an 11-bit mantissa) against our fp32 model: about 5 times the errors measured on the tiny
#: test models and hub-size random ones (1e-4 to 2e-3).
FP16_TOLERANCES: Dict[str, float] = {name: 1e-2 for name in DEFAULT_TOLERANCES}
#: Decoder steps of the ``infer`` check.
INFER_STEPS = 12
VERIFY_SIZES = dict(batch=3, text_len=13, frames=7)


def effective_tolerances(precision: str, overrides: Optional[Mapping[str, float]] = None) -> Dict[str, float]:
    """The tolerance of every check for graphs of ``precision``, with ``overrides`` applied."""
    unknown = sorted(set(overrides or {}) - set(DEFAULT_TOLERANCES))
    if unknown:
        raise OnnxExportError(f"unknown verification check(s) {unknown}; the checks are {list(DEFAULT_TOLERANCES)}")
    base = FP16_TOLERANCES if precision == "fp16" else DEFAULT_TOLERANCES
    return {**base, **(overrides or {})}


class OnnxVerificationError(OnnxExportError):
    """ONNX Runtime's outputs differ from PyTorch's beyond the tolerance."""


@dataclass
class VerificationReport:
    """Measured error of each check and its tolerance."""

    errors: Dict[str, float] = field(default_factory=dict)
    tolerances: Dict[str, float] = field(default_factory=dict)

    def failures(self) -> Dict[str, float]:
        return {k: v for k, v in self.errors.items() if not v <= self.tolerances[k]}

    def format(self) -> str:
        """One line: ``name error (tolerance)`` per check."""
        return ", ".join(f"{k} {v:.2e} (tol {self.tolerances[k]:.0e})" for k, v in self.errors.items())


def relative_error(onnx_value: np.ndarray, torch_value: torch.Tensor) -> float:
    """``max |a - b| / max(1, max |b|)``; inf for a shape mismatch or NaN."""
    reference = torch_value.detach().cpu().float().numpy()
    value = np.asarray(onnx_value, dtype=np.float32)
    if value.shape != reference.shape:
        return float("inf")
    scale = max(1.0, float(np.abs(reference).max(initial=0.0)))
    error = float(np.abs(value - reference).max(initial=0.0)) / scale
    return error if np.isfinite(error) else float("inf")


def check_configs(manifest, folder: PathLike, tacotron2: Optional[torch.nn.Module],
                  waveglow: Optional[torch.nn.Module]) -> None:
    """Refuse (one line) a folder exported from another config than the given models'."""
    for label, model, stored in (("Tacotron 2", tacotron2, manifest.tacotron2_config),
                                 ("WaveGlow", waveglow, manifest.waveglow_config)):
        if model is None:
            continue
        if stored is None:
            raise OnnxExportError(f"{folder} holds no {label} export; export one with tacotron2-export-onnx")
        mine = model.config.to_dict()
        differ = sorted(k for k in set(mine) | set(stored) if mine.get(k) != stored.get(k))
        if differ:
            shown = ", ".join(f"{k}: folder {stored.get(k)!r} vs model {mine.get(k)!r}" for k in differ[:3])
            raise OnnxExportError(f"{folder} was exported from a {label} with another config ({shown}); "
                                  "export this model into its own folder")


def verify_export(folder: PathLike, tacotron2: Optional[Tacotron2] = None, waveglow: Optional[WaveGlow] = None, *,
                  tolerances: Optional[Mapping[str, float]] = None, seed: int = 0,
                  threads: Optional[int] = None) -> VerificationReport:
    """Run every graph of ``folder`` for the given models and compare with PyTorch (see the module docstring).

    The global PyTorch generator is left as it was.

    Raises:
        OnnxExportError: the folder does not fit the models (config, missing graphs).
        OnnxVerificationError: an error above its tolerance (the message lists every check).
    """
    manifest = read_manifest(folder)
    check_configs(manifest, folder, tacotron2, waveglow)
    report = VerificationReport(tolerances=effective_tolerances(manifest.precision, tolerances))
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]), torch.no_grad(), plain_cpu_kernels():
        if tacotron2 is not None:
            _verify_tacotron2(folder, manifest, _fp32_eval(tacotron2), report, generator, seed, threads)
        if waveglow is not None:
            _verify_waveglow(folder, manifest, _fp32_eval(waveglow), report, generator, seed, threads)
    failed = report.failures()
    if failed:
        raise OnnxVerificationError(f"ONNX Runtime differs from PyTorch in {', '.join(failed)}: {report.format()}; "
                                    "the export is not usable (report this with the checkpoint's layout)")
    return report


def _fp32(feed: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """The feed with floating-point inputs in fp32, for the PyTorch side (the graphs may be fp16)."""
    return {name: value.float() if value.is_floating_point() else value for name, value in feed.items()}


def _fp32_eval(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` itself when it is an fp32 CPU model in eval mode, else such a copy (the caller's is untouched)."""
    first = next(model.parameters())
    if not model.training and first.dtype == torch.float32 and first.device.type == "cpu":
        return model
    return copy.deepcopy(model).float().cpu().eval()


def _verify_tacotron2(folder, manifest, model: Tacotron2, report: VerificationReport, generator: torch.Generator,
                      seed: int, threads: Optional[int]) -> None:
    onnx_model = OnnxTacotron2(folder, manifest=manifest, threads=threads)
    sizes = axis_sizes(**VERIFY_SIZES)
    n_symbols = model.config.n_symbols
    feed = sample_feed(manifest.graphs["encoder"], sizes, generator, n_symbols)
    memory, processed = onnx_model.sessions["encoder"].run(None, as_numpy(feed))
    reference = model.encode(feed["text"], feed["input_lengths"])  # (B, max(lengths), E): the packed BiLSTM
    reference_processed = model.decoder.attention_layer.memory_layer(reference)
    report.errors["encoder"] = max(relative_error(memory, reference), relative_error(processed, reference_processed))

    feed = sample_feed(manifest.graphs["decoder_step"], sizes, generator, n_symbols)
    outputs = onnx_model.sessions["decoder_step"].run(None, as_numpy(feed))
    expected = DecoderStepGraph(model)(*_fp32(feed).values())
    report.errors["decoder_step"] = max(relative_error(o, e) for o, e in zip(outputs, expected))

    feed = sample_feed(manifest.graphs["postnet"], sizes, generator, n_symbols)
    mel = _fp32(feed)["mel"]
    report.errors["postnet"] = relative_error(onnx_model.postnet(as_numpy(feed)["mel"]), mel + model.postnet(mel))

    text = sample_feed(manifest.graphs["encoder"], sizes, generator, n_symbols)
    torch.manual_seed(seed)
    got = onnx_model.generate(text["text"], text["input_lengths"], early_stopping=False,
                              max_decoder_steps=INFER_STEPS)
    torch.manual_seed(seed)
    want = model.generate(text["text"], text["input_lengths"], early_stopping=False, max_decoder_steps=INFER_STEPS,
                          backend="reference")
    same_lengths = torch.equal(got.mel_lengths, want.mel_lengths.cpu()) and torch.equal(got.reached_limit,
                                                                                        want.reached_limit.cpu())
    report.errors["infer"] = (max(relative_error(got.mel_postnet.numpy(), want.mel_postnet),
                                  relative_error(got.alignments.numpy(), want.alignments))
                              if same_lengths else float("inf"))


def _verify_waveglow(folder, manifest, model: WaveGlow, report: VerificationReport, generator: torch.Generator,
                     seed: int, threads: Optional[int]) -> None:
    onnx_model = OnnxWaveGlow(folder, manifest=manifest, threads=threads)
    sizes = axis_sizes(**VERIFY_SIZES, n_group=model.config.n_group)
    feed = sample_feed(manifest.graphs["waveglow"], sizes, generator)
    audio = onnx_model.sessions["waveglow"].run(None, as_numpy(feed))[0]
    torch_feed = _fp32(feed)
    expected = model.infer(torch_feed["mel"], float(feed["sigma"]), torch_feed["z"], backend="reference")
    report.errors["waveglow"] = relative_error(audio, expected)
    torch.manual_seed(seed)
    drawn = onnx_model.infer(torch_feed["mel"], 0.6)
    torch.manual_seed(seed)
    report.errors["waveglow_seeded"] = relative_error(drawn.numpy(), model.infer(torch_feed["mel"], 0.6,
                                                                                 backend="reference"))
