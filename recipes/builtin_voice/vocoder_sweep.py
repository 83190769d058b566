"""Choose the built-in voice's Griffin-Lim setting: WER and spectral convergence on the teacher's own mels.

``python -m recipes.builtin_voice.vocoder_sweep --out DIR`` speaks the held-out
sentences (:mod:`recipes.builtin_voice.heldout`) with the teacher, takes their
mels (``audio.TacotronSTFT``), vocodes each with every setting of the grid
(iterations x power x momentum) and writes ``DIR/vocoder_sweep.json``: per
setting the PocketSphinx WER of the vocoded audio and the mean spectral
convergence ``||M - mel(y)||_F / ||M||_F`` between the mel magnitudes ``M``
asked for and those of the result ``y`` (comparable across powers, unlike the
linear-magnitude one). The mels are the teacher's, so the numbers isolate
the vocoder from the acoustic model.
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch

from audio import TacotronSTFT, load_wav
from text.cleaners import english_cleaners
from tacotron2_waveglow.synthesis.vocoders import GriffinLimVocoder
from recipes.builtin_voice.files import atomic_write_text
from recipes.builtin_voice.heldout import HELDOUT_NAME, HELDOUT_SENTENCES
from recipes.builtin_voice.metrics import spectral_convergence
from recipes.builtin_voice.recognizer import PocketSphinxRecognizer
from recipes.builtin_voice.teacher import DEFAULT_TEACHER, get_teacher
from recipes.builtin_voice.wer import word_error_rate

logger = logging.getLogger(__name__)
SAMPLING_RATE = 22050

#: (n_iters, power, momentum) settings compared; (60, 1.0, 0.0) was the first voice's.
GRID: Tuple[Tuple[int, float, float], ...] = tuple(itertools.product((30, 60, 100), (1.0, 1.3), (0.0, 0.99)))


def mel_convergence(taco_stft: TacotronSTFT, mel: torch.Tensor, audio: torch.Tensor) -> float:
    """Spectral convergence between the mel magnitudes of log mel ``(n_mels, T)`` and those of ``audio (S,)``."""
    with torch.no_grad():
        rebuilt = taco_stft.mel_spectrogram(audio.reshape(1, -1).float().clamp(-1, 1))[0]
    return spectral_convergence(mel.exp(), rebuilt.exp())


def teacher_mels(teacher_spec: str, wav_dir: Path, taco_stft: TacotronSTFT,
                 sentences: Sequence[str]) -> List[torch.Tensor]:
    """Log mels ``(n_mels, T)`` of the teacher speaking ``sentences`` (WAVs kept in ``wav_dir``)."""
    teacher = get_teacher(teacher_spec)
    wav_dir.mkdir(parents=True, exist_ok=True)
    mels = []
    for i, sentence in enumerate(sentences):
        path = wav_dir / f"{i + 1:02d}.wav"
        if not path.exists():
            teacher.synthesize(english_cleaners(sentence), path, SAMPLING_RATE)
        with torch.no_grad():
            mels.append(taco_stft.mel_spectrogram(load_wav(path, SAMPLING_RATE)[None])[0])
    return mels


def sweep(out: Path, teacher_spec: str = DEFAULT_TEACHER,
          grid: Sequence[Tuple[int, float, float]] = GRID) -> Dict[str, Any]:
    """Run the grid (see the module docstring) and write ``out/vocoder_sweep.json``; returns its content."""
    taco_stft = TacotronSTFT()
    mels = teacher_mels(teacher_spec, out / "teacher", taco_stft, HELDOUT_SENTENCES)
    recognizer = PocketSphinxRecognizer()
    teacher_hyps = [recognizer.transcribe_file(out / "teacher" / f"{i + 1:02d}.wav") for i in range(len(mels))]
    rows = []
    for n_iters, power, momentum in grid:
        vocoder = GriffinLimVocoder(taco_stft, n_iters=n_iters, power=power, momentum=momentum)
        hyps, convergences = [], []
        for mel in mels:
            audio = vocoder.waveform(mel[None])[0]
            convergences.append(mel_convergence(taco_stft, mel, audio))
            hyps.append(recognizer.transcribe(audio.numpy(), SAMPLING_RATE))
        row = {"n_iters": n_iters, "power": power, "momentum": momentum,
               "wer": word_error_rate(HELDOUT_SENTENCES, hyps),
               "spectral_convergence": sum(convergences) / len(convergences)}
        logger.info("%s", json.dumps(row))
        rows.append(row)
    result = {"teacher": get_teacher(teacher_spec).describe(), "recognizer": recognizer.describe(),
              "sentence_set": HELDOUT_NAME, "teacher_wer": word_error_rate(HELDOUT_SENTENCES, teacher_hyps),
              "settings": rows}
    atomic_write_text(out / "vocoder_sweep.json", json.dumps(result, indent=2) + "\n")
    return result


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m recipes.builtin_voice.vocoder_sweep",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for the teacher WAVs and the JSON")
    parser.add_argument("--teacher", default=DEFAULT_TEACHER, help="PROGRAM:VOICE, e.g. flite:rms")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sweep(args.out, args.teacher)
    return 0


if __name__ == "__main__":
    sys.exit(main())
