"""CMU flite as a teacher: Debian's ``flite`` package (voices ``kal16``, ``slt``, ``rms``, ``awb``, ``kal``)."""
from __future__ import annotations

import subprocess
from typing import List, Optional, Tuple

from recipes.builtin_voice.teacher import PathLike, Teacher

INSTALL_HINT = ("install it with 'apt-get install -y flite' (Debian/Ubuntu; voices kal16, slt, rms, awb built in) "
                "or 'brew install flite' (macOS), or pass its path with --executable")


class FliteTeacher(Teacher):
    """``flite -voice VOICE -t TEXT -o OUT.wav`` (16 kHz mono; resampled to the corpus rate)."""

    program = "flite"
    install_hint = INSTALL_HINT

    def command(self, executable: str, text: str, wav_path: PathLike) -> Tuple[List[str], Optional[str]]:
        """The text is one argument (no shell is involved)."""
        return [executable, "-voice", self.voice, "-t", text, "-o", str(wav_path)], None

    def phone_timings(self, text: str) -> List[Tuple[str, float]]:
        """The phones flite speaks for ``text`` and when each ends: ``[("pau", 0.119), ("hh", 0.212), ...]``.

        ``flite -voice VOICE -psdur -t TEXT -o none`` (its own timing of the audio
        :meth:`synthesize` writes for the same text; seconds, lower-case CMU
        phones, ``pau`` for silence).

        Raises:
            TeacherNotFoundError: flite is missing.
            RuntimeError: flite failed or printed no timings.
        """
        argv = [self.find(), "-voice", self.voice, "-psdur", "-t", text, "-o", "none"]
        result = subprocess.run(argv, capture_output=True, text=True)
        timings = []
        for token in result.stdout.split():
            phone, sep, end = token.rpartition(":")
            try:
                timings.append((phone, float(end)))
            except ValueError:
                continue
        if result.returncode != 0 or not timings:
            raise RuntimeError(f"flite printed no phone timings for {text!r} (exit {result.returncode}): "
                               f"{result.stderr.strip()}")
        return timings

    def version(self) -> str:
        """flite's ``version:`` line, e.g. ``flite-2.2-current Sep 2018 (http://cmuflite.org)``."""
        result = subprocess.run([self.find(), "--version"], capture_output=True, text=True)  # exits 1
        lines = [line.strip() for line in (result.stdout + result.stderr).splitlines() if "version" in line]
        return lines[0].split("version:", 1)[-1].strip() if lines else ""
