"""The teacher: an offline synthesizer program that speaks the built-in voice's corpus.

A :class:`Teacher` runs one program (``flite``, ``espeak-ng``) on one sentence
and leaves a 22050 Hz mono 16-bit WAV; :func:`get_teacher` turns a spec such as
``"flite:kal16"`` or ``"espeak-ng:en-us"`` into one. Nothing here installs
anything: a missing program raises :class:`TeacherNotFoundError` whose message
names the exact ``apt-get`` line.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from abc import ABC, abstractmethod
from math import gcd
from pathlib import Path
from typing import List, Optional, Tuple, Union

import numpy as np
import soundfile
from scipy.signal import resample_poly

PathLike = Union[str, "os.PathLike[str]"]
TMP_SUFFIX = ".partial.wav"
DEFAULT_TEACHER = "flite:rms"
"""The built-in voice's teacher: flite's ``rms`` diphone voice (lowest PocketSphinx WER of the flite and espeak-ng voices measured, docs/voice.md)."""


class TeacherNotFoundError(RuntimeError):
    """The teacher's program is not installed or not where it was said to be."""


class Teacher(ABC):
    """One synthesizer program and voice.

    Subclasses give :attr:`program`, :attr:`install_hint`, :meth:`command`
    and :meth:`version`; :meth:`synthesize` is shared.

    Args:
        voice: the program's voice name (``kal16``, ``en-us``).
        executable: program name or path; default :attr:`program` on ``PATH``.
    """

    program: str = ""
    install_hint: str = ""

    def __init__(self, voice: str, executable: Optional[PathLike] = None) -> None:
        if not isinstance(voice, str) or not voice or any(c.isspace() for c in voice):
            raise ValueError(f"voice must be a {self.program} voice name without spaces, got {voice!r}")
        self.voice = voice
        self._executable = os.fspath(executable) if executable is not None else self.program

    @property
    def spec(self) -> str:
        """``program:voice``, as :func:`get_teacher` reads it."""
        return f"{self.program}:{self.voice}"

    def find(self) -> str:
        """Absolute path of the program; :class:`TeacherNotFoundError` with the install line if missing."""
        found = shutil.which(self._executable)
        if found is None:
            raise TeacherNotFoundError(f"{self.program} was not found (looked for {self._executable!r}); "
                                       f"{self.install_hint}")
        return found

    @abstractmethod
    def command(self, executable: str, text: str, wav_path: PathLike) -> Tuple[List[str], Optional[str]]:
        """``(argv, stdin)`` that speaks ``text`` into ``wav_path`` (``stdin`` None: text is in ``argv``)."""

    @abstractmethod
    def version(self) -> str:
        """One line naming the program's version."""

    def describe(self) -> dict:
        """JSON-ready ``{'spec', 'version', 'command'}`` for manifests and reports."""
        executable = self.find()
        return {"spec": self.spec, "version": self.version(),
                "command": self.command(executable, "TEXT", "OUT.wav")[0]}

    def synthesize(self, text: str, wav_path: PathLike, sampling_rate: int = 22050) -> int:
        """Speak ``text`` into ``wav_path`` (mono int16 at ``sampling_rate``), written atomically.

        The program writes a temporary file next to ``wav_path``; it is
        resampled with ``scipy.signal.resample_poly`` when its rate differs
        (flite speaks 16 kHz) and moved into place only when complete, so an
        interrupted run never leaves a truncated ``wav_path``.

        Returns:
            the number of samples written.

        Raises:
            TeacherNotFoundError: the program is missing.
            RuntimeError: the program failed or produced no audio (its stderr is quoted).
        """
        executable = self.find()
        target = Path(wav_path)
        raw = target.with_name(target.stem + ".teacher" + TMP_SUFFIX)
        partial = target.with_name(target.stem + TMP_SUFFIX)
        try:
            argv, stdin = self.command(executable, text, raw)
            result = subprocess.run(argv, input=stdin, capture_output=True, text=True)
            if result.returncode != 0 or not raw.exists():
                raise RuntimeError(f"{self.program} failed on {text!r} (exit {result.returncode}): "
                                   f"{result.stderr.strip()}")
            samples = conform_wav(raw, sampling_rate)
            soundfile.write(os.fspath(partial), samples, sampling_rate, subtype="PCM_16", format="WAV")
            os.replace(partial, target)
        finally:
            for leftover in (raw, partial):
                if leftover.exists():
                    leftover.unlink()
        return int(samples.shape[0])


def _to_int16(audio: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] to int16 scaled by 32768, clipping at the ends."""
    return np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)


def conform_wav(raw_path: PathLike, sampling_rate: int) -> np.ndarray:
    """Samples of a WAV file as int16 mono ``(T,)`` at ``sampling_rate`` (channels averaged, resampled)."""
    data, rate = soundfile.read(os.fspath(raw_path), dtype="int16", always_2d=True)
    if data.shape[0] == 0:
        raise RuntimeError(f"the teacher wrote no samples to {raw_path}")
    if data.shape[1] == 1 and rate == sampling_rate:
        return data[:, 0]
    mono = data.astype(np.float64).mean(axis=1) / 32768.0
    if rate != sampling_rate:
        common = gcd(rate, sampling_rate)
        mono = resample_poly(mono, sampling_rate // common, rate // common)
    return _to_int16(mono)


def is_complete_wav(path: PathLike, sampling_rate: int = 22050) -> bool:
    """True when ``path`` is a readable mono 16-bit WAV at ``sampling_rate`` with samples."""
    try:
        info = soundfile.info(os.fspath(path))
    except (RuntimeError, OSError):  # LibsndfileError is a RuntimeError
        return False
    return (info.samplerate == sampling_rate and info.channels == 1 and info.frames > 0
            and info.subtype == "PCM_16")


def get_teacher(spec: Union[str, Teacher] = DEFAULT_TEACHER, executable: Optional[PathLike] = None) -> Teacher:
    """The teacher named ``program:voice`` (``flite:kal16``, ``flite:slt``, ``espeak-ng:en-us``).

    Raises:
        ValueError: an unknown program or a spec without ``:``.
    """
    if isinstance(spec, Teacher):
        return spec
    from recipes.builtin_voice.espeak import EspeakTeacher
    from recipes.builtin_voice.flite import FliteTeacher

    programs = {cls.program: cls for cls in (FliteTeacher, EspeakTeacher)}
    program, _, voice = str(spec).partition(":")
    if program not in programs or not voice:
        raise ValueError(f"teacher must be PROGRAM:VOICE with PROGRAM one of {', '.join(programs)} "
                         f"(e.g. {DEFAULT_TEACHER}), got {spec!r}")
    return programs[program](voice, executable)
