"""Audio front end: STFT, mel features identical to NVIDIA's, Griffin-Lim, WAV I/O."""
from .stft import STFT

__all__ = ["STFT"]
