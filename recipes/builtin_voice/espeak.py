"""espeak-ng as a teacher (the first built-in voice's; kept for comparison)."""
from __future__ import annotations

import subprocess
from typing import List, Optional, Tuple

from recipes.builtin_voice.teacher import PathLike, Teacher

INSTALL_HINT = (
    "install it with 'apt-get install -y espeak-ng' (Debian/Ubuntu), 'dnf install espeak-ng' "
    "(Fedora) or 'brew install espeak-ng' (macOS), or pass its path with --executable"
)


class EspeakTeacher(Teacher):
    """``espeak-ng -v VOICE -w OUT.wav --stdin`` (22050 Hz; MBROLA voices are 16 kHz and get resampled)."""

    program = "espeak-ng"
    install_hint = INSTALL_HINT

    def command(self, executable: str, text: str, wav_path: PathLike) -> Tuple[List[str], Optional[str]]:
        """Reads ``text`` from standard input."""
        return [executable, "-v", self.voice, "-w", str(wav_path), "--stdin"], text

    def version(self) -> str:
        """The first line of ``espeak-ng --version``, e.g. ``eSpeak NG text-to-speech: 1.51 ...``."""
        result = subprocess.run([self.find(), "--version"], capture_output=True, text=True, check=True)
        return result.stdout.strip().splitlines()[0] if result.stdout.strip() else ""
