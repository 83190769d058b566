"""What the text front end leaves out, and the one warning that reports it.

NVIDIA's front end drops some input without a word (characters outside the
symbol set, unknown ``{ARPAbet}`` tokens) and warns for others (characters its
transliteration table lacks). We drop exactly the same input, so checkpoints
get the ids they were trained on, and report every drop in one
:class:`DroppedSymbolsWarning` per :func:`text.text_to_sequence` call.

Cleaners are plain ``str -> str`` functions, so a cleaner that drops input
(the transliteration) cannot hand its report back through its return value.
It calls :func:`report_untransliterable`, which adds to the report of the
``text_to_sequence`` call in progress (see :func:`collecting`, a context
variable, so threads and async tasks keep separate reports) or, when the
cleaner is called on its own, warns at once.
"""
import contextvars
import warnings
from contextlib import contextmanager
from typing import Iterable, Iterator, List, Optional


class DroppedSymbolsWarning(UserWarning):
    """Part of the input had no symbol id and was left out of the sequence."""


class DroppedSymbols:
    """What one ``text_to_sequence`` call left out, each kind in order of first appearance."""

    def __init__(self) -> None:
        self.untransliterable: List[str] = []
        self.characters: List[str] = []
        self.phonemes: List[str] = []
        self.lost_text: List[str] = []

    @staticmethod
    def _add(bucket: List[str], item: str) -> None:
        if item not in bucket:
            bucket.append(item)

    def add_untransliterable(self, character: str) -> None:
        """A character the transliteration table has no entry for."""
        self._add(self.untransliterable, character)

    def add_character(self, character: str) -> None:
        """A character that is not in the symbol set after cleaning."""
        self._add(self.characters, character)

    def add_phoneme(self, token: str) -> None:
        """A token inside ``{...}`` that is not an ARPAbet phoneme."""
        self._add(self.phonemes, token)

    def add_lost_text(self, text: str) -> None:
        """Text the brace parser loses after a newline that follows a ``{...}`` block."""
        self.lost_text.append(text)

    def describe(self) -> str:
        """One human-readable clause per kind of loss, ``"; "``-joined; empty when nothing was dropped."""
        parts = []
        if self.untransliterable:
            parts.append(
                "characters with no ASCII transliteration in NVIDIA's table: "
                + _listed(self.untransliterable)
            )
        if self.characters:
            parts.append("characters not in the symbol set after cleaning: " + _listed(self.characters))
        if self.phonemes:
            parts.append("tokens in {...} that are not ARPAbet phonemes: " + _listed(self.phonemes))
        if self.lost_text:
            parts.append(
                "text after a newline that follows a {...} block (the brace parser stops "
                "at the line break, as NVIDIA's; replace newlines by spaces): " + _listed(self.lost_text)
            )
        return "; ".join(parts)


def _listed(items: Iterable[str]) -> str:
    return ", ".join(repr(item) for item in items)


_CURRENT: "contextvars.ContextVar[Optional[DroppedSymbols]]" = contextvars.ContextVar(
    "text_dropped_symbols", default=None
)


@contextmanager
def collecting(report: DroppedSymbols) -> Iterator[DroppedSymbols]:
    """Within the block, cleaners add what they drop to ``report`` instead of warning."""
    token = _CURRENT.set(report)
    try:
        yield report
    finally:
        _CURRENT.reset(token)


def report_untransliterable(characters: Iterable[str], stacklevel: int = 3) -> None:
    """Record characters a transliteration dropped, or warn when no ``text_to_sequence`` is collecting.

    Args:
        characters: the dropped characters (repeats are reported once).
        stacklevel: passed to :func:`warnings.warn` when warning directly; the
            default points at the caller of the function that calls this one.
    """
    report = _CURRENT.get()
    if report is not None:
        for character in characters:
            report.add_untransliterable(character)
        return
    standalone = DroppedSymbols()
    for character in characters:
        standalone.add_untransliterable(character)
    if standalone.untransliterable:
        warnings.warn(f"dropped {standalone.describe()}", DroppedSymbolsWarning, stacklevel=stacklevel)
