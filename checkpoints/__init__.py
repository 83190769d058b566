"""Reading and writing every Tacotron 2 / WaveGlow checkpoint layout, safely.

The names below are imported on first use (PEP 562), so ``import checkpoints``
and its torch-free helpers (``checkpoints.cli_support``, ``checkpoints.registry``)
cost nothing until a loader is needed; ``from checkpoints import load_tacotron2``
works as usual.
"""
from typing import TYPE_CHECKING

from .lazy_exports import lazy_exports as _lazy_exports

#: public name -> submodule defining it
_EXPORTS = {
    "CheckpointError": "errors", "UnsafeCheckpointError": "errors", "save_checkpoint": "save",
    "load_tacotron2": "tacotron2", "load_waveglow": "waveglow", "restricted_load": "unpickler",
    "to_hub_layout": "convert", "convert_checkpoint": "convert",
}
__all__ = list(_EXPORTS)

if TYPE_CHECKING:
    from .convert import convert_checkpoint, to_hub_layout
    from .errors import CheckpointError, UnsafeCheckpointError
    from .save import save_checkpoint
    from .tacotron2 import load_tacotron2
    from .unpickler import restricted_load
    from .waveglow import load_waveglow


__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
