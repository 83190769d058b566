"""Reading and writing every Tacotron 2 / WaveGlow checkpoint layout, safely."""
from .errors import CheckpointError, UnsafeCheckpointError
from .save import save_checkpoint
from .tacotron2 import load_tacotron2

__all__ = ["CheckpointError", "UnsafeCheckpointError", "save_checkpoint", "load_tacotron2"]
