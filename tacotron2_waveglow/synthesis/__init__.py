"""Text to speech for users: the :class:`Synthesizer` pipeline and the ``tacotron2-tts`` command."""
from .pipeline import DEFAULT_PAUSE_SECONDS, VOCODERS, Synthesizer
from .result import SynthesisResult
from .split import max_chars_for_steps, split_sentences, split_text
from .streaming import SpeechChunk, stream_speech

__all__ = ["Synthesizer", "SynthesisResult", "VOCODERS", "DEFAULT_PAUSE_SECONDS", "max_chars_for_steps",
           "split_sentences", "split_text", "SpeechChunk", "stream_speech"]
