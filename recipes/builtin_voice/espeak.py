"""Running espeak-ng to turn one sentence into a 22050 Hz mono 16-bit WAV file."""
from __future__ import annotations

import os
import shutil
import subprocess
from math import gcd
from pathlib import Path
from typing import List, Optional, Union

import numpy as np
import soundfile
from scipy.signal import resample_poly

PathLike = Union[str, "os.PathLike[str]"]

INSTALL_HINT = (
    "install it with 'apt-get install -y espeak-ng' (Debian/Ubuntu), 'dnf install espeak-ng' "
    "(Fedora) or 'brew install espeak-ng' (macOS), or pass its path with --espeak"
)
TMP_SUFFIX = ".partial.wav"


class EspeakNotFoundError(RuntimeError):
    """The espeak-ng program is not installed or not where it was said to be."""


def find_espeak(executable: Optional[PathLike] = None) -> str:
    """Absolute path of the espeak-ng program.

    Args:
        executable: a path or a program name to look up on ``PATH``; default ``espeak-ng``.

    Raises:
        EspeakNotFoundError: nothing executable by that name, with how to install it.
    """
    name = os.fspath(executable) if executable is not None else "espeak-ng"
    found = shutil.which(name)
    if found is None:
        raise EspeakNotFoundError(f"espeak-ng was not found (looked for {name!r}); {INSTALL_HINT}")
    return found


def espeak_version(executable: str) -> str:
    """The first line of ``espeak-ng --version``, e.g. ``eSpeak NG text-to-speech: 1.51 ...``."""
    result = subprocess.run([executable, "--version"], capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()[0] if result.stdout.strip() else ""


def espeak_command(executable: str, voice: str, wav_path: PathLike) -> List[str]:
    """The command line that reads text from standard input and writes ``wav_path``."""
    return [executable, "-v", voice, "-w", os.fspath(wav_path), "--stdin"]


def _to_int16(audio: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] to int16 scaled by 32768, clipping at the ends."""
    return np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)


def _conform(raw_path: Path, sampling_rate: int) -> np.ndarray:
    """Samples of espeak-ng's output as int16 mono at ``sampling_rate`` ``(T,)``."""
    data, rate = soundfile.read(os.fspath(raw_path), dtype="int16", always_2d=True)
    if data.shape[0] == 0:
        raise RuntimeError(f"espeak-ng wrote no samples to {raw_path}")
    if data.shape[1] == 1 and rate == sampling_rate:
        return data[:, 0]
    mono = data.astype(np.float64).mean(axis=1) / 32768.0
    if rate != sampling_rate:
        common = gcd(rate, sampling_rate)
        mono = resample_poly(mono, sampling_rate // common, rate // common)
    return _to_int16(mono)


def synthesize(text: str, wav_path: PathLike, voice: str = "en-us", executable: str = "espeak-ng",
               sampling_rate: int = 22050) -> int:
    """Speak ``text`` with espeak-ng into ``wav_path`` (mono int16), written atomically.

    espeak-ng's own output goes to a temporary file next to ``wav_path``; it is
    resampled with ``scipy.signal.resample_poly`` when its rate is not
    ``sampling_rate`` (e.g. 16 kHz MBROLA voices) and moved into place only when
    complete, so an interrupted run never leaves a truncated ``wav_path``.

    Returns:
        the number of samples written.

    Raises:
        RuntimeError: espeak-ng failed or produced no audio (its stderr is quoted).
    """
    target = Path(wav_path)
    raw = target.with_name(target.stem + ".espeak" + TMP_SUFFIX)
    partial = target.with_name(target.stem + TMP_SUFFIX)
    try:
        result = subprocess.run(espeak_command(executable, voice, raw), input=text,
                                capture_output=True, text=True)
        if result.returncode != 0 or not raw.exists():
            raise RuntimeError(f"espeak-ng failed on {text!r} (exit {result.returncode}): "
                               f"{result.stderr.strip()}")
        samples = _conform(raw, sampling_rate)
        soundfile.write(os.fspath(partial), samples, sampling_rate, subtype="PCM_16", format="WAV")
        os.replace(partial, target)
    finally:
        for leftover in (raw, partial):
            if leftover.exists():
                leftover.unlink()
    return int(samples.shape[0])


def is_complete_wav(path: PathLike, sampling_rate: int = 22050) -> bool:
    """True when ``path`` is a readable mono 16-bit WAV at ``sampling_rate`` with samples."""
    try:
        info = soundfile.info(os.fspath(path))
    except (RuntimeError, OSError):  # LibsndfileError is a RuntimeError
        return False
    return (info.samplerate == sampling_rate and info.channels == 1 and info.frames > 0
            and info.subtype == "PCM_16")
