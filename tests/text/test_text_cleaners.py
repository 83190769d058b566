"""Cleaner pipelines, number and abbreviation expansion, cleaner lookup errors."""
import pytest

from text import basic_cleaners, english_cleaners, get_cleaner, text_to_sequence, transliteration_cleaners
from text.abbreviations import ABBREVIATIONS, expand_abbreviations
from text.numbers import normalize_numbers


def test_get_cleaner_returns_the_public_functions():
    assert get_cleaner("english_cleaners") is english_cleaners
    assert get_cleaner("basic_cleaners") is basic_cleaners
    assert get_cleaner("transliteration_cleaners") is transliteration_cleaners


def test_unknown_cleaner_names_the_valid_ones():
    with pytest.raises(ValueError) as error:
        get_cleaner("englsh_cleaners")
    message = str(error.value)
    assert "'englsh_cleaners'" in message
    for name in ("english_cleaners", "basic_cleaners", "transliteration_cleaners"):
        assert name in message


def test_unknown_cleaner_in_text_to_sequence():
    with pytest.raises(ValueError, match="korean_cleaners"):
        text_to_sequence("hello", ["korean_cleaners"])


def test_bare_string_cleaner_names_is_a_type_error():
    with pytest.raises(TypeError, match="sequence of names"):
        text_to_sequence("hello", "english_cleaners")


def test_non_string_cleaner_name():
    with pytest.raises(TypeError, match="str"):
        get_cleaner(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "raw, spelled",
    [
        # dollars are rewritten as digits and spelled by the cardinal pass, without "and"
        ("$105", "one hundred five dollars"),
        ("$0.01", "one cent"),
        ("$0", "zero dollars"),
        ("$1.2.3", "one point two.three dollars"),
        ("£12", "twelve pounds"),
        ("£1,000", "one thousand pounds"),
        # ordinals keep inflect's "and"
        ("101st", "one hundred and first"),
        ("1000", "one thousand"),
        ("3000", "three thousand"),
        ("1100", "eleven hundred"),
        ("2005", "two thousand five"),
        ("2010", "twenty ten"),
        ("0", "zero"),
    ],
)
def test_number_normalisation(raw, spelled):
    assert normalize_numbers(raw) == spelled


def test_abbreviations_need_word_start_and_full_stop():
    assert expand_abbreviations("ST. Paul and dr. who") == "saint Paul and doctor who"
    assert expand_abbreviations("first. Mr Smith") == "first. Mr Smith"
    assert expand_abbreviations("mrs. mr.") == "misess mister"


def test_every_abbreviation_expands():
    for short, long in ABBREVIATIONS:
        assert expand_abbreviations(f"x {short}. y") == f"x {long} y"


def test_whitespace_and_case():
    assert basic_cleaners("  A\t\nB  ") == " a b "
    assert basic_cleaners("Café") == "café"
    assert transliteration_cleaners("Café  NAÏVE") == "cafe naive"
    assert english_cleaners("Dr. Café has 2 cats.") == "doctor cafe has two cats."
