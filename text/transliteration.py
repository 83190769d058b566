"""Transliteration to ASCII exactly as NVIDIA's torch.hub front end (its ``unidecoder``).

NVIDIA's ``english_cleaners`` and ``transliteration_cleaners`` (DeepLearningExamples,
the ``torchhub`` branch that ``nvidia_tts_utils`` loads, and master) do not use
the ``unidecode`` package but their own table, merged from two lists: letter
replacements (``ü`` -> ``ue``, ``ß`` -> ``ss``, ``Φ`` -> ``F``, Cyrillic,
Greek, ...) and look-alike glyphs (``“`` -> ``"``, ``–`` -> ``-``, the Unicode
spaces -> `` ``). The rule, character by character:

* a character with ``ord < 127`` is kept as it is;
* any other character becomes its entry in :data:`TABLE` (2,602 characters;
  some map to ``""``, e.g. the Cyrillic hard and soft signs, and vanish quietly);
* a character with no entry (CJK, ``—``, ``…``, ``£``, emoji, ``\\x7f``) is
  dropped and reported in the :class:`~text.dropped.DroppedSymbolsWarning` of
  the ``text_to_sequence`` call (NVIDIA warns "Unexpected character" once per
  utterance).

The table is data: ``text/transliteration.json``, generated from NVIDIA's
source lists by ``tools/make_transliteration_table.py``. ``unidecode``'s
transliteration, which differs on 1,059 of these characters and spells out
most of what NVIDIA drops (``—`` -> ``--``, ``…`` -> ``...``), stays available through the
``*_unidecode`` cleaners in :mod:`text.cleaners`.
"""
import json
from pathlib import Path
from types import MappingProxyType
from typing import Dict, Mapping

from text.dropped import report_untransliterable

#: First code point NVIDIA looks up; everything below it is kept unchanged.
FIRST_LOOKED_UP = 127

_TABLE_FILE = Path(__file__).with_name("transliteration.json")


def _load_table() -> Dict[str, str]:
    return json.loads(_TABLE_FILE.read_text(encoding="ascii"))["table"]


#: Character (``ord >= 127``) -> its ASCII transliteration, NVIDIA's merged table.
TABLE: Mapping[str, str] = MappingProxyType(_load_table())
_BY_CODE_POINT: Mapping[int, str] = MappingProxyType({ord(c): a for c, a in TABLE.items()})


def transliterate(text: str) -> str:
    """Transliterate ``text`` to ASCII with NVIDIA's table (``"Müller"`` -> ``"Mueller"``).

    Characters the table lacks are dropped and reported (see the module
    docstring); ASCII characters below ``0x7f`` pass unchanged.
    """
    converted = text.translate(_BY_CODE_POINT)
    if converted.isascii() and chr(FIRST_LOOKED_UP) not in converted:
        return converted
    report_untransliterable(c for c in converted if ord(c) >= FIRST_LOOKED_UP)
    return "".join(c for c in converted if ord(c) < FIRST_LOOKED_UP)
