"""An independent speech recogniser for intelligibility: PocketSphinx with its bundled en-us model.

``pip install pocketsphinx`` brings the acoustic model, the language model and
the pronouncing dictionary; nothing is downloaded. Audio at any rate is
resampled to the model's 16 kHz with ``scipy.signal.resample_poly``.
"""
from __future__ import annotations

import os
from math import gcd
from typing import Any, Dict, Union

import numpy as np
import soundfile
import torch
from scipy.signal import resample_poly


PathLike = Union[str, "os.PathLike[str]"]
RECOGNIZER_RATE = 16000
"""Sample rate of PocketSphinx's en-us acoustic model."""
INSTALL_HINT = "install it with 'pip install pocketsphinx' (its en-us model is bundled; no network needed)"


class RecognizerNotFoundError(RuntimeError):
    """PocketSphinx is not installed."""


def pocketsphinx_version() -> str:
    """The installed ``pocketsphinx`` distribution's version; :class:`RecognizerNotFoundError` when absent."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pocketsphinx")
    except PackageNotFoundError:
        raise RecognizerNotFoundError(f"pocketsphinx is not installed; {INSTALL_HINT}") from None


def to_recognizer_rate(audio: Union[np.ndarray, torch.Tensor], sampling_rate: int) -> np.ndarray:
    """Mono float audio ``(T,)`` in [-1, 1] at ``sampling_rate`` -> int16 ``(T * 16000 / sampling_rate,)``."""
    if isinstance(audio, torch.Tensor):
        audio = audio.detach().to("cpu", torch.float64).numpy()
    samples = np.asarray(audio, dtype=np.float64).reshape(-1)
    if sampling_rate != RECOGNIZER_RATE:
        common = gcd(int(sampling_rate), RECOGNIZER_RATE)
        samples = resample_poly(samples, RECOGNIZER_RATE // common, int(sampling_rate) // common)
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


class PocketSphinxRecognizer:
    """PocketSphinx's default en-us decoder (acoustic model ``en-us``, ``en-us.lm.bin``, ``cmudict-en-us.dict``).

    One decoder is built per instance and reused for every utterance.

    Raises:
        RecognizerNotFoundError: pocketsphinx is not installed (the message says how to install it).
    """

    name = "pocketsphinx"

    def __init__(self) -> None:
        self.version = pocketsphinx_version()
        from pocketsphinx import Config, Decoder

        config = Config()  # the bundled en-us model
        config["samprate"] = RECOGNIZER_RATE
        config["loglevel"] = "FATAL"
        self._decoder = Decoder(config)
        self._model = {key: os.path.basename(str(config[key])) for key in ("hmm", "lm", "dict")}

    def describe(self) -> Dict[str, Any]:
        """JSON-ready description: name, version, model files, sample rate, resampler."""
        return {"name": self.name, "version": self.version, "model": self._model, "sample_rate": RECOGNIZER_RATE,
                "resampling": "scipy.signal.resample_poly"}

    def transcribe(self, audio: Union[np.ndarray, torch.Tensor], sampling_rate: int) -> str:
        """The recognised words of mono audio ``(T,)`` in [-1, 1] (lower case, no punctuation; '' for none)."""
        pcm = to_recognizer_rate(audio, sampling_rate)
        self._decoder.start_utt()
        self._decoder.process_raw(pcm.tobytes(), full_utt=True)
        self._decoder.end_utt()
        hypothesis = self._decoder.hyp()
        return hypothesis.hypstr.strip() if hypothesis is not None else ""

    def transcribe_file(self, path: PathLike) -> str:
        """:meth:`transcribe` of a mono WAV file at any sample rate."""
        data, rate = soundfile.read(os.fspath(path), dtype="float64")
        if data.ndim != 1:
            raise ValueError(f"{path}: expected a mono WAV, got {data.shape[1]} channels")
        return self.transcribe(data, rate)
