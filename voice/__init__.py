"""The built-in voice: espeak-ng corpus building and evaluation metrics."""
from voice.corpus import CorpusSettings, build_corpus
from voice.espeak import EspeakNotFoundError
from voice.sentences import generate_sentences

__all__ = ["CorpusSettings", "EspeakNotFoundError", "build_corpus", "generate_sentences"]
