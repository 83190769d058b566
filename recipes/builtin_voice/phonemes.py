"""Teach the built-in voice to read ARPAbet phonemes instead of letters.

    python -m recipes.builtin_voice.phonemes filelist --in LIST --out LIST_ARPABET
    python -m recipes.builtin_voice.phonemes seed --checkpoint VOICE.pt --out VOICE_PHONEMES.pt

The voice reads its teacher fairly well when fed the true frames but not from
its own (docs/voice.md): it leans on its previous frame more than on the text,
and English spelling is a poor guide to sound for a small model with a few
hours of speech. The teacher (flite) speaks from the CMU dictionary, so the
student is given the same: every dictionary word of its training text is
written as ``{ARPAbet}`` (NVIDIA's text front end reads braces, and the 84
phonemes already have rows in the symbol table), words outside the dictionary
stay letters.

``filelist`` rewrites a ``path|text`` filelist that way (text cleaned with
``english_cleaners`` first, so numbers are words before the lookup).

``seed`` starts the phoneme rows of a letter-trained model's embedding from
the letters that usually spell each phoneme (``@SH`` from ``s`` and ``h``,
``@IY1`` from ``e`` and ``e``), so that a phoneme sequence first looks to the
encoder like a rough spelling it already reads, and the alignment the voice
learned is kept while the phonemes are learned.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, Optional, Sequence

import torch

from checkpoints import load_tacotron2, save_checkpoint
from tacotron2 import Tacotron2
from text import CMUDict, to_arpabet
from text.symbols import ARPABET, ARPABET_PREFIX, SYMBOL_TO_ID

from recipes.builtin_voice.files import atomic_write_text

#: The letters that usually spell each phoneme (stress marks dropped), lower case as the cleaned text is.
PHONEME_SPELLING: Dict[str, str] = {
    "AA": "o", "AE": "a", "AH": "u", "AO": "o", "AW": "ow", "AY": "i", "B": "b", "CH": "ch", "D": "d",
    "DH": "th", "EH": "e", "ER": "er", "EY": "a", "F": "f", "G": "g", "HH": "h", "IH": "i", "IY": "ee",
    "JH": "j", "K": "k", "L": "l", "M": "m", "N": "n", "NG": "ng", "OW": "o", "OY": "oy", "P": "p", "R": "r",
    "S": "s", "SH": "sh", "T": "t", "TH": "th", "UH": "oo", "UW": "oo", "V": "v", "W": "w", "Y": "y",
    "Z": "z", "ZH": "s",
}


def phonemize(text: str, dictionary: CMUDict) -> str:
    """``text`` cleaned with ``english_cleaners``, each dictionary word as ``{ARPAbet}``."""
    return to_arpabet(text, dictionary, ("english_cleaners",))


def seed_phoneme_embeddings(model: Tacotron2) -> Tacotron2:
    """``model`` with each phoneme's embedding row set to the mean of its spelling's letter rows (in place)."""
    with torch.no_grad():
        table = model.embedding.weight
        for phone in ARPABET:
            letters = PHONEME_SPELLING[phone.rstrip("012")]
            rows = [SYMBOL_TO_ID[letter] for letter in letters]
            table[SYMBOL_TO_ID[ARPABET_PREFIX + phone]] = table[rows].mean(dim=0)
    return model


def phonemize_filelist(source: Path, destination: Path, dictionary: Optional[CMUDict] = None) -> int:
    """Write ``source`` (``path|text`` lines) to ``destination`` with each text phonemized; the line count."""
    dictionary = dictionary if dictionary is not None else CMUDict()
    lines = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        path, _, text = line.partition("|")
        if not text:
            raise ValueError(f"{source}: a line without '|': {line!r:.120}")
        lines.append(f"{path}|{phonemize(text, dictionary)}")
    atomic_write_text(destination, "\n".join(lines) + "\n")
    return len(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    prog = "python -m recipes.builtin_voice.phonemes"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    filelist = commands.add_parser("filelist", help="rewrite a path|text filelist with {ARPAbet} words")
    filelist.add_argument("--in", dest="source", required=True)
    filelist.add_argument("--out", required=True)
    seed = commands.add_parser("seed", help="start a letter-trained model's phoneme embeddings from letters")
    seed.add_argument("--checkpoint", required=True)
    seed.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.exists():
        print(f"{prog}: {out} exists; choose another --out (nothing was written)", file=sys.stderr)
        return 2
    try:
        if args.command == "filelist":
            n = phonemize_filelist(Path(args.source), out)
            print(f"wrote {out}: {n} lines")
        else:
            model = seed_phoneme_embeddings(load_tacotron2(args.checkpoint))
            save_checkpoint(model, out, dtype=torch.float32, overwrite=False)
            print(f"wrote {out}: phoneme embeddings seeded from their spellings")
    except (ValueError, TypeError, OSError) as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
