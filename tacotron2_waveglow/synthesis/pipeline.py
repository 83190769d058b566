"""Text -> speech in one call: splitting, batching, Tacotron 2, vocoder, joining."""
from __future__ import annotations

import os
import sys
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from tqdm import tqdm

from ..bundles import NVIDIA_TEXT, SAMPLE_RATE, TextProcessor, Voice, get_voice
from .device import resolve_device
from .inference import InferenceConfig
from .result import SynthesisResult
from .split import max_chars_for_steps, split_text
from .vocoders import GriffinLimVocoder, WaveGlowVocoder

VOCODERS = ("waveglow", "griffin-lim")
DEFAULT_PAUSE_SECONDS = 0.25


class Synthesizer:
    """Speak text with a Tacotron 2 model and a vocoder.

    Long text is split into sentences, and sentences longer than a character
    budget at clause boundaries (see :mod:`synthesis.split`); the pieces are
    synthesized in batches with ``Tacotron2.infer``, each trimmed to
    ``mel_length * 256`` samples, and joined with ``pause_seconds`` of silence
    (0.25 s, 5512 samples at 22050 Hz, by default).

    Args:
        tacotron2: a ``Tacotron2`` model (weights kept in fp32).
        waveglow: a ``WaveGlow`` model; required for ``vocoder="waveglow"``.
        vocoder: ``"waveglow"`` or ``"griffin-lim"`` (needs no vocoder weights).
        denoiser_strength: default strength of WaveGlow's denoiser (DLE's
            ``inference.py`` default 0.01; 0 turns it off).
        device: ``"auto"`` (CUDA if available), ``"cpu"`` or ``"cuda"``.
        backend, precision, stop_check_interval, fold_upsampler, chunk_frames,
            overlap_frames: the inference configuration
            (:class:`~tacotron2_waveglow.synthesis.inference.InferenceConfig`;
            the same words as ``Tacotron2.infer`` and ``WaveGlow.infer``):
            ``backend`` ``"fast"`` (default), ``"reference"`` or ``"cuda_graph"``;
            ``precision`` ``"fp32"`` (default), ``"fp32_exact"`` (NVIDIA's
            numbers bit for bit), ``"bf16"``, ``"fp16"`` (CUDA) or ``"int8"``
            (CPU; preparing it folds, quantizes and compiles WaveGlow: 10-20 s
            for the 256-channel hub model on two cores, about 9 s with
            ``prepared_cache_dir`` and Inductor's caches warm).
            Unsupported combinations raise ``ValueError`` naming what runs.
        inference: an ``InferenceConfig`` instead of those keywords (not both).
        prepared_cache_dir: a folder that keeps WaveGlow's int8 form between
            processes (``precision="int8"`` only; ``waveglow.int8_cache``).
        pause_seconds: silence between pieces of one text.
        max_chars: character budget of one piece; default
            ``max_chars_for_steps(max_decoder_steps)`` (142 for 1000 steps).
        griffin_lim_iters: iterations for the Griffin-Lim vocoder.
        progress: show a tqdm bar over batches when there is more than one
            piece; ``None`` (default) shows it only when stderr is a terminal.

    Both models are prepared once, here (``tacotron2_engine``,
    ``waveglow_engine``: the objects that run; each reports ``describe()``,
    ``nbytes`` and ``prepare_seconds``). Prepare a new synthesizer after
    changing the models' weights.
    """

    def __init__(self, tacotron2: torch.nn.Module, waveglow: Optional[torch.nn.Module] = None, *,
                 vocoder: str = "waveglow", denoiser_strength: float = 0.01, device: Union[str, torch.device] = "auto",
                 precision: str = "fp32", pause_seconds: float = DEFAULT_PAUSE_SECONDS,
                 max_chars: Optional[int] = None, griffin_lim_iters: int = 60,
                 progress: Optional[bool] = None, text_processor: TextProcessor = NVIDIA_TEXT,
                 sample_rate: int = SAMPLE_RATE, backend: Optional[str] = None,
                 fold_upsampler: Optional[bool] = None, chunk_frames: Optional[int] = None,
                 overlap_frames: Optional[int] = None, stop_check_interval: Optional[int] = None,
                 inference: Optional[InferenceConfig] = None,
                 prepared_cache_dir: Optional[Union[str, os.PathLike]] = None) -> None:
        if vocoder not in VOCODERS:
            raise ValueError(f"vocoder must be one of {', '.join(VOCODERS)}, got {vocoder!r}")
        if vocoder == "waveglow" and waveglow is None:
            raise ValueError("vocoder 'waveglow' needs a WaveGlow model: pass waveglow=..., "
                             "or use vocoder='griffin-lim'")
        if denoiser_strength < 0:
            raise ValueError(f"denoiser_strength must be >= 0, got {denoiser_strength}")
        if pause_seconds < 0:
            raise ValueError(f"pause_seconds must be >= 0, got {pause_seconds}")
        if max_chars is not None and max_chars < 1:
            raise ValueError(f"max_chars must be positive, got {max_chars}")
        config = InferenceConfig(backend, precision, fold_upsampler, chunk_frames, overlap_frames, stop_check_interval)
        if inference is not None:
            if config != InferenceConfig():
                raise ValueError("give either inference=InferenceConfig(...) or the backend/precision/... keywords, "
                                 "not both")
            config = inference
        self.inference = config
        self.device = resolve_device(device)
        self.tacotron2 = tacotron2.to(self.device).eval()
        self.tacotron2_engine = config.prepare_tacotron2(self.tacotron2)
        n_mels = self.tacotron2.config.n_mel_channels
        if vocoder == "waveglow":
            glow_mels = waveglow.config.n_mel_channels
            if glow_mels != n_mels:
                raise ValueError(f"Tacotron 2 makes {n_mels} mel channels but WaveGlow expects {glow_mels}; "
                                 "use a WaveGlow trained on the same mel representation")
            waveglow = waveglow.to(self.device).eval()
            self.waveglow_engine = config.prepare_waveglow(waveglow, cache_dir=prepared_cache_dir)
            self.vocoder = WaveGlowVocoder(waveglow, self.waveglow_engine)
        else:
            for name in ("fold_upsampler", "chunk_frames", "overlap_frames"):
                if getattr(config, name) is not None:
                    raise ValueError(f"{name} applies to the WaveGlow vocoder, not {vocoder}")
            self.waveglow_engine = None
            self.vocoder = GriffinLimVocoder(n_mel_channels=n_mels, n_iters=griffin_lim_iters).to(self.device)
        self.denoiser_strength = float(denoiser_strength)
        self.sample_rate = int(sample_rate)
        self.pause_samples = int(round(pause_seconds * self.sample_rate))
        self.max_chars = max_chars
        self.progress = progress
        self.text_processor = text_processor

    @classmethod
    def from_voice(cls, voice: Union[str, Voice] = "builtin", *, cache_dir: Optional[str] = None,
                   progress: bool = True, **kwargs) -> "Synthesizer":
        """A synthesizer for the named voice (see :mod:`tacotron2_waveglow.bundles`): its Tacotron 2,
        its vocoder (WaveGlow, or Griffin-Lim when it has none), its text processor and sample rate.

        ``kwargs`` are the other constructor arguments (``device``, ``precision``, ...).
        """
        bundle = get_voice(voice)
        glow = bundle.get_waveglow(cache_dir=cache_dir, progress=progress) if bundle.waveglow_file else None
        kwargs.setdefault("vocoder", bundle.vocoder_name)
        return cls(bundle.get_tacotron2(cache_dir=cache_dir, progress=progress), glow,
                   text_processor=bundle.get_text_processor(), sample_rate=bundle.sample_rate, **kwargs)

    @classmethod
    def from_onnx(cls, onnx_dir: str, *, threads: Optional[int] = None, **kwargs) -> "Synthesizer":
        """A synthesizer on the ONNX Runtime backend (:mod:`tacotron2_waveglow.onnx`) for an export folder: its
        Tacotron 2, its WaveGlow (else ``vocoder="griffin-lim"`` is needed) and the text processor in its manifest.

        ``threads``: intra-op threads per ONNX Runtime session; ``kwargs`` are
        the other constructor arguments (precision must stay ``"fp32"``).
        """
        from ..onnx import load_onnx

        if kwargs.get("precision", "fp32") != "fp32":
            raise ValueError(f"the onnxruntime backend runs its export's precision; drop precision="
                             f"{kwargs['precision']!r}")
        taco, glow = load_onnx(onnx_dir, threads=threads)
        if taco is None:
            raise ValueError(f"{onnx_dir} holds no Tacotron 2 graphs; export one with tacotron2-export-onnx --tacotron2")
        manifest = taco.manifest
        kwargs.setdefault("text_processor", TextProcessor(tuple(manifest.cleaners or NVIDIA_TEXT.cleaners),
                                                          manifest.end_punctuation, manifest.arpabet))
        return cls(taco, glow, **kwargs)

    def split(self, text: str, max_decoder_steps: Optional[int] = None) -> List[str]:
        """The pieces :meth:`synthesize` would speak for ``text``."""
        steps = max_decoder_steps or self.tacotron2.config.max_decoder_steps
        pieces = split_text(text, self.max_chars or max_chars_for_steps(steps))
        return [self.text_processor.finish(piece) for piece in pieces]

    @property
    def precision(self) -> str:
        """The configuration's precision word."""
        return self.inference.precision

    @property
    def engines(self) -> Dict[str, str]:
        """What runs: ``{"tacotron2": "fast/bf16", "vocoder": "fast/bf16 folded"}`` (or ``"griffin-lim"``)."""
        vocoder = self.waveglow_engine.describe() if self.waveglow_engine is not None else self.vocoder.name
        return {"tacotron2": self.tacotron2_engine.describe(), "vocoder": vocoder}

    @property
    def prepare_seconds(self) -> float:
        """One-off cost of preparing both models."""
        return self.tacotron2_engine.prepare_seconds + (
            self.waveglow_engine.prepare_seconds if self.waveglow_engine is not None else 0.0)

    @property
    def prepared_nbytes(self) -> int:
        """Memory the prepared models hold beyond the models' parameters."""
        return self.tacotron2_engine.nbytes + (self.waveglow_engine.nbytes if self.waveglow_engine is not None else 0)

    def _encode(self, pieces: Sequence[str]) -> List[torch.Tensor]:
        return [self.text_processor.encode(p) for p in pieces]

    def _decode_batch(self, sequences: Sequence[torch.Tensor], max_decoder_steps: Optional[int]
                      ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Tacotron 2 on one batch: ``(mel (B, n_mels, T), mel_lengths (B,), alignments (B, T, N), reached (B,))``."""
        lengths = torch.tensor([len(s) for s in sequences], dtype=torch.long)
        padded = torch.zeros(len(sequences), int(lengths.max()), dtype=torch.long)
        for row, seq in enumerate(sequences):
            padded[row, :len(seq)] = seq
        with warnings.catch_warnings():
            # reached limits are reported below, once, naming the sentences
            warnings.filterwarnings("ignore", message=".*max_decoder_steps.*")
            mel, mel_lengths, alignments, reached = self.tacotron2_engine.generate(
                padded.to(self.device), lengths.to(self.device), max_decoder_steps=max_decoder_steps)
        return mel.float(), mel_lengths.long().cpu(), alignments.float(), reached.bool().cpu()

    def _vocode(self, mel: torch.Tensor, mel_lengths: torch.Tensor, sigma: float, denoise: float,
                pieces: Sequence[str]) -> List[torch.Tensor]:
        """Audio ``(mel_length * 256,)`` float32 for each item of a batch."""
        audio = self.vocoder(mel, mel_lengths.tolist(), sigma=sigma, denoise=denoise)
        for item, piece in zip(audio, pieces):
            _check_finite(item, "audio", piece)
        return [item.float() for item in audio]

    def synthesize(self, text_or_texts: Union[str, Sequence[str]], *, sigma: float = 0.6,
                   denoise: Optional[float] = None, seed: Optional[int] = None, batch_size: int = 8,
                   max_decoder_steps: Optional[int] = None, progress: Optional[bool] = None) -> SynthesisResult:
        """Speak one text or a list of texts.

        Args:
            text_or_texts: a string, or a sequence of strings (one result item each).
            sigma: WaveGlow noise scale (NVIDIA/waveglow's README uses 0.6).
            denoise: denoiser strength for this call (default: the constructor's).
            seed: ``torch.manual_seed(seed)`` before decoding: same seed, texts and
                ``batch_size``, same audio (the batch composition decides the order of
                the random draws for prenet dropout and WaveGlow noise).
            batch_size: pieces decoded together (longest first, to limit padding).
            max_decoder_steps: per-piece frame limit (default: the model config's).
            progress: overrides the constructor's ``progress``.

        Returns:
            :class:`SynthesisResult`. Pieces that hit the step limit are named
            in a ``UserWarning``; NaN or Inf in a mel or the audio raises
            ``FloatingPointError``.
        """
        texts = _as_text_list(text_or_texts)
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if max_decoder_steps is not None and max_decoder_steps < 1:
            raise ValueError(f"max_decoder_steps must be at least 1, got {max_decoder_steps}")
        denoise = self.denoiser_strength if denoise is None else float(denoise)
        if denoise < 0:
            raise ValueError(f"denoise strength must be >= 0, got {denoise}")
        pieces_per_text = [self.split(t, max_decoder_steps) for t in texts]
        for index, (text, pieces) in enumerate(zip(texts, pieces_per_text)):
            if not pieces:
                raise ValueError(f"text {index} ({text[:40]!r}) has no letters or digits to speak")
        flat = [(i, j, p) for i, pieces in enumerate(pieces_per_text) for j, p in enumerate(pieces)]
        sequences = self._encode([p for _, _, p in flat])
        order = sorted(range(len(flat)), key=lambda k: -len(sequences[k]))
        outputs: dict = {}
        if seed is not None:
            torch.manual_seed(seed)
        show = self.progress if progress is None else progress
        show = sys.stderr.isatty() if show is None else show
        batches = [order[s:s + batch_size] for s in range(0, len(order), batch_size)]
        with torch.inference_mode():
            for batch in tqdm(batches, desc="synthesizing", unit="batch", disable=not show or len(flat) < 2,
                              leave=False):
                names = [flat[k][2] for k in batch]
                mel, lengths, alignments, reached = self._decode_batch([sequences[k] for k in batch],
                                                                       max_decoder_steps)
                for row, k in enumerate(batch):
                    _check_finite(mel[row, :, :int(lengths[row])], "mel spectrogram", names[row])
                audio = self._vocode(mel, lengths, sigma, denoise, names)
                for row, k in enumerate(batch):
                    n = int(lengths[row])
                    outputs[k] = (mel[row, :, :n].cpu().numpy(), n,
                                  alignments[row, :n, :len(sequences[k])].cpu().numpy(),
                                  bool(reached[row]), audio[row].cpu().numpy().astype(np.float32))
        return self._assemble(pieces_per_text, flat, outputs)

    def _assemble(self, pieces_per_text: List[List[str]], flat: List[Tuple[int, int, str]],
                  outputs: dict) -> SynthesisResult:
        result = SynthesisResult(audio=[], sentences=pieces_per_text, mels=[], mel_lengths=[], alignments=[],
                                 reached_limit=[], sampling_rate=self.sample_rate, hop_length=self.vocoder.hop_length,
                                 pause_samples=self.pause_samples, engines=self.engines)
        pause = np.zeros(self.pause_samples, dtype=np.float32)
        keys = {(i, j): k for k, (i, j, _) in enumerate(flat)}
        for i, pieces in enumerate(pieces_per_text):
            items = [outputs[keys[i, j]] for j in range(len(pieces))]
            result.mels.append([it[0] for it in items])
            result.mel_lengths.append([it[1] for it in items])
            result.alignments.append([it[2] for it in items])
            result.reached_limit.append([it[3] for it in items])
            joined: List[np.ndarray] = []
            for j, it in enumerate(items):
                joined.extend([pause, it[4]] if j else [it[4]])
            result.audio.append(np.concatenate(joined).astype(np.float32, copy=False))
        stuck = [p for pieces, flags in zip(pieces_per_text, result.reached_limit) for p, f in zip(pieces, flags) if f]
        if stuck:
            warnings.warn(f"{len(stuck)} piece(s) reached max_decoder_steps and may be cut off or garbled: "
                          + _name_pieces(stuck), UserWarning, stacklevel=3)
        # fewer frames than characters is over 80 characters per second: far faster than speech
        early = [p for pieces, lengths, flags in zip(pieces_per_text, result.mel_lengths, result.reached_limit)
                 for p, n, limited in zip(pieces, lengths, flags) if n < len(p) and not limited]
        if early:
            warnings.warn(f"{len(early)} piece(s) stopped after fewer frames than characters, so words are probably "
                          "missing: " + _name_pieces(early) + "; speak whole sentences of a few words "
                          "(single words are hard for small voices), or check the checkpoint",
                          UserWarning, stacklevel=3)
        return result


def _as_text_list(text_or_texts: Union[str, Sequence[str]]) -> List[str]:
    texts = [text_or_texts] if isinstance(text_or_texts, str) else list(text_or_texts)
    if not texts:
        raise ValueError("no text given: pass a string or a non-empty list of strings")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text {index} must be a str, got {type(text).__name__}")
    return texts


def _name_pieces(pieces: Sequence[str], limit: int = 5) -> str:
    """``'a'; 'b'; ... and N more`` for warnings."""
    named = "; ".join(repr(p) for p in pieces[:limit])
    return named + (f" and {len(pieces) - limit} more" if len(pieces) > limit else "")


def _check_finite(tensor: torch.Tensor, what: str, piece: str) -> None:
    if not torch.isfinite(tensor).all():
        raise FloatingPointError(f"the {what} of {piece!r} contains NaN or Inf; the weights may be corrupt, "
                                 "or try precision 'fp32'")


__all__ = ["Synthesizer", "VOCODERS", "DEFAULT_PAUSE_SECONDS"]
