"""Transliteration against NVIDIA's own tables, on every character they cover.

The expected output is derived here from the vendored copies of NVIDIA's
source lists (tests/fixtures/nvidia_unidecoder, read with ast.literal_eval),
not from text/transliteration.json, so a wrong entry, a wrong precedence or a
missing character in our table fails these tests.
"""
import ast
import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from text import text_to_sequence
from text.cleaners import (
    english_cleaners,
    english_cleaners_unidecode,
    transliteration_cleaners,
    transliteration_cleaners_unidecode,
)
from text.sequence import DroppedSymbolsWarning
from text.transliteration import TABLE, transliterate

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REPO = FIXTURES.parent.parent
NVIDIA_DIR = FIXTURES / "nvidia_unidecoder"
NVIDIA_CLEANERS = ("english_cleaners", "transliteration_cleaners")
# Not in NVIDIA's table: NVIDIA drops them with "Unexpected character".
UNCOVERED = ["\u2014", "\u2026", "\u4e2d", "\u00a3", "\x7f", "\ufe0f", "\U0001f600", "\u00ad"]


def _literal(path, name):
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and node.targets[0].id == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not found in {path}")


def _nvidia_lookup():
    """What NVIDIA's unidecoder(c) returns for each character it looks up and knows."""
    replacements = {}
    for character, ascii_text in _literal(NVIDIA_DIR / "replacements.py", "replacements"):
        replacements[character] = ascii_text  # dict(pairs): the later pair wins
    homoglyphs = {
        glyph: ascii_text
        for ascii_text, glyphs in _literal(NVIDIA_DIR / "homoglyphs.py", "homoglyphs").items()
        for glyph in glyphs
    }
    looked_up = {c for c in set(replacements) | set(homoglyphs) if len(c) == 1 and ord(c) >= 127}
    return {c: replacements[c] if c in replacements else homoglyphs[c] for c in looked_up}


NVIDIA = _nvidia_lookup()


def _quiet_ids(text, cleaner):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedSymbolsWarning)
        return text_to_sequence(text, (cleaner,))


def test_table_holds_exactly_the_characters_nvidia_looks_up():
    assert len(NVIDIA) == 2602  # 2,632 keys in NVIDIA's lists, 30 of them multi-character
    assert set(TABLE) == set(NVIDIA)


def test_every_covered_character_transliterates_as_nvidia():
    wrong = {c: (transliterate(c), a) for c, a in NVIDIA.items() if transliterate(c) != a}
    assert not wrong
    joined = "".join(sorted(NVIDIA))
    assert transliterate("<" + joined + ">") == "<" + "".join(NVIDIA[c] for c in sorted(NVIDIA)) + ">"


def test_known_nvidia_choices():
    assert transliterate("Müller Ärger Öl ß Φ ¢ “q” – ") == 'Mueller Aerger Oel ss F c "q" - '


@pytest.mark.parametrize("cleaner", NVIDIA_CLEANERS)
def test_every_covered_character_gives_the_ids_of_its_transliteration(cleaner):
    mismatched = []
    for character, ascii_text in NVIDIA.items():
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always", DroppedSymbolsWarning)
            ids = text_to_sequence("a" + character + "b", (cleaner,))
        if any("transliteration" in str(w.message) for w in record):
            mismatched.append((character, "reported as untransliterable"))
        elif ids != _quiet_ids("a" + ascii_text + "b", cleaner):
            mismatched.append((character, ids))
    assert not mismatched


def test_ascii_below_0x7f_passes_unchanged():
    ascii_text = "".join(chr(i) for i in range(127))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DroppedSymbolsWarning)
        assert transliterate(ascii_text) == ascii_text


@pytest.mark.parametrize("cleaner", NVIDIA_CLEANERS)
@pytest.mark.parametrize("character", UNCOVERED)
def test_uncovered_character_is_dropped_with_one_warning(cleaner, character):
    assert character not in TABLE
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        ids = text_to_sequence("tea" + character + " time%", (cleaner,))
    assert ids == _quiet_ids("tea time%", cleaner)
    assert len(record) == 1 and record[0].category is DroppedSymbolsWarning
    message = str(record[0].message)
    assert "no ASCII transliteration" in message and repr(character) in message
    assert "'%'" in message  # the same warning also names the symbol dropped after cleaning


def test_dropping_happens_before_whitespace_and_numbers_as_nvidia():
    # NVIDIA removes the character first, so "1\u20142" is the number 12 and
    # "a \u2014 b" has one space left after collapsing.
    assert _quiet_ids("1\u20142", "english_cleaners") == _quiet_ids("12", "english_cleaners")
    assert _quiet_ids("a \u2014 b", "english_cleaners") == _quiet_ids("a b", "english_cleaners")


def test_cleaner_called_alone_warns_itself():
    with pytest.warns(DroppedSymbolsWarning, match="no ASCII transliteration.*'\u2026'"):
        assert english_cleaners("wait\u2026 what") == "wait what"
    with pytest.warns(DroppedSymbolsWarning, match="'\u4e2d'"):
        assert transliteration_cleaners("\u4e2dx") == "x"


def test_unidecode_cleaners_keep_unidecode_transliteration():
    assert english_cleaners_unidecode("Müller \u2014 \u2026") == "muller -- ..."
    assert transliteration_cleaners_unidecode("Φ ü") == "ph u"
    assert english_cleaners("Müller") == "mueller"


def _ljspeech_cases():
    return json.loads((FIXTURES / "ljspeech_non_ascii_lines.json").read_text(encoding="utf-8"))["cases"]


def test_ljspeech_non_ascii_lines_give_nvidia_ids():
    cases = _ljspeech_cases()
    assert len(cases) == 23
    for case in cases:
        assert _quiet_ids(case["text"], "english_cleaners") == case["english_cleaners"], case["wav"]


def test_the_14_ljspeech_lines_that_unidecode_gets_wrong():
    differing = [case for case in _ljspeech_cases() if case["differs_from_unidecode"]]
    assert len(differing) == 14
    for case in differing:
        assert "\u00fc" in case["text"]
        assert _quiet_ids(case["text"], "english_cleaners_unidecode") != case["english_cleaners"]
    assert any("Müller" in case["text"] for case in differing)
    assert all("muller" not in english_cleaners(case["text"]) for case in differing)


def test_table_file_is_generated_from_the_vendored_lists():
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "make_transliteration_table.py"), "--check"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
