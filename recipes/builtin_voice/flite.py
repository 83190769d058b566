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

    def version(self) -> str:
        """flite's ``version:`` line, e.g. ``flite-2.2-current Sep 2018 (http://cmuflite.org)``."""
        result = subprocess.run([self.find(), "--version"], capture_output=True, text=True)  # exits 1
        lines = [line.strip() for line in (result.stdout + result.stderr).splitlines() if "version" in line]
        return lines[0].split("version:", 1)[-1].strip() if lines else ""
