"""WaveGlow vocoder: mel spectrogram -> audio, with NVIDIA's parameters and numerics."""
from .config import WaveGlowConfig, WNConfig
from .denoiser import Denoiser
from .inference import BACKENDS, PRECISIONS, WaveGlowInference
from .invertible_conv import Invertible1x1Conv
from .loss import WaveGlowLoss
from .model import WaveGlow, WaveGlowOutput
from .prepared import PreparedWaveGlow
from .weight_norm import WeightNormConv1d
from .wn import WN

__all__ = ["WaveGlowConfig", "WNConfig", "WaveGlow", "WaveGlowOutput", "WaveGlowLoss", "Denoiser",
           "Invertible1x1Conv", "WN", "WeightNormConv1d", "PreparedWaveGlow", "WaveGlowInference", "BACKENDS",
           "PRECISIONS"]
