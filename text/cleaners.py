"""Text cleaners: the normalisation run over text before it becomes symbol ids.

The three pipelines are NVIDIA's (after keithito/tacotron):

* ``english_cleaners``: ASCII transliteration, lower case, numbers spelled
  out, abbreviations expanded, whitespace runs collapsed to one space. This is
  what every NVIDIA English checkpoint was trained with.
* ``transliteration_cleaners``: ASCII transliteration, lower case, whitespace.
* ``basic_cleaners``: lower case and whitespace only (no transliteration).

Collapsing whitespace maps every run of whitespace (tabs, newlines included)
to a single space; leading and trailing whitespace is kept as one space, as in
the reference.
"""
import re
from types import MappingProxyType
from typing import Callable, Mapping

from unidecode import unidecode

from text.abbreviations import expand_abbreviations
from text.numbers import normalize_numbers

Cleaner = Callable[[str], str]

_WHITESPACE_RE = re.compile(r"\s+")


def lowercase(text: str) -> str:
    """Lower-case ``text``."""
    return text.lower()


def collapse_whitespace(text: str) -> str:
    """Replace every run of whitespace by one space."""
    return _WHITESPACE_RE.sub(" ", text)


def convert_to_ascii(text: str) -> str:
    """Transliterate ``text`` to ASCII with ``unidecode`` (``"café"`` -> ``"cafe"``)."""
    return unidecode(text)


def basic_cleaners(text: str) -> str:
    """Lower-case and collapse whitespace; no transliteration."""
    return collapse_whitespace(lowercase(text))


def transliteration_cleaners(text: str) -> str:
    """Transliterate to ASCII, lower-case and collapse whitespace."""
    return collapse_whitespace(lowercase(convert_to_ascii(text)))


def english_cleaners(text: str) -> str:
    """Transliterate, lower-case, spell numbers, expand abbreviations, collapse whitespace."""
    text = lowercase(convert_to_ascii(text))
    text = expand_abbreviations(normalize_numbers(text))
    return collapse_whitespace(text)


#: Cleaner name -> cleaner, the names accepted by ``text_to_sequence``.
CLEANERS: Mapping[str, Cleaner] = MappingProxyType(
    {
        "english_cleaners": english_cleaners,
        "transliteration_cleaners": transliteration_cleaners,
        "basic_cleaners": basic_cleaners,
    }
)


def get_cleaner(name: str) -> Cleaner:
    """Return the cleaner called ``name``.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: no cleaner has that name; the message lists the valid ones.
    """
    if not isinstance(name, str):
        raise TypeError(f"cleaner name must be a str, got {type(name).__name__} {name!r}")
    try:
        return CLEANERS[name]
    except KeyError:
        valid = ", ".join(repr(n) for n in CLEANERS)
        raise ValueError(f"unknown cleaner {name!r}; valid cleaners are {valid}") from None
