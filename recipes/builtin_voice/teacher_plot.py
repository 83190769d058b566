"""Plot the mel spectrograms of several teachers speaking one sentence, to compare them by eye.

``python -m recipes.builtin_voice.teacher_plot --out docs/voice/teachers.png`` speaks the first
held-out sentence with each teacher (default: the flite voices and espeak-ng) and
draws their ``audio.TacotronSTFT`` log mels one above the other.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

import torch

from audio import TacotronSTFT, load_wav
from text.cleaners import english_cleaners
from recipes.builtin_voice.heldout import HELDOUT_SENTENCES
from recipes.builtin_voice.teacher import get_teacher

TEACHERS = ("flite:rms", "flite:kal16", "flite:awb", "flite:slt", "espeak-ng:en-us")


def save_teacher_mels_png(path: Path, sentence: str = HELDOUT_SENTENCES[0],
                          teachers: Sequence[str] = TEACHERS) -> Path:
    """One log-mel panel ``(80, T)`` per teacher for ``sentence``, written to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stft = TacotronSTFT()
    figure, axes = plt.subplots(len(teachers), 1, figsize=(10, 2.2 * len(teachers)), squeeze=False)
    with tempfile.TemporaryDirectory() as tmp:
        for axis, spec in zip(axes[:, 0], teachers):
            wav = Path(tmp) / "teacher.wav"
            get_teacher(spec).synthesize(english_cleaners(sentence), wav)
            with torch.no_grad():
                mel = stft.mel_spectrogram(load_wav(wav)[None])[0]
            axis.imshow(mel.numpy(), origin="lower", aspect="auto", interpolation="none", vmin=-11.5, vmax=2.0)
            axis.set_title(f"{spec}: {sentence}", fontsize=9)
            axis.set_ylabel("mel bin")
    axes[-1, 0].set_xlabel("frame (256 samples at 22050 Hz)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m recipes.builtin_voice.teacher_plot",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="PNG file to write")
    parser.add_argument("--teachers", nargs="+", default=list(TEACHERS), help="PROGRAM:VOICE specs")
    args = parser.parse_args(argv)
    save_teacher_mels_png(args.out, teachers=args.teachers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
