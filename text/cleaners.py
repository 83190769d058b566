"""Text cleaners: the normalisation run over text before it becomes symbol ids.

The three pipelines are NVIDIA's (after keithito/tacotron), with NVIDIA's
transliteration table (:mod:`text.transliteration`, ``"Müller"`` -> ``"mueller"``):

* ``english_cleaners``: ASCII transliteration, lower case, numbers spelled
  out, abbreviations expanded, whitespace runs collapsed to one space. This is
  what every NVIDIA English checkpoint was trained with.
* ``transliteration_cleaners``: ASCII transliteration, lower case, whitespace.
* ``basic_cleaners``: lower case and whitespace only (no transliteration).

``english_cleaners_unidecode`` and ``transliteration_cleaners_unidecode`` are
the same pipelines with the ``unidecode`` package's transliteration instead
(keithito's original; ``"Müller"`` -> ``"muller"``, ``"—"`` -> ``"--"``), for
models trained that way. They are not NVIDIA's and give other ids on non-ASCII
text.

Collapsing whitespace maps every run of whitespace (tabs, newlines included)
to a single space; leading and trailing whitespace is kept as one space, as in
the reference.
"""
import re
from types import MappingProxyType
from typing import Callable, Mapping

from text.abbreviations import expand_abbreviations
from text.numbers import normalize_numbers
from text.transliteration import transliterate

Cleaner = Callable[[str], str]

_WHITESPACE_RE = re.compile(r"\s+")


def lowercase(text: str) -> str:
    """Lower-case ``text``."""
    return text.lower()


def collapse_whitespace(text: str) -> str:
    """Replace every run of whitespace by one space."""
    return _WHITESPACE_RE.sub(" ", text)


def convert_to_ascii(text: str) -> str:
    """Transliterate ``text`` to ASCII with NVIDIA's table (``"Müller"`` -> ``"Mueller"``).

    Characters outside the table are dropped and reported, as NVIDIA's
    ``unidecoder`` does (see :mod:`text.transliteration`).
    """
    return transliterate(text)


def convert_to_ascii_unidecode(text: str) -> str:
    """Transliterate ``text`` with the ``unidecode`` package (``"Müller"`` -> ``"Muller"``)."""
    from unidecode import unidecode  # only for the *_unidecode cleaners

    return unidecode(text)


def basic_cleaners(text: str) -> str:
    """Lower-case and collapse whitespace; no transliteration."""
    return collapse_whitespace(lowercase(text))


def _transliteration_pipeline(text: str, to_ascii: Cleaner) -> str:
    return collapse_whitespace(lowercase(to_ascii(text)))


def _english_pipeline(text: str, to_ascii: Cleaner) -> str:
    text = lowercase(to_ascii(text))
    text = expand_abbreviations(normalize_numbers(text))
    return collapse_whitespace(text)


def transliteration_cleaners(text: str) -> str:
    """Transliterate (NVIDIA's table), lower-case and collapse whitespace."""
    return _transliteration_pipeline(text, convert_to_ascii)


def english_cleaners(text: str) -> str:
    """Transliterate (NVIDIA's table), lower-case, spell numbers, expand abbreviations, collapse whitespace."""
    return _english_pipeline(text, convert_to_ascii)


def transliteration_cleaners_unidecode(text: str) -> str:
    """``transliteration_cleaners`` with ``unidecode`` instead of NVIDIA's table."""
    return _transliteration_pipeline(text, convert_to_ascii_unidecode)


def english_cleaners_unidecode(text: str) -> str:
    """``english_cleaners`` with ``unidecode`` instead of NVIDIA's table."""
    return _english_pipeline(text, convert_to_ascii_unidecode)


#: Cleaner name -> cleaner, the names accepted by ``text_to_sequence``.
CLEANERS: Mapping[str, Cleaner] = MappingProxyType(
    {
        "english_cleaners": english_cleaners,
        "transliteration_cleaners": transliteration_cleaners,
        "basic_cleaners": basic_cleaners,
        "english_cleaners_unidecode": english_cleaners_unidecode,
        "transliteration_cleaners_unidecode": transliteration_cleaners_unidecode,
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
