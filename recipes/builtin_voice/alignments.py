"""Known alignments for the built-in voice's training, from its teacher's own phone timings.

    python -m recipes.builtin_voice.alignments --corpus DIR --filelist DIR/mels/filelist_train_mel_arpabet.txt \\
        --out DIR/attention

The diagonal guided-attention term teaches the student a straight line from
the first symbol to the last: every symbol the same number of frames. Its
attention then follows position, not content (docs/voice.md), and the frames
it reads from its own output carry what the text should. The teacher knows
the truth: flite prints when each phone it speaks ends (``-psdur``). This
module turns those timings into, for every mel frame of a row, the index of
the input symbol it speaks, written as ``OUT/<row file stem>.pt`` for the
trainer's ``--attention-targets OUT``.

Mapping flite's phones to the row's symbols: the row's phonemes (``@DH``,
``@AH0``; letters for words outside the dictionary) are aligned to flite's
phones by edit distance (a phoneme matches the flite phone of the same name,
stress ignored, ``ax`` = ``AH``, ``axr`` = ``ER``; a phone flite adds joins its
neighbour in the same stretch of speech); a frame in a pause inside the
text points at the space or punctuation after the word before it, a frame
before the first phone at the first symbol, after the last phone at the last.
"""
from __future__ import annotations

import argparse
import bisect
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from audio.atomic import atomic_torch_save
from text import text_to_sequence
from text.cleaners import english_cleaners
from text.symbols import ARPABET_PREFIX, symbols

from recipes.builtin_voice.flite import FliteTeacher
from recipes.builtin_voice.teacher import get_teacher

#: flite's phone names that differ from the ARPAbet base (stress-free) name of the same sound.
FLITE_TO_ARPABET = {"ax": "AH", "axr": "ER"}
PAUSE = "pau"
#: The trainer's text cleaners for the phoneme filelists (braces pass through them untouched).
CLEANERS = ("english_cleaners",)


def row_symbols(text: str, cleaners: Sequence[str] = CLEANERS) -> List[str]:
    """The symbols the trainer feeds the encoder for ``text`` (``'@DH'``, ``' '``, ``'a'``, ``','``)."""
    return [symbols[i] for i in text_to_sequence(text, tuple(cleaners))]


def _is_content(symbol: str) -> bool:
    return symbol.startswith(ARPABET_PREFIX) or symbol.isalpha()


def _sound(symbol: str) -> str:
    """A row symbol's phone name comparable to :func:`_flite_sound` (letters never compare equal)."""
    return symbol[len(ARPABET_PREFIX):].rstrip("012") if symbol.startswith(ARPABET_PREFIX) else "#" + symbol


def _flite_sound(phone: str) -> str:
    return FLITE_TO_ARPABET.get(phone, phone.upper())


def align_sequences(row: Sequence[str], spoken: Sequence[str]) -> List[Optional[int]]:
    """For each item of ``spoken``, the index in ``row`` it is aligned to (``None``: an insertion).

    Levenshtein alignment (unit costs, a match costs 0) of two name
    sequences; ties prefer a substitution, then a deletion from ``row``.
    """
    n, m = len(row), len(spoken)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cost[i][0] = i
    for j in range(1, m + 1):
        cost[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            step = 0 if row[i - 1] == spoken[j - 1] else 1
            cost[i][j] = min(cost[i - 1][j - 1] + step, cost[i - 1][j] + 1, cost[i][j - 1] + 1)
    owner: List[Optional[int]] = [None] * m
    i, j = n, m
    while i > 0 and j > 0:
        step = 0 if row[i - 1] == spoken[j - 1] else 1
        if cost[i][j] == cost[i - 1][j - 1] + step:
            owner[j - 1] = i - 1
            i, j = i - 1, j - 1
        elif cost[i][j] == cost[i - 1][j] + 1:
            i -= 1
        else:
            j -= 1
    return owner


def segment_symbols(symbols_: Sequence[str], timings: Sequence[Tuple[str, float]]) -> List[int]:
    """The row symbol each of flite's timed phones belongs to (``timings`` as ``FliteTeacher.phone_timings``).

    Raises:
        ValueError: the row has no phonemes or letters, or flite spoke no phone.
    """
    content = [k for k, symbol in enumerate(symbols_) if _is_content(symbol)]
    phones = [k for k, (phone, _) in enumerate(timings) if phone != PAUSE]
    if not content or not phones:
        raise ValueError("nothing to align: the row has no phonemes or letters, or the teacher spoke none")
    owner = align_sequences([_sound(symbols_[k]) for k in content], [_flite_sound(timings[k][0]) for k in phones])
    # a phone aligned to nothing (flite said more than the row has) joins the row symbol spoken before it,
    # or after it when a pause (or the start) comes first: a word's sounds never cross a pause
    for j, own in enumerate(owner):
        if own is not None:
            continue
        after_pause = phones[j] == 0 or timings[phones[j] - 1][0] == PAUSE
        following = next((o for o in owner[j + 1:] if o is not None), None)
        earlier = owner[j - 1] if j > 0 else None
        if after_pause and following is not None:
            owner[j] = following
        else:
            owner[j] = next((o for o in (earlier, following) if o is not None), 0)
    belongs = [0] * len(timings)
    for j, k in enumerate(phones):
        belongs[k] = content[owner[j]]
    # pauses: before the first phone -> the first symbol; after the last -> the last symbol;
    # inside -> the first separator after the symbol spoken before the pause
    previous: Optional[int] = None
    for k, (phone, _) in enumerate(timings):
        if phone != PAUSE:
            previous = belongs[k]
        elif previous is None:
            belongs[k] = 0
        elif k > phones[-1]:
            belongs[k] = len(symbols_) - 1
        else:
            after = next((s for s in range(previous + 1, len(symbols_)) if not _is_content(symbols_[s])), previous)
            belongs[k] = after
    return belongs


def frame_targets(symbols_: Sequence[str], timings: Sequence[Tuple[str, float]], n_frames: int,
                  frame_seconds: float) -> torch.Tensor:
    """``(n_frames,)`` float32: the symbol index each mel frame speaks (frame ``t`` is centred at ``t * frame_seconds``).

    Frames after flite's last phone end point at the row's last symbol.
    """
    belongs = segment_symbols(symbols_, timings)
    ends = [end for _, end in timings]
    targets = torch.empty(n_frames, dtype=torch.float32)
    for t in range(n_frames):
        k = bisect.bisect_right(ends, t * frame_seconds)
        targets[t] = belongs[k] if k < len(belongs) else len(symbols_) - 1
    return targets


def match_rate(symbols_: Sequence[str], timings: Sequence[Tuple[str, float]]) -> float:
    """Fraction of the row's phonemes that flite spoke under the same name (how well the two agree)."""
    content = [symbol for symbol in symbols_ if _is_content(symbol)]
    spoken = [_flite_sound(phone) for phone, _ in timings if phone != PAUSE]
    owner = align_sequences([_sound(symbol) for symbol in content], spoken)
    matched = sum(1 for j, own in enumerate(owner) if own is not None and _sound(content[own]) == spoken[j])
    return matched / max(1, len(content))


def _spoken_texts(corpus: Path) -> Dict[str, str]:
    """``{wav file stem: the text the teacher spoke}`` from the corpus's filelists."""
    texts: Dict[str, str] = {}
    for name in ("filelist_train.txt", "filelist_val.txt"):
        listing = corpus / name
        if not listing.is_file():
            raise ValueError(f"{listing} not found: --corpus must be a folder made by recipes.builtin_voice.corpus")
        for line in listing.read_text(encoding="utf-8").splitlines():
            path, sep, text = line.partition("|")
            if sep:
                texts[Path(path.strip()).stem] = english_cleaners(text.strip())
    return texts


def _flite_teacher(corpus: Path, executable: Optional[str] = None) -> FliteTeacher:
    manifest = corpus / "corpus.json"
    if not manifest.is_file():
        raise ValueError(f"{manifest} not found: --corpus must be a folder made by recipes.builtin_voice.corpus")
    settings = json.loads(manifest.read_text(encoding="utf-8"))
    spec = settings.get("settings", {}).get("teacher", "")
    teacher = get_teacher(spec, executable)
    if not isinstance(teacher, FliteTeacher):
        raise ValueError(f"the corpus's teacher is {spec!r}; phone timings come from flite only")
    return teacher


def write_targets(corpus: Path, filelist: Path, out: Path, sampling_rate: int = 22050, hop_length: int = 256,
                  executable: Optional[str] = None, progress=print) -> Tuple[int, float]:
    """Write ``out/<stem>.pt`` for every row of ``filelist`` (mel rows ``path|phoneme text``, paths relative
    to ``corpus``); rows already written are kept (resumable). Returns (rows written, mean match rate).

    The corpus's teacher (``corpus.json``) must be flite; ``executable`` overrides where flite is.
    """
    teacher = _flite_teacher(corpus, executable)
    spoken = _spoken_texts(corpus)
    out.mkdir(parents=True, exist_ok=True)
    lines = [line for line in filelist.read_text(encoding="utf-8").splitlines() if line.strip()]
    written, rates = 0, []
    for number, line in enumerate(lines, start=1):
        path, _, text = line.partition("|")
        stem = Path(path.strip()).stem
        target = out / f"{stem}.pt"
        if target.is_file():
            continue
        if stem not in spoken:
            raise ValueError(f"{filelist}:{number}: no corpus text for {stem!r}")
        symbols_ = row_symbols(text.strip())
        timings = teacher.phone_timings(spoken[stem])
        mel = torch.load(corpus / path.strip(), map_location="cpu", weights_only=True)
        if not isinstance(mel, torch.Tensor) or mel.dim() != 2:
            raise ValueError(f"{filelist}:{number}: {path.strip()} is not a (n_mels, frames) mel; re-run the "
                             "preprocessing")
        try:
            frames = frame_targets(symbols_, timings, int(mel.shape[-1]), hop_length / sampling_rate)
        except ValueError as error:
            raise ValueError(f"{filelist}:{number}: {error}") from None
        atomic_torch_save(frames, target)
        rates.append(match_rate(symbols_, timings))
        written += 1
        if written % 500 == 0:
            progress(f"{number}/{len(lines)} rows; phonemes matched so far {sum(rates) / len(rates):.1%}")
    return written, (sum(rates) / len(rates) if rates else 1.0)


def main(argv: Optional[Sequence[str]] = None) -> int:
    prog = "python -m recipes.builtin_voice.alignments"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True, help="the corpus folder (recipes.builtin_voice.corpus --out)")
    parser.add_argument("--filelist", required=True, help="mel filelist with phoneme text (phonemes filelist --out)")
    parser.add_argument("--out", required=True, help="folder for the targets (the trainer's --attention-targets)")
    parser.add_argument("--executable", help="flite's path (default: flite on PATH)")
    args = parser.parse_args(argv)
    try:
        written, rate = write_targets(Path(args.corpus), Path(args.filelist), Path(args.out), executable=args.executable,
                                      progress=lambda line: print(line, file=sys.stderr, flush=True))
    except (ValueError, RuntimeError, OSError) as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 2
    print(f"wrote {written} target(s) to {args.out} (phonemes matched by flite's: {rate:.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
