"""Sentence and clause splitting: nothing lost, budgets respected, words never cut."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from tacotron2_waveglow.synthesis.split import ensure_sentence_end, max_chars_for_steps, split_long, split_sentences, split_text


def _words(text: str) -> list:
    return text.split()


def test_sentences_and_abbreviations():
    text = "Hello world.  Mr. Smith met Dr. Jones, e.g. in Paris! Did he?  J. R. R. Tolkien wrote it."
    assert split_sentences(text) == [
        "Hello world.", "Mr. Smith met Dr. Jones, e.g. in Paris!", "Did he?", "J. R. R. Tolkien wrote it."]


def test_decimal_numbers_and_wordless_pieces_stay_attached():
    assert split_sentences("It costs 3.50 dollars. ... Really?") == ["It costs 3.50 dollars. ...", "Really?"]
    assert split_sentences("...") == []
    assert split_sentences("   ") == []


def test_long_sentence_split_at_clauses_first():
    sentence = "First clause here, second clause there; third clause: fourth clause \u2014 and the end."
    pieces = split_long(sentence, 30)
    assert pieces[0] == "First clause here,"
    assert all(p.endswith((",", ";", ":", "\u2014", ".")) for p in pieces)
    assert _words(" ".join(pieces)) == _words(sentence)


def test_clause_longer_than_budget_split_between_words():
    sentence = " ".join(f"w{i}" for i in range(100))
    pieces = split_long(sentence, 20)
    assert all(len(p) <= 20 for p in pieces)
    assert _words(" ".join(pieces)) == _words(sentence)


def test_word_longer_than_budget_kept_whole():
    assert split_long("a " + "x" * 50 + " b", 10) == ["a", "x" * 50, "b"]


def test_budget():
    assert max_chars_for_steps(1000) == 142   # 1000 frames / 7 frames per character
    assert max_chars_for_steps(100000) == 150  # capped at what LJ Speech trained the attention on
    assert max_chars_for_steps(10) == 16       # floor: whole words for tiny test models
    with pytest.raises(ValueError, match="-3"):
        max_chars_for_steps(-3)
    with pytest.raises(ValueError, match="0"):
        split_long("abc def", 0)


_text = st.lists(st.sampled_from(["Hello", "world", "Mr.", "it's", "3.5", ",", ";", ".", "!", "?", "\u2014", "...",
                                  "a", "long-word", "Yes."]), max_size=80).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(_text, st.integers(min_value=5, max_value=60))
def test_property_no_token_lost_and_budget_kept(text, max_chars):
    pieces = split_text(text, max_chars)
    if not any(c.isalnum() for c in text):
        assert pieces == []
        return
    assert _words(" ".join(pieces)) == _words(text)
    for piece in pieces:
        assert any(c.isalnum() for c in piece)
        tokens = piece.split()
        if all(any(c.isalnum() for c in t) for t in tokens) and all(len(t) <= max_chars for t in tokens):
            assert len(piece) <= max_chars


@pytest.mark.parametrize("piece, expected", [
    ("Hello world", "Hello world."),
    ("Hello world.", "Hello world."),
    ("Really?  ", "Really?"),
    ("Stop!", "Stop!"),
    ("and then,", "and then."),
    ("first; second --", "first; second."),
    ('He said "hi."', 'He said "hi."'),
    ("(as planned.)", "(as planned.)"),
    ("Wait\u2026", "Wait\u2026"),
    ('a quote "unfinished"', 'a quote "unfinished".'),
])
def test_ensure_sentence_end(piece, expected):
    assert ensure_sentence_end(piece) == expected


def test_ensure_sentence_end_uses_the_given_mark():
    assert ensure_sentence_end("Hello world", "!") == "Hello world!"
