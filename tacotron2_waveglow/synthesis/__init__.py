"""Text to speech for users: the :class:`Synthesizer` pipeline and the ``tacotron2-tts`` command.

The names below are imported on first use (PEP 562), so ``tacotron2-tts --help``
(this package's ``cli`` module) starts without importing torch.
"""
from typing import TYPE_CHECKING

from checkpoints.lazy_exports import lazy_exports as _lazy_exports

#: public name -> submodule defining it
_EXPORTS = {
    "Synthesizer": "pipeline", "VOCODERS": "pipeline", "DEFAULT_PAUSE_SECONDS": "pipeline",
    "SynthesisResult": "result", "max_chars_for_steps": "split", "split_sentences": "split",
    "split_text": "split", "SpeechChunk": "streaming", "stream_speech": "streaming",
}
__all__ = list(_EXPORTS)

if TYPE_CHECKING:
    from .pipeline import DEFAULT_PAUSE_SECONDS, VOCODERS, Synthesizer
    from .result import SynthesisResult
    from .split import max_chars_for_steps, split_sentences, split_text
    from .streaming import SpeechChunk, stream_speech


__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
