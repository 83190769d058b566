"""Synthetic speech-like data sets written by the tests themselves."""
from __future__ import annotations

from pathlib import Path
from typing import List, Sequence

import numpy as np
import soundfile

SR = 22050
TEXTS = ("hello world.", "the quick brown fox.", "a cat sat on a mat.", "tacotron speaks now.")


def tone(seconds: float, seed: int, sr: int = SR, channels: int = 1) -> np.ndarray:
    """Sum of three sinusoids plus a little noise, amplitude below 0.5."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    freqs = rng.uniform(100, 2000, size=3)
    y = sum(0.12 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in freqs)
    y = (y + 0.01 * rng.standard_normal(t.shape)).astype(np.float32)
    return np.stack([y] * channels, axis=1) if channels > 1 else y


def write_wav(path: Path, seconds: float, seed: int, sr: int = SR, channels: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), tone(seconds, seed, sr, channels), sr, subtype="PCM_16")
    return path


def write_dataset(root: Path, n: int = 4, seconds: Sequence[float] = (0.4, 0.6, 0.5, 0.7),
                  texts: Sequence[str] = TEXTS) -> Path:
    """``n`` WAVs in ``root/wavs`` and a filelist ``root/train.txt`` (``wavs/x.wav|text``)."""
    lines: List[str] = []
    for i in range(n):
        write_wav(root / "wavs" / f"utt{i}.wav", seconds[i % len(seconds)], seed=i)
        lines.append(f"wavs/utt{i}.wav|{texts[i % len(texts)]}")
    listing = root / "train.txt"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return listing
