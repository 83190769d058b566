"""Rewrite words as ``{ARPAbet}`` using the CMU dictionary."""
import re
from typing import Optional, Sequence

from text.cleaners import get_cleaner
from text.cmudict import CMUDict

# Existing {...} blocks are kept as they are; words are runs of letters, with
# inner apostrophes ("it's", "o'clock") but not surrounding quotes.
_BRACES_RE = re.compile(r"(\{[^}]*\})")
_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


def to_arpabet(text: str, dictionary: Optional[CMUDict] = None,
               cleaner_names: Optional[Sequence[str]] = None) -> str:
    """Replace each dictionary word of ``text`` by its first pronunciation in braces.

    Words not in the dictionary, numbers, punctuation, whitespace and existing
    ``{...}`` blocks are left as they are, so the result can go straight to
    ``text_to_sequence``:

    >>> to_arpabet("Hello, Zyzzx!", dictionary)
    '{HH AH0 L OW1}, Zyzzx!'

    Args:
        text: input text.
        dictionary: the :class:`CMUDict` to use; ``None`` loads a new one
            (about a second), so pass one in when converting many texts.
        cleaner_names: when given, the text outside braces is first cleaned
            with these :mod:`text.cleaners` (``("english_cleaners",)`` spells
            out numbers and abbreviations, so ``"5"`` is looked up as ``five``).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}: {text!r:.80}")
    if isinstance(cleaner_names, str):
        raise TypeError(f"cleaner_names must be a sequence of names such as ({cleaner_names!r},)")
    cleaners = [get_cleaner(name) for name in cleaner_names or ()]
    if dictionary is None:
        dictionary = CMUDict()

    def replace(match: "re.Match[str]") -> str:
        pronunciations = dictionary.lookup(match.group(0))
        return "{" + pronunciations[0] + "}" if pronunciations else match.group(0)

    def clean(piece: str) -> str:
        for cleaner in cleaners:
            piece = cleaner(piece)
        return piece

    pieces = _BRACES_RE.split(text)
    # split() with a capturing group puts the {...} blocks at the odd indices.
    return "".join(
        piece if index % 2 else _WORD_RE.sub(replace, clean(piece)) for index, piece in enumerate(pieces)
    )
