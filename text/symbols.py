"""The 148 input symbols of NVIDIA's Tacotron 2 checkpoints, in id order.

Id order is part of every published checkpoint (it indexes the embedding
table), so it must never change: the padding symbol ``_`` (id 0), the hyphen,
punctuation and space, upper- then lower-case ASCII letters, then the 84 CMU
ARPAbet phonemes, each prefixed with ``@`` so that e.g. ``@B`` stays distinct
from the letter ``B``.

Everything here is immutable: tuples and read-only mappings.
"""
from types import MappingProxyType
from typing import FrozenSet, Mapping, Tuple

PAD: str = "_"
SPECIAL: str = "-"
PUNCTUATION: str = "!'(),.:;? "
LETTERS: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

#: Prefix that marks an ARPAbet phoneme inside the symbol table.
ARPABET_PREFIX: str = "@"

#: The CMU Pronouncing Dictionary phonemes (vowels with stress 0/1/2), sorted.
ARPABET: Tuple[str, ...] = (
    "AA", "AA0", "AA1", "AA2", "AE", "AE0", "AE1", "AE2",
    "AH", "AH0", "AH1", "AH2", "AO", "AO0", "AO1", "AO2",
    "AW", "AW0", "AW1", "AW2", "AY", "AY0", "AY1", "AY2",
    "B", "CH", "D", "DH",
    "EH", "EH0", "EH1", "EH2", "ER", "ER0", "ER1", "ER2",
    "EY", "EY0", "EY1", "EY2",
    "F", "G", "HH",
    "IH", "IH0", "IH1", "IH2", "IY", "IY0", "IY1", "IY2",
    "JH", "K", "L", "M", "N", "NG",
    "OW", "OW0", "OW1", "OW2", "OY", "OY0", "OY1", "OY2",
    "P", "R", "S", "SH", "T", "TH",
    "UH", "UH0", "UH1", "UH2", "UW", "UW0", "UW1", "UW2",
    "V", "W", "Y", "Z", "ZH",
)

#: All symbols; ``symbols[i]`` is the symbol with id ``i``.
symbols: Tuple[str, ...] = (
    (PAD, SPECIAL)
    + tuple(PUNCTUATION)
    + tuple(LETTERS)
    + tuple(ARPABET_PREFIX + phone for phone in ARPABET)
)

#: Symbol -> id.
SYMBOL_TO_ID: Mapping[str, int] = MappingProxyType(
    {symbol: index for index, symbol in enumerate(symbols)}
)

#: Symbols that exist in the table but that ``text_to_sequence`` never emits
#: (NVIDIA's front end drops the padding symbol found in input text).
NEVER_EMITTED: FrozenSet[str] = frozenset({PAD})
