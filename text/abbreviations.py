"""English abbreviation expansion, as NVIDIA's ``english_cleaners`` does it.

An abbreviation only matches at the start of a word and only with its full
stop, case-insensitively; the full stop is consumed (``"Dr. Who"`` ->
``"doctor Who"``). The table order matters (``mrs`` before ``mr``) and is
NVIDIA's.
"""
import re
from typing import Pattern, Tuple

#: (abbreviation without its full stop, expansion), in the order applied.
ABBREVIATIONS: Tuple[Tuple[str, str], ...] = (
    ("mrs", "misess"),
    ("mr", "mister"),
    ("dr", "doctor"),
    ("st", "saint"),
    ("co", "company"),
    ("jr", "junior"),
    ("maj", "major"),
    ("gen", "general"),
    ("drs", "doctors"),
    ("rev", "reverend"),
    ("lt", "lieutenant"),
    ("hon", "honorable"),
    ("sgt", "sergeant"),
    ("capt", "captain"),
    ("esq", "esquire"),
    ("ltd", "limited"),
    ("col", "colonel"),
    ("ft", "fort"),
)

_PATTERNS: Tuple[Tuple[Pattern[str], str], ...] = tuple(
    (re.compile(r"\b" + re.escape(short) + r"\.", re.IGNORECASE), long)
    for short, long in ABBREVIATIONS
)


def expand_abbreviations(text: str) -> str:
    """Replace each abbreviation in :data:`ABBREVIATIONS` (with its full stop) by its expansion."""
    for pattern, expansion in _PATTERNS:
        text = pattern.sub(expansion, text)
    return text
