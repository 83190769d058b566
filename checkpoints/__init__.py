"""Reading and writing every Tacotron 2 / WaveGlow checkpoint layout, safely."""
from .convert import convert_checkpoint, to_hub_layout
from .errors import CheckpointError, UnsafeCheckpointError
from .save import save_checkpoint
from .tacotron2 import load_tacotron2
from .unpickler import restricted_load
from .waveglow import load_waveglow

__all__ = ["CheckpointError", "UnsafeCheckpointError", "save_checkpoint", "load_tacotron2", "load_waveglow",
           "restricted_load", "to_hub_layout", "convert_checkpoint"]
