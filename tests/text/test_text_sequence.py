"""text_to_sequence / sequence_to_text behaviour and error paths."""
import warnings

import pytest
import torch

from text import sequence_to_text, symbols, text_to_sequence
from text.sequence import DroppedSymbolsWarning
from text.symbols import SYMBOL_TO_ID


def _ids(chars):
    return [symbols.index(c) for c in chars]


def test_plain_text_maps_character_by_character():
    assert text_to_sequence("Hi, you!") == _ids("hi, you!")
    assert text_to_sequence("Hi, you!", ["basic_cleaners"]) == _ids("hi, you!")


def test_arpabet_in_braces_is_not_cleaned():
    ids = text_to_sequence("a {HH AH0 L OW1} b")
    assert ids == _ids("a ") + [symbols.index("@" + p) for p in ("HH", "AH0", "L", "OW1")] + _ids(" b")


def test_no_cleaners_keeps_case():
    assert text_to_sequence("Ab", []) == _ids("Ab")


def test_clean_text_gives_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text_to_sequence("Hello {W ER1 L D}, 42 times.")


@pytest.mark.parametrize("text", ["", "   ", "\t\n", "%%%", "@#", "{XX YY}", "{}", "__"])
def test_nothing_to_speak_is_a_value_error(text):
    with pytest.raises(ValueError, match="nothing to speak"):
        text_to_sequence(text)


def test_value_error_lists_what_was_dropped():
    with pytest.raises(ValueError, match=r"'%'"):
        text_to_sequence(" % ")


@pytest.mark.parametrize("value", [None, 3, b"bytes", ["a list"]])
def test_non_string_text_is_a_type_error(value):
    with pytest.raises(TypeError, match="str"):
        text_to_sequence(value)


def test_dropped_characters_are_warned_once_by_repr():
    with pytest.warns(DroppedSymbolsWarning) as record:
        ids = text_to_sequence('50% of "us" & _them_ #1')
    assert len(record) == 1
    message = str(record[0].message)
    for char in ("%", '"', "&", "_", "#"):
        assert repr(char) in message
    assert ids == _ids("fifty of us  them one")


def test_basic_cleaners_drop_non_ascii_and_say_so():
    with pytest.warns(DroppedSymbolsWarning, match="'é'"):
        assert text_to_sequence("café", ["basic_cleaners"]) == _ids("caf")


def test_unknown_phonemes_are_warned():
    with pytest.warns(DroppedSymbolsWarning, match="'XX'"):
        ids = text_to_sequence("{HH XX}")
    assert ids == [SYMBOL_TO_ID["@HH"]]


def test_text_lost_after_newline_is_warned():
    # NVIDIA's brace parser stops at the line break after a {...} block.
    with pytest.warns(DroppedSymbolsWarning, match="second line"):
        ids = text_to_sequence("{HH} one\nsecond line")
    assert ids == [SYMBOL_TO_ID["@HH"]] + _ids(" one")


def test_braces_after_a_newline_are_plain_text():
    with pytest.warns(DroppedSymbolsWarning, match=r"'\{'"):
        assert text_to_sequence("a\n{B}") == _ids("a b")


def test_sequence_to_text_encloses_arpabet_and_merges_adjacent_blocks():
    ids = _ids("go ") + [SYMBOL_TO_ID["@HH"], SYMBOL_TO_ID["@AY1"]] + _ids("!")
    assert sequence_to_text(ids) == "go {HH AY1}!"


def test_sequence_to_text_accepts_tensors():
    ids = text_to_sequence("Hello {W ER1 L D}.")
    assert sequence_to_text(torch.tensor(ids)) == sequence_to_text(ids) == "hello {W ER1 L D}."


@pytest.mark.parametrize("bad", [[-1], [len(symbols)], [0, 1000]])
def test_sequence_to_text_rejects_unknown_ids(bad):
    with pytest.raises(ValueError, match="0..147"):
        sequence_to_text(bad)


@pytest.mark.parametrize("bad", [[1.5], "abc", [None]])
def test_sequence_to_text_rejects_non_integers(bad):
    with pytest.raises(TypeError):
        sequence_to_text(bad)


@pytest.mark.parametrize("bad", [torch.zeros(2, 3, dtype=torch.long), torch.zeros(3)])
def test_sequence_to_text_rejects_bad_tensors(bad):
    with pytest.raises(ValueError, match="1-D integer"):
        sequence_to_text(bad)
