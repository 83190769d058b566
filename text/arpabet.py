"""Rewrite words as ``{ARPAbet}`` using the CMU dictionary."""
import re
from typing import Optional

from text.cmudict import CMUDict

# Existing {...} blocks are kept as they are; words are runs of letters, with
# inner apostrophes ("it's", "o'clock") but not surrounding quotes.
_BRACES_RE = re.compile(r"(\{[^}]*\})")
_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


def to_arpabet(text: str, dictionary: Optional[CMUDict] = None) -> str:
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
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}: {text!r:.80}")
    if dictionary is None:
        dictionary = CMUDict()

    def replace(match: "re.Match[str]") -> str:
        pronunciations = dictionary.lookup(match.group(0))
        return "{" + pronunciations[0] + "}" if pronunciations else match.group(0)

    pieces = _BRACES_RE.split(text)
    # split() with a capturing group puts the {...} blocks at the odd indices.
    return "".join(
        piece if index % 2 else _WORD_RE.sub(replace, piece) for index, piece in enumerate(pieces)
    )
