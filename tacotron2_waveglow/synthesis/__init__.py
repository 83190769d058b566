"""Text to speech for users: the :class:`Synthesizer` pipeline and the ``tacotron2-tts`` command.

The names below are imported on first use (PEP 562), so ``tacotron2-tts --help``
(this package's ``cli`` module) starts without importing torch.
"""
import importlib
from typing import TYPE_CHECKING, Any, List

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


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(__all__))
