"""Evaluate a Tacotron 2 voice against espeak-ng reference recordings.

For each ``(text, reference_wav)`` pair the model speaks the text once
(``model.infer`` with a fixed per-sentence seed) and the result is checked:

* ``stopped_by_itself``: the gate ended the utterance before ``max_decoder_steps``;
* ``monotonic``: :func:`recipes.builtin_voice.metrics.alignment_monotonicity` >= ``min_monotonicity``;
* ``reaches_end``: attention got to one of the last ``last_k`` input tokens;
* ``duration_ok``: the vocoded audio is within ``duration_tolerance`` of the
  reference's length;
* ``mcd_db``: DTW mel cepstral distortion between the model's mel and the
  reference's (``audio.TacotronSTFT`` with the model's ``n_mel_channels``);
* ``dynamics_ratio``: :func:`~recipes.builtin_voice.metrics.mel_dynamics` of
  the model's mel over the reference's (1: it moves as much as the reference;
  an over-smoothed voice scores well below).

With ``audio_dir`` the vocoded audio of sentence ``i`` is also written there
as ``{i + 1:02d}.wav`` (22050 Hz, for listening and for the recogniser).
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from audio import TacotronSTFT, load_wav, save_wav
from tacotron2_waveglow.bundles import NVIDIA_TEXT, TextProcessor
from recipes.builtin_voice.files import atomic_write_text
from recipes.builtin_voice.metrics import (alignment_monotonicity, alignment_reaches_end, duration_ratio,
                                           mel_cepstral_distortion, mel_dynamics)

PathLike = Union[str, "os.PathLike[str]"]
Vocoder = Callable[[Tensor], Tensor]
"""Log mel ``(1, n_mels, T)`` -> audio ``(1, samples)`` or ``(samples,)``."""


@dataclass(frozen=True)
class Criteria:
    """Thresholds that make a sentence pass."""

    min_monotonicity: float = 0.95
    duration_tolerance: float = 0.2
    last_k: int = 3


@dataclass(frozen=True)
class SentenceEvaluation:
    """Checks and measurements of one synthesized sentence."""

    text: str
    reference: str
    input_length: int
    mel_frames: int
    stopped_by_itself: bool
    monotonicity: float
    monotonic: bool
    reaches_end: bool
    n_samples: int
    n_samples_ref: int
    duration_ratio: float
    duration_ok: bool
    mcd_db: float
    dynamics_ratio: float
    audio_path: str = ""

    @property
    def passed(self) -> bool:
        """All four pass/fail checks hold."""
        return self.stopped_by_itself and self.monotonic and self.reaches_end and self.duration_ok


@dataclass
class VoiceEvaluation:
    """Per-sentence results and their aggregate; ``write_json`` saves both."""

    sentences: List[SentenceEvaluation]
    criteria: Criteria = field(default_factory=Criteria)

    def summary(self) -> Dict[str, float]:
        """Share of sentences passing each check and the mean of each measurement."""
        def share(name: str) -> float:
            return float(np.mean([getattr(s, name) for s in self.sentences]))
        return {
            "n_sentences": len(self.sentences),
            "stopped_by_itself": share("stopped_by_itself"),
            "monotonic": share("monotonic"),
            "reaches_end": share("reaches_end"),
            "duration_ok": share("duration_ok"),
            "passed": share("passed"),
            "mean_monotonicity": share("monotonicity"),
            "mean_duration_ratio": share("duration_ratio"),
            "mean_mcd_db": share("mcd_db"),
            "mean_dynamics_ratio": share("dynamics_ratio"),
        }

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready ``{'criteria', 'summary', 'sentences'}``."""
        return {
            "criteria": asdict(self.criteria),
            "summary": self.summary(),
            "sentences": [dict(asdict(s), passed=s.passed) for s in self.sentences],
        }

    def write_json(self, path: PathLike) -> Path:
        """Write :meth:`to_dict` as indented JSON, atomically."""
        return atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")


def _model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _synthesize(model: torch.nn.Module, ids: List[int], seed: int,
                max_decoder_steps: Optional[int]) -> Tuple[Tensor, Tensor, int, bool]:
    """Mel ``(n_mels, T)``, alignment ``(T, N)``, ``mel_length`` and whether the limit was hit.

    ``T = max(1, mel_length)``: a gate that fires on the first step gives
    ``mel_length == 0`` (DLE semantics); its one frame is still measured.
    """
    device = _model_device(model)
    text = torch.tensor([ids], dtype=torch.long, device=device)
    lengths = torch.tensor([len(ids)], dtype=torch.long, device=device)
    forked = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=forked), torch.no_grad():
        torch.manual_seed(seed)
        mel, mel_lengths, alignments, reached_limit = model.generate(
            text, lengths, max_decoder_steps=max_decoder_steps)
    length = int(mel_lengths[0])
    frames = max(1, length)
    return (mel[0, :, :frames].float().cpu(), alignments[0, :frames].float().cpu(), length,
            bool(reached_limit[0]))


def _reference_mel(path: PathLike, taco_stft: TacotronSTFT) -> Tuple[Tensor, int]:
    """Log mel ``(n_mels, frames)`` of a reference WAV and its sample count."""
    wav = load_wav(path, expected_sampling_rate=taco_stft.sampling_rate)
    with torch.no_grad():
        mel = taco_stft.mel_spectrogram(wav[None].float())[0]
    return mel, int(wav.shape[0])


def evaluate_sentence(model: torch.nn.Module, vocoder: Vocoder, text: str, reference_wav: PathLike,
                      taco_stft: TacotronSTFT, *, seed: int = 0, criteria: Criteria = Criteria(),
                      max_decoder_steps: Optional[int] = None, n_mfcc: int = 13,
                      text_processor: TextProcessor = NVIDIA_TEXT,
                      audio_path: Optional[PathLike] = None) -> SentenceEvaluation:
    """Speak ``text`` once and compare it with ``reference_wav``; write the audio to ``audio_path`` if given.

    ``text_processor`` turns the text into symbol ids as the voice was trained (letters, or
    ``{ARPAbet}`` words for a phoneme voice); no end punctuation is added.
    """
    ids = text_processor.encode(text).tolist()
    mel, alignment, mel_length, hit_limit = _synthesize(model, ids, seed, max_decoder_steps)
    with torch.no_grad():
        audio = vocoder(mel[None].to(_model_device(model)))
    if audio_path is not None:
        samples = audio.reshape(-1).float().cpu().clamp(-1.0, 1.0)
        save_wav(audio_path, samples if samples.numel() else samples.new_zeros(1), taco_stft.sampling_rate)
    ref_mel, n_ref = _reference_mel(reference_wav, taco_stft)
    ratio = duration_ratio(int(audio.shape[-1]), n_ref)
    monotonicity = alignment_monotonicity(alignment)
    return SentenceEvaluation(
        text=text, reference=os.fspath(reference_wav), input_length=len(ids), mel_frames=mel_length,
        stopped_by_itself=not hit_limit, monotonicity=monotonicity,
        monotonic=monotonicity >= criteria.min_monotonicity,
        reaches_end=alignment_reaches_end(alignment, len(ids), criteria.last_k),
        n_samples=int(audio.shape[-1]), n_samples_ref=n_ref, duration_ratio=ratio,
        duration_ok=abs(ratio - 1.0) <= criteria.duration_tolerance,
        mcd_db=mel_cepstral_distortion(mel, ref_mel, n_mfcc=min(n_mfcc, mel.shape[0])),
        dynamics_ratio=mel_dynamics(mel) / max(mel_dynamics(ref_mel), 1e-12),
        audio_path=os.fspath(audio_path) if audio_path is not None else "")


def evaluate_voice(model: torch.nn.Module, vocoder: Vocoder, pairs: Sequence[Tuple[str, PathLike]], *,
                   taco_stft: Optional[TacotronSTFT] = None, seed: int = 0,
                   criteria: Criteria = Criteria(), max_decoder_steps: Optional[int] = None,
                   n_mfcc: int = 13, json_path: Optional[PathLike] = None,
                   audio_dir: Optional[PathLike] = None, text_processor: TextProcessor = NVIDIA_TEXT) -> VoiceEvaluation:
    """Evaluate ``model`` on ``(text, reference_wav_path)`` pairs.

    Args:
        model: a :class:`tacotron2.Tacotron2` (anything with its ``infer`` and
            ``config.n_mel_channels``), in eval mode.
        vocoder: log mel ``(1, n_mels, T)`` -> audio, for any ``T >= 1``; e.g.
            :meth:`tacotron2_waveglow.synthesis.vocoders.GriffinLimVocoder.waveform` or a WaveGlow's ``infer``.
            Its output length is the utterance's duration.
        pairs: texts and the espeak-ng recordings of them.
        taco_stft: mel extractor for the references; default
            ``TacotronSTFT(n_mel_channels=model.config.n_mel_channels)``.
        seed: sentence ``i`` is synthesized right after ``torch.manual_seed(seed + i)``
            (the global RNG state is restored afterwards).
        criteria: pass/fail thresholds.
        max_decoder_steps: decoder step limit; default the model's.
        n_mfcc: cepstra for the MCD (capped at ``n_mel_channels``).
        json_path: where to write the results as JSON, if given.
        audio_dir: folder (created) for the vocoded audio ``01.wav``, ``02.wav``, ..., if given.
        text_processor: text -> symbol ids as the voice was trained (default NVIDIA's letters).

    Raises:
        ValueError: no pairs, or a reference WAV that cannot be read at the
            extractor's sampling rate.
    """
    if len(pairs) == 0:
        raise ValueError("pairs is empty; give (text, reference_wav_path) pairs to evaluate")
    if taco_stft is None:
        taco_stft = TacotronSTFT(n_mel_channels=model.config.n_mel_channels)
    if audio_dir is not None:
        Path(audio_dir).mkdir(parents=True, exist_ok=True)
    results = [evaluate_sentence(model, vocoder, text, wav, taco_stft, seed=seed + i, criteria=criteria,
                                 max_decoder_steps=max_decoder_steps, n_mfcc=n_mfcc, text_processor=text_processor,
                                 audio_path=None if audio_dir is None else Path(audio_dir) / f"{i + 1:02d}.wav")
               for i, (text, wav) in enumerate(pairs)]
    evaluation = VoiceEvaluation(results, criteria)
    if json_path is not None:
        evaluation.write_json(json_path)
    return evaluation
