"""WaveGlow vocoder: mel spectrogram -> audio, with NVIDIA's parameters and numerics."""
from .config import WaveGlowConfig, WNConfig
from .chunked import infer_chunked, iter_chunked
from .denoiser import Denoiser
from .invertible_conv import Invertible1x1Conv
from .loss import WaveGlowLoss
from .model import WaveGlow, WaveGlowOutput
from .weight_norm import WeightNormConv1d
from .wn import WN

__all__ = ["WaveGlowConfig", "WNConfig", "WaveGlow", "WaveGlowOutput", "WaveGlowLoss", "Denoiser",
           "Invertible1x1Conv", "WN", "WeightNormConv1d", "infer_chunked", "iter_chunked"]
