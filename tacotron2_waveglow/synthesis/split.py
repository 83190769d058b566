"""Split long text into pieces that Tacotron 2's attention can read in one go.

Tacotron 2 decodes at most ``max_decoder_steps`` frames per input, and its
attention was trained on LJ Speech clips of at most about ten seconds (under
about 190 characters); longer inputs skip, repeat or run into the step limit.
So text is first split into sentences, and a sentence longer than the
character budget is split again at clause boundaries (``, ; : —`` and a
spaced dash), and as a last resort between words. Pieces never split a word.

The budget (:func:`max_chars_for_steps`) assumes a speaker needs at most
``FRAMES_PER_CHAR`` = 7 frames per character (LJ Speech averages about 5.5
frames, i.e. 15-16 characters per second at 86 frames per second), capped at
``MAX_CHARS`` = 150: with the default 1000 steps that is
``min(150, 1000 // 7) = 142`` characters.
"""
from __future__ import annotations

import re
from typing import List

FRAMES_PER_CHAR = 7.0
MAX_CHARS = 150
MIN_CHARS = 16

# Words that end with a period without ending the sentence.
_ABBREVIATIONS = frozenset("""
mr mrs ms dr st jr sr prof gen col lt sgt capt rev hon co corp inc ltd vs etc
no vol fig ft mt e.g i.e a.m p.m approx dept est jan feb mar apr jun jul aug sep sept oct nov dec
""".split())

_SENTENCE_END = re.compile(r"""([.!?\u2026]+["')\]\u201d\u2019]*)\s+""")
_CLAUSE_END = re.compile(r"""([,;:\u2014\u2013]["')\]\u201d\u2019]*|\s-{1,2}(?=\s))\s*""")
_WORD_CHAR = re.compile(r"\w")


def max_chars_for_steps(max_decoder_steps: int, frames_per_char: float = FRAMES_PER_CHAR,
                        cap: int = MAX_CHARS) -> int:
    """Character budget of one piece for a decoder limited to ``max_decoder_steps`` frames.

    ``min(cap, max_decoder_steps // frames_per_char)``, but never below
    ``MIN_CHARS`` (16) so that tiny test models still get whole words.
    """
    if max_decoder_steps <= 0:
        raise ValueError(f"max_decoder_steps must be positive, got {max_decoder_steps}")
    return max(MIN_CHARS, min(cap, int(max_decoder_steps // frames_per_char)))


def _ends_with_abbreviation(chunk: str) -> bool:
    last = chunk.rstrip(".!?\u2026\"')]\u201d\u2019").rsplit(None, 1)[-1:] or [""]
    word = last[0].lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _attach_wordless(pieces: List[str]) -> List[str]:
    """Merge pieces without any letter or digit (e.g. ``"..."``) into their neighbour."""
    out: List[str] = []
    for piece in pieces:
        if out and not _WORD_CHAR.search(piece):
            out[-1] = f"{out[-1]} {piece}"
        elif out and not _WORD_CHAR.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return [p for p in out if _WORD_CHAR.search(p)]


def _split_keep(regex: "re.Pattern[str]", text: str) -> List[str]:
    """Split after every match of ``regex`` (whose group 1 is kept with the left part)."""
    parts: List[str] = []
    start = 0
    for match in regex.finditer(text):
        parts.append(text[start:match.end(1)].strip())
        start = match.end()
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def split_sentences(text: str) -> List[str]:
    """Split ``text`` into sentences at ``. ! ? …`` followed by white space.

    Common abbreviations ("Mr.", "e.g.") and initials ("J. R.") do not end a
    sentence. White space is collapsed; pieces with no letter or digit are
    merged into the previous one.
    """
    text = " ".join(text.split())
    sentences: List[str] = []
    for part in _split_keep(_SENTENCE_END, text):
        if sentences and _ends_with_abbreviation(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {part}"
        else:
            sentences.append(part)
    return _attach_wordless(sentences)


def _pack(parts: List[str], max_chars: int) -> List[str]:
    """Greedily join consecutive ``parts`` with spaces while they fit in ``max_chars``."""
    packed: List[str] = []
    for part in parts:
        if packed and len(packed[-1]) + 1 + len(part) <= max_chars:
            packed[-1] = f"{packed[-1]} {part}"
        else:
            packed.append(part)
    return packed


def split_long(sentence: str, max_chars: int) -> List[str]:
    """Split one sentence into pieces of at most ``max_chars`` characters where possible.

    Clause boundaries are preferred; a clause still too long is split between
    words; a single word longer than ``max_chars`` stays whole.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    if len(sentence) <= max_chars:
        return [sentence]
    pieces: List[str] = []
    for clause in _pack(_split_keep(_CLAUSE_END, sentence), max_chars):
        pieces.extend(_pack(clause.split(), max_chars) if len(clause) > max_chars else [clause])
    return _attach_wordless(pieces)


def split_text(text: str, max_chars: int = MAX_CHARS) -> List[str]:
    """Sentences of ``text``, each further split by :func:`split_long` to fit ``max_chars``."""
    return [piece for sentence in split_sentences(text) for piece in split_long(sentence, max_chars)]


_CLOSERS = "\"')]\u201d\u2019"
_TRAILING_CLAUSE_MARKS = ",;:\u2014\u2013- \t\n"


def ensure_sentence_end(piece: str, mark: str = ".") -> str:
    """``piece`` as it is when it ends a sentence (``. ! ?`` or an ellipsis, maybe
    inside closing quotes or brackets); otherwise with trailing clause marks
    (``, ; : -`` and dashes) replaced by ``mark``.

    For voices trained only on whole sentences, which do not stop without one:
    ``"Hello world"`` -> ``"Hello world."``, ``"and then,"`` -> ``"and then."``.
    """
    stripped = piece.rstrip()
    if stripped.rstrip(_CLOSERS).endswith((".", "!", "?", "\u2026")):
        return stripped
    return stripped.rstrip(_TRAILING_CLAUSE_MARKS) + mark


__all__ = ["FRAMES_PER_CHAR", "MAX_CHARS", "MIN_CHARS", "ensure_sentence_end", "max_chars_for_steps",
           "split_sentences", "split_long", "split_text"]
