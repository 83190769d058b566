"""ONNX Runtime backend: Tacotron 2 and WaveGlow from an export folder, with the PyTorch models' interface.

:class:`OnnxTacotron2` runs the encoder graph once, the decoder-step graph
once per frame and the postnet graph once, with the stop rule of
:meth:`tacotron2.Tacotron2.infer` (:class:`tacotron2.stop_check.StopTracker`:
``mel_lengths`` counts the frames before each item's first gate firing,
decoding runs until the last item stops or ``max_decoder_steps``). The prenet
dropout scales are drawn per step by :func:`tacotron2.prenet_masks.draw_prenet_masks_`
from PyTorch's CPU generator, in the order of the faithful PyTorch loop, so
``torch.manual_seed(s)`` before ``infer`` gives the numbers of
``Tacotron2.infer`` on the CPU after the same seed (to the tolerance in
:mod:`tacotron2_waveglow.onnx.verify`). :class:`OnnxWaveGlow` draws its latent
with :func:`waveglow.noise.draw_latent` (the order of ``WaveGlow.infer``).

Both take and return ``torch`` tensors (on the CPU) and expose ``config``,
so :class:`~tacotron2_waveglow.synthesis.Synthesizer` and ``stream_speech``
use them like the PyTorch models (see ``Synthesizer.from_onnx``).
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch

from tacotron2 import Tacotron2Config
from tacotron2.decoder_state import DecoderState
from tacotron2.masks import padding_mask
from tacotron2.model import _check_text
from tacotron2.outputs import Tacotron2Generation, Tacotron2Inference
from tacotron2.prenet_masks import draw_prenet_masks_
from tacotron2.stop_check import StopTracker
from waveglow import WaveGlow, WaveGlowConfig
from waveglow.noise import check_latent, draw_latent
from waveglow.model import HOP_LENGTH

from .manifest import TACOTRON2_GRAPHS, WAVEGLOW_GRAPHS, Manifest, OnnxExportError, read_manifest
from .sessions import open_graphs

PathLike = Union[str, "os.PathLike[str]"]


def _numpy(tensor: torch.Tensor, dtype: np.dtype) -> np.ndarray:
    return np.ascontiguousarray(tensor.detach().cpu().numpy(), dtype=dtype)


def _float_dtype(manifest: Manifest) -> np.dtype:
    return np.dtype(np.float16 if manifest.precision == "fp16" else np.float32)


class _OnnxModel:
    """What the pipeline asks of a model besides ``infer``: ``to``, ``eval``, ``config``."""

    manifest: Manifest

    def to(self, device: Union[str, torch.device] = "cpu", *args, **kwargs) -> "_OnnxModel":
        """No-op returning self: ONNX Runtime sessions keep their providers; outputs are CPU tensors."""
        return self

    def eval(self) -> "_OnnxModel":
        """No-op returning self (the graphs are inference graphs)."""
        return self

    def _open(self, folder: PathLike, manifest: Optional[Manifest], label: str, graphs: Sequence[str],
              config: Optional[dict], providers: Optional[Sequence[str]], threads: Optional[int]) -> dict:
        """Read the manifest, refuse a folder without ``graphs``, open their sessions; returns ``config``."""
        self.manifest = read_manifest(folder) if manifest is None else manifest
        config = getattr(self.manifest, config)
        if not all(name in self.manifest.graphs for name in graphs) or config is None:
            flag = "--tacotron2" if label == "Tacotron 2" else "--waveglow"
            raise OnnxExportError(f"{folder} holds no {label} graphs; export them with tacotron2-export-onnx "
                                  f"{flag} PATH")
        self.folder = os.fspath(folder)
        self.sessions = open_graphs(folder, self.manifest, graphs, providers=providers, threads=threads)
        self._float = _float_dtype(self.manifest)
        return config

    #: what the pipeline reports for these models (``Synthesizer.engines``)
    nbytes = 0
    prepare_seconds = 0.0

    def prepare_inference(self, backend: Optional[str] = None, precision: str = "fp32", **options) -> "_OnnxModel":
        """The inference vocabulary's entry point (``backend="onnxruntime"``): these models are prepared already,
        so this checks the request and returns self. Options of the PyTorch backends must be left unset."""
        if backend not in (None, "onnxruntime"):
            raise ValueError(f"an ONNX Runtime model runs backend 'onnxruntime', not {backend!r}")
        self._check_precision(precision)
        given = sorted(name for name, value in options.items() if value is not None)
        if given:
            raise ValueError(f"{', '.join(given)} do not apply to the onnxruntime backend (its graphs run as exported)")
        return self

    def describe(self) -> str:
        """``"onnxruntime/fp32"``: the backend and the export's precision."""
        return f"onnxruntime/{self.manifest.precision}"

    def _check_precision(self, precision: str) -> None:
        if precision not in ("fp32", self.manifest.precision):
            raise ValueError(f"the ONNX Runtime backend runs the precision of its export "
                             f"({self.manifest.precision}), not precision={precision!r}; export again with "
                             "tacotron2-export-onnx --precision for another one")


class OnnxTacotron2(_OnnxModel):
    """Tacotron 2 inference from the ``encoder``, ``decoder_step`` and ``postnet`` graphs of an export folder.

    Args:
        folder: an export folder written by ``tacotron2-export-onnx``.
        providers: ONNX Runtime execution providers (default CPU).
        threads: intra-op threads per session (``None``: ONNX Runtime's default).

    Raises:
        OnnxExportError: the folder has no Tacotron 2 graphs, or a graph does
            not belong to its manifest (see :func:`~tacotron2_waveglow.onnx.sessions.open_graph`).
    """

    def __init__(self, folder: PathLike, *, providers: Optional[Sequence[str]] = None,
                 threads: Optional[int] = None, manifest: Optional[Manifest] = None) -> None:
        config = self._open(folder, manifest, "Tacotron 2", TACOTRON2_GRAPHS, "tacotron2_config", providers, threads)
        self.config = Tacotron2Config.from_dict(config)
        self._step_outputs = [o.name for o in self.sessions["decoder_step"].get_outputs()]

    def encode(self, text_padded: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[np.ndarray, np.ndarray]:
        """``(memory (B, max(lengths), E), processed_memory (B, max(lengths), attention_dim))`` as numpy arrays."""
        _check_text(text_padded, input_lengths, self.config.n_symbols)
        if bool((text_padded < 0).any()) or bool((text_padded >= self.config.n_symbols).any()):
            raise ValueError(f"text_padded holds ids outside [0, {self.config.n_symbols}) (the symbol table)")
        memory, processed = self.sessions["encoder"].run(
            None, {"text": _numpy(text_padded, np.int64), "input_lengths": _numpy(input_lengths, np.int64)})
        longest = int(input_lengths.max())
        return np.ascontiguousarray(memory[:, :longest]), np.ascontiguousarray(processed[:, :longest])

    def decoder_step(self, inputs: dict) -> dict:
        """One run of the decoder-step graph: ``inputs`` by name -> outputs by name (numpy)."""
        return dict(zip(self._step_outputs, self.sessions["decoder_step"].run(None, inputs)))

    def postnet(self, mel: np.ndarray) -> np.ndarray:
        """``mel + postnet(mel)``, ``(B, n_mels, T)``."""
        return self.sessions["postnet"].run(None, {"mel": mel})[0]

    @torch.no_grad()
    def infer(self, text_padded: torch.Tensor, input_lengths: torch.Tensor, *, early_stopping: Optional[bool] = None,
              max_decoder_steps: Optional[int] = None, prenet_dropout: Optional[bool] = None,
              return_reached_limit: bool = False, precision: str = "fp32",
              ) -> Union[Tacotron2Inference, Tacotron2Generation]:
        """Synthesise mels as :meth:`tacotron2.Tacotron2.infer` does; same arguments, same results (CPU tensors).

        ``text_padded`` (B, T_in) int, ``input_lengths`` (B,) in any order.
        Returns ``(mel_postnet (B, n_mels, T), mel_lengths int32 (B,),
        alignments (B, T, N))`` (plus ``reached_limit`` with
        ``return_reached_limit=True``); warns when early stopping is on and
        items were cut by ``max_decoder_steps``.
        """
        if max_decoder_steps is not None and (isinstance(max_decoder_steps, bool)
                                              or not isinstance(max_decoder_steps, int) or max_decoder_steps < 1):
            raise ValueError(f"max_decoder_steps must be a positive int, got {max_decoder_steps!r}")
        self._check_precision(precision)
        config = self.config
        stopping = (not config.decoder_no_early_stopping) if early_stopping is None else bool(early_stopping)
        max_steps = config.max_decoder_steps if max_decoder_steps is None else max_decoder_steps
        dropout = True if prenet_dropout is None else bool(prenet_dropout)
        lengths = input_lengths.detach().cpu()
        memory, processed = self.encode(text_padded.detach().cpu(), lengths)
        batch, n_text = memory.shape[:2]
        zeros = DecoderState.zeros(torch.zeros(batch, n_text, memory.shape[2]), config.attention_rnn_dim,
                                   config.decoder_rnn_dim)
        feed = {name: _numpy(value, self._float) for name, value in zip(DecoderState._fields, zeros)}
        feed.update(frame=np.zeros((batch, config.n_mel_channels * config.n_frames_per_step), self._float),
                    memory=memory, processed_memory=processed,
                    mask=_numpy(padding_mask(lengths, n_text), np.bool_))
        masks = torch.ones(1, 2, batch, config.prenet_dim)
        tracker = StopTracker(batch, max_steps, config.gate_threshold, torch.device("cpu"))
        mels, alignments = [], []
        steps = 0
        while steps < max_steps:
            if dropout:
                draw_prenet_masks_(masks, 1)
            feed["prenet_mask_1"] = _numpy(masks[0, 0], self._float)
            feed["prenet_mask_2"] = _numpy(masks[0, 1], self._float)
            out = self.decoder_step(feed)
            mels.append(out["mel_frame"])
            alignments.append(out["new_attention_weights"])
            tracker.update(torch.from_numpy(out["gate"].astype(np.float32)).reshape(1, batch), steps)
            steps += 1
            if stopping and tracker.all_stopped():
                break
            feed["frame"] = out["mel_frame"]
            for name in DecoderState._fields:
                feed[name] = out[f"new_{name}"]
        mel = np.ascontiguousarray(np.stack(mels, axis=2))
        mel_postnet = torch.from_numpy(np.asarray(self.postnet(mel), dtype=np.float32))
        alignment = torch.from_numpy(np.ascontiguousarray(np.stack(alignments, axis=1), dtype=np.float32))
        mel_lengths, reached = tracker.mel_lengths(steps), tracker.reached_limit(steps)
        if stopping and bool(reached.any()):
            cut = torch.nonzero(reached).flatten().tolist()
            warnings.warn(f"OnnxTacotron2.infer reached max_decoder_steps={steps} before the gate stopped "
                          f"{len(cut)} of {batch} batch items (indices {cut}); their mels are cut off. "
                          "Raise max_decoder_steps if the text is long.", RuntimeWarning, stacklevel=2)
        if return_reached_limit:
            return Tacotron2Generation(mel_postnet, mel_lengths, alignment, reached)
        return Tacotron2Inference(mel_postnet, mel_lengths, alignment)

    def generate(self, text_padded: torch.Tensor, input_lengths: torch.Tensor, *,
                 early_stopping: Optional[bool] = None, max_decoder_steps: Optional[int] = None,
                 prenet_dropout: Optional[bool] = None) -> Tacotron2Generation:
        """:meth:`infer` plus ``reached_limit`` (:class:`~tacotron2.Tacotron2Generation`), as ``Tacotron2.generate``."""
        return self.infer(text_padded, input_lengths, early_stopping=early_stopping,
                          max_decoder_steps=max_decoder_steps, prenet_dropout=prenet_dropout,
                          return_reached_limit=True)


@dataclass(frozen=True)
class UpsampleShape:
    """The facts about WaveGlow's mel upsampler that the vocoder and the denoiser read:
    ``stride`` (hop length), ``in_channels`` (mel bins), ``weight`` (an empty tensor giving dtype and device)."""

    stride: Tuple[int]
    in_channels: int
    weight: torch.Tensor


class OnnxWaveGlow(_OnnxModel):
    """WaveGlow inference from the ``waveglow`` graph of an export folder (weight norm folded).

    Args:
        folder, providers, threads: as for :class:`OnnxTacotron2`.
    """

    def __init__(self, folder: PathLike, *, providers: Optional[Sequence[str]] = None,
                 threads: Optional[int] = None, manifest: Optional[Manifest] = None) -> None:
        config = self._open(folder, manifest, "WaveGlow", WAVEGLOW_GRAPHS, "waveglow_config", providers, threads)
        self.config = WaveGlowConfig.from_dict(config)
        self.n_group = self.config.n_group
        self.upsample = UpsampleShape((HOP_LENGTH,), self.config.n_mel_channels, torch.empty(0))

    @torch.no_grad()
    def infer(self, mel: torch.Tensor, sigma: float = 1.0, z: Optional[torch.Tensor] = None, *,
              fold_upsampler: Optional[bool] = None, compute_dtype: Optional[torch.dtype] = None) -> torch.Tensor:
        """Mel ``(B, n_mel, T_mel)`` -> audio ``(B, T_mel * 256)`` float32 (CPU), as :meth:`waveglow.WaveGlow.infer`.

        Without ``z`` the latent ``(B, n_group, T_mel * 256 // n_group)`` is
        drawn from PyTorch's CPU generator in ``WaveGlow.infer``'s order, so a
        seed reproduces the PyTorch audio. ``fold_upsampler`` is accepted and
        ignored (the graph's conditioning is unfolded); ``compute_dtype`` must
        be ``None`` (the precision is the export's).
        """
        if compute_dtype is not None:
            raise ValueError(f"the ONNX Runtime backend runs the precision of its export ({self.manifest.precision}), "
                             f"not compute_dtype={compute_dtype}")
        # WaveGlow's own input checks; they read only upsample.in_channels and n_group, which this class has
        WaveGlow.check_mel(self, mel)
        batch, n_steps = mel.size(0), mel.size(2) * HOP_LENGTH // self.n_group
        if z is None:
            z = draw_latent(self.config, batch, n_steps, torch.device("cpu"))
        else:
            check_latent(z, self.config, batch, n_steps)
        audio = self.sessions["waveglow"].run(None, {"mel": _numpy(mel, self._float), "z": _numpy(z, self._float),
                                                     "sigma": np.asarray(sigma, dtype=self._float)})[0]
        return torch.from_numpy(np.asarray(audio, dtype=np.float32))


def load_onnx(folder: PathLike, *, providers: Optional[Sequence[str]] = None, threads: Optional[int] = None
              ) -> Tuple[Optional[OnnxTacotron2], Optional[OnnxWaveGlow]]:
    """``(OnnxTacotron2 or None, OnnxWaveGlow or None)`` for whatever the export folder holds."""
    manifest = read_manifest(folder)
    taco = OnnxTacotron2(folder, providers=providers, threads=threads, manifest=manifest) \
        if manifest.has_tacotron2() else None
    glow = OnnxWaveGlow(folder, providers=providers, threads=threads, manifest=manifest) \
        if manifest.has_waveglow() else None
    if taco is None and glow is None:
        raise OnnxExportError(f"{folder}'s manifest lists no graphs; re-export the folder")
    return taco, glow
