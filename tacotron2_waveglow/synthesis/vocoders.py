"""Mel spectrogram -> waveform for the pipeline: WaveGlow (+ denoiser) or Griffin-Lim."""
from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, List, Optional, Sequence

import torch

if TYPE_CHECKING:
    from audio import TacotronSTFT


#: Pieces with fewer mel frames than this (about 35 ms of audio) are vocoded but warned about.
SHORT_PIECE_FRAMES = 4


def warn_if_short(lengths: Sequence[int], hop_length: int) -> None:
    """One ``UserWarning`` when some of ``lengths`` (mel frames per item) are 1 to ``SHORT_PIECE_FRAMES - 1``.

    Such pieces are vocoded (padded and trimmed where needed), but a model
    that stops after so few frames usually says nothing: it is untrained, or
    the text is a single short word.
    """
    short = [int(n) for n in lengths if 0 < int(n) < SHORT_PIECE_FRAMES]
    if short:
        warnings.warn(f"{len(short)} piece(s) have fewer than {SHORT_PIECE_FRAMES} mel frames (shortest: "
                      f"{min(short)} frame(s), {min(short) * hop_length} samples): the model stopped almost at "
                      "once; check the checkpoint, or speak a longer phrase", UserWarning, stacklevel=3)


class WaveGlowVocoder:
    """WaveGlow ``infer`` on the padded batch, trimmed per item (as DLE's ``inference.py``), then denoised.

    The denoiser (bias removal in the STFT domain) is built on first use with
    a strength > 0; it runs WaveGlow once on a silent mel to estimate the bias.
    ``engine``: the ``PreparedWaveGlow`` that vocodes (``waveglow.prepare_inference(...)``;
    default: the fast fp32 form).
    """

    name = "waveglow"

    def __init__(self, waveglow: torch.nn.Module, engine: Optional[object] = None) -> None:
        self.waveglow = waveglow
        self.engine = waveglow.prepare_inference() if engine is None else engine
        self._denoiser: Optional[torch.nn.Module] = None

    @property
    def hop_length(self) -> int:
        """Audio samples per mel frame (WaveGlow's upsampling stride)."""
        return int(self.waveglow.upsample.stride[0])

    def to(self, device: torch.device) -> "WaveGlowVocoder":
        """Move WaveGlow (and the denoiser) to ``device``; the engine is prepared again there."""
        self.waveglow = self.waveglow.to(device)
        if self.engine is not self.waveglow:  # a PreparedWaveGlow (an ONNX Runtime model is its own engine)
            self.engine = self.waveglow.prepare_inference(**self.engine.config._asdict())
        if self._denoiser is not None:
            self._denoiser = self._denoiser.to(device)
        return self

    def _denoise(self, audio: torch.Tensor, strength: float) -> torch.Tensor:
        if strength <= 0 or audio.numel() == 0:
            return audio
        if self._denoiser is None:
            from waveglow import Denoiser

            self._denoiser = Denoiser(self.waveglow)
        return self._denoiser(audio.unsqueeze(0).float(), strength=strength).reshape(-1)[:audio.numel()]

    def __call__(self, mel: torch.Tensor, lengths: Sequence[int], *, sigma: float = 0.6,
                 denoise: float = 0.0) -> List[torch.Tensor]:
        """``mel (B, n_mels, T)``, ``T >= 1``, and frame counts -> per item float32 audio ``(lengths[b] * 256,)``.

        Any length of at least one frame works (the denoiser pads audio too
        short for its STFT); lengths under :data:`SHORT_PIECE_FRAMES` warn.
        """
        warn_if_short(lengths, self.hop_length)
        audio = self.engine.infer(mel, sigma).float()
        return [self._denoise(audio[b, :n * self.hop_length], denoise) for b, n in enumerate(lengths)]


class GriffinLimVocoder:
    """Griffin-Lim phase reconstruction from the mel spectrogram (no vocoder weights needed).

    The one Griffin-Lim vocoder of the project (the pipeline, the CLI and the
    built-in voice's recipe all use it). :func:`audio.mel_to_audio_griffin_lim`
    needs a few frames for its STFT's reflect padding; shorter mels (an
    untrained model often stops after one or two frames) are padded with
    silence (``log(1e-5)``) and cut back, so every ``T >= 1`` works. The
    initial phase comes from a CPU generator seeded with ``seed`` on every
    call, so the same mel gives the same audio. It runs fast Griffin-Lim
    (``momentum=0.99``) unless told otherwise. It runs on the CPU whatever
    the pipeline's device. Much lower quality than WaveGlow; ``sigma`` and
    ``denoise`` do not apply.

    Args:
        taco_stft: the mel extractor the mels were made with (default
            :class:`audio.TacotronSTFT` with ``n_mel_channels``).
        n_mel_channels: mel bins when ``taco_stft`` is not given.
        n_iters: Griffin-Lim iterations (at least 1).
        seed: seed of the initial random phase; ``None`` draws it from NumPy's
            global generator as NVIDIA's reference does.
        power: exponent on the linear magnitudes (1.0 as NVIDIA; see
            :func:`audio.mel_to_audio_griffin_lim`).
        momentum: fast Griffin-Lim's momentum (see :func:`audio.griffin_lim`).
            The default 0.99 (``librosa.griffinlim``'s) gave a lower PocketSphinx
            WER and spectral convergence than plain Griffin-Lim at 30, 60 and
            100 iterations on the built-in voice's teacher mels (docs/voice.md);
            0.0 is NVIDIA's plain Griffin-Lim.
    """

    name = "griffin-lim"

    def __init__(self, taco_stft: Optional["TacotronSTFT"] = None, *, n_mel_channels: int = 80, n_iters: int = 60,
                 seed: Optional[int] = 0, power: float = 1.0, momentum: float = 0.99) -> None:
        from audio import TacotronSTFT

        if n_iters < 1:
            raise ValueError(f"n_iters must be at least 1, got {n_iters}")
        if power <= 0:
            raise ValueError(f"power must be positive, got {power}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        self.power = power
        self.momentum = momentum
        self.taco_stft = taco_stft if taco_stft is not None else TacotronSTFT(n_mel_channels=n_mel_channels)
        self.n_iters = n_iters
        self.seed = seed

    @property
    def hop_length(self) -> int:
        """Samples per mel frame."""
        return self.taco_stft.stft_fn.hop_length

    def to(self, device: torch.device) -> "GriffinLimVocoder":
        """Griffin-Lim stays on the CPU; returns self."""
        return self

    def waveform(self, mel: torch.Tensor) -> torch.Tensor:
        """Log mel ``(B, n_mels, T)``, ``T >= 1`` -> audio ``(B, hop_length * (T - 1))``."""
        from audio import mel_to_audio_griffin_lim

        if mel.dim() != 3 or mel.shape[-1] < 1:
            raise ValueError(f"mel must be (B, n_mels, T) with T >= 1, got {tuple(mel.shape)}")
        frames = mel.shape[-1]
        stft = self.taco_stft.stft_fn
        missing = stft.filter_length // (2 * stft.hop_length) + 2 - frames
        if missing > 0:
            silence = torch.full((*mel.shape[:2], missing), math.log(1e-5), dtype=mel.dtype, device=mel.device)
            mel = torch.cat([mel, silence], dim=-1)
        generator = None if self.seed is None else torch.Generator().manual_seed(self.seed)
        audio = mel_to_audio_griffin_lim(mel, self.taco_stft, self.n_iters, self.power, generator=generator,
                                         momentum=self.momentum)
        return audio[..., : self.hop_length * (frames - 1)]

    def __call__(self, mel: torch.Tensor, lengths: Sequence[int], *, sigma: float = 0.0,
                 denoise: float = 0.0) -> List[torch.Tensor]:
        """``mel (B, n_mels, T)`` and frame counts -> per item float32 audio ``(lengths[b] * hop_length,)``.

        Griffin-Lim's ``hop_length * (frames - 1)`` samples are padded with
        zeros to ``hop_length * frames`` so that every vocoder gives the same length.
        Lengths under :data:`SHORT_PIECE_FRAMES` warn.
        """
        warn_if_short(lengths, self.hop_length)
        out = []
        for b, n in enumerate(lengths):
            if n == 0:
                out.append(mel.new_zeros(0, dtype=torch.float32))
                continue
            audio = self.waveform(mel[b:b + 1, :, :n].float().cpu()).reshape(-1)
            out.append(torch.nn.functional.pad(audio, (0, n * self.hop_length - audio.numel())))
        return out
