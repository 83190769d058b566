"""Tacotron 2 (text -> mel), parameter-compatible with NVIDIA's implementations."""
from .config import Tacotron2Config
from .decoder_state import DecoderState
from .inference import BACKENDS, PRECISIONS
from .loss import Tacotron2Loss
from .model import Tacotron2
from .prepared import PreparedTacotron2
from .outputs import DecoderInference, Tacotron2Inference, Tacotron2Generation, Tacotron2Output

__all__ = [
    "Tacotron2", "Tacotron2Config", "Tacotron2Loss", "Tacotron2Output", "Tacotron2Inference",
    "Tacotron2Generation", "DecoderInference", "DecoderState", "PreparedTacotron2", "BACKENDS", "PRECISIONS",
]
