"""Audio front end: STFT, mel features identical to NVIDIA's, Griffin-Lim, WAV I/O."""
from .dynamic_range import dynamic_range_compression, dynamic_range_decompression
from .griffin_lim import griffin_lim, mel_to_audio_griffin_lim, random_phase
from .mel import TacotronSTFT
from .mel_basis import mel_filterbank, mel_to_linear
from .stft import STFT
from .wav import load_wav, save_wav

__all__ = [
    "STFT",
    "TacotronSTFT",
    "dynamic_range_compression",
    "dynamic_range_decompression",
    "griffin_lim",
    "load_wav",
    "mel_filterbank",
    "mel_to_audio_griffin_lim",
    "mel_to_linear",
    "random_phase",
    "save_wav",
]
