"""The built-in voice: espeak-ng corpus building, evaluation metrics, and the shipped checkpoint."""
from voice.builtin import builtin_voice_path, load_builtin_voice
from voice.corpus import CorpusSettings, build_corpus
from voice.dtw import dtw
from voice.espeak import EspeakNotFoundError
from voice.evaluate import Criteria, SentenceEvaluation, VoiceEvaluation, evaluate_voice
from voice.metrics import (alignment_monotonicity, alignment_reaches_end, duration_ratio, mel_cepstra,
                           mel_cepstral_distortion)
from voice.sentences import generate_sentences
from voice.vocoder import GriffinLimVocoder

__all__ = [
    "CorpusSettings",
    "Criteria",
    "EspeakNotFoundError",
    "GriffinLimVocoder",
    "SentenceEvaluation",
    "VoiceEvaluation",
    "alignment_monotonicity",
    "alignment_reaches_end",
    "build_corpus",
    "builtin_voice_path",
    "duration_ratio",
    "dtw",
    "evaluate_voice",
    "generate_sentences",
    "load_builtin_voice",
    "mel_cepstra",
    "mel_cepstral_distortion",
]
