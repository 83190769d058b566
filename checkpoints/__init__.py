"""Reading and writing every Tacotron 2 / WaveGlow checkpoint layout, safely."""
from .errors import CheckpointError
from .save import save_checkpoint

__all__ = ["CheckpointError", "save_checkpoint"]
