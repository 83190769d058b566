"""Deterministic corpus sentences: seeds, prefixes, variety, and the text front end."""
import re
import sys
import warnings

import pytest

from text import text_to_sequence
from text.cleaners import english_cleaners
from recipes.builtin_voice.sentences import cmudict_words, common_words, generate_sentences, is_speakable, vocabulary_words

WORDS = ["apple", "river", "stone", "garden", "yellow", "window", "quiet", "marble", "candle",
         "forest", "silver", "pocket", "rabbit", "thunder", "velvet", "harbor", "basket", "meadow"]


def test_same_seed_same_sentences_and_other_seed_differs():
    assert generate_sentences(40, seed=3, words=WORDS) == generate_sentences(40, seed=3, words=WORDS)
    assert generate_sentences(40, seed=3, words=WORDS) != generate_sentences(40, seed=4, words=WORDS)


def test_first_sentences_do_not_depend_on_the_count():
    assert generate_sentences(60, seed=1, words=WORDS)[:25] == generate_sentences(25, seed=1, words=WORDS)


def test_sentences_are_distinct_and_encode_without_drops():
    sentences = generate_sentences(120, seed=0, words=WORDS)
    assert len(set(sentences)) == 120
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for sentence in sentences:
            assert text_to_sequence(sentence, ["english_cleaners"])
            assert 3 <= len(english_cleaners(sentence).split()) <= 15
            assert "|" not in sentence and "\n" not in sentence


def test_sentences_are_varied():
    sentences = generate_sentences(200, seed=0, words=WORDS)
    def share(pattern):
        return sum(bool(re.search(pattern, s)) for s in sentences) / len(sentences)
    assert share(r"\d") > 0.2
    assert share(r"\$") > 0.02
    assert share(r"\?$") > 0.05
    assert share(r",") > 0.1
    assert share(r"\d(st|nd|rd|th)\b") > 0.02


def test_word_bounds_are_respected():
    for sentence in generate_sentences(50, seed=2, words=WORDS, min_words=4, max_words=6):
        assert 4 <= len(english_cleaners(sentence).split()) <= 6


def test_is_speakable_rejects_drops_pipes_and_lengths():
    assert is_speakable("The cat sat down.")
    assert not is_speakable("Growth was 5% this year.")  # '%' is dropped by the front end
    assert not is_speakable("one|two three four")
    assert not is_speakable("Too short.")
    assert not is_speakable(" ".join(["word"] * 16) + ".")


@pytest.mark.parametrize("kwargs,match", [
    ({"n_sentences": 0}, "n_sentences"),
    ({"n_sentences": 3, "words": []}, "words is empty"),
    ({"n_sentences": 3, "min_words": 40, "max_words": 50}, "passed the checks"),
])
def test_generate_sentences_errors(kwargs, match):
    kwargs.setdefault("words", WORDS)
    with pytest.raises(ValueError, match=match):
        generate_sentences(**kwargs)


def test_cmudict_vocabulary_is_plain_sorted_words():
    words = cmudict_words()
    assert len(words) > 50000
    assert words == sorted(words)
    assert all(re.fullmatch(r"[a-z]{3,9}", w) for w in words[::997])


def test_common_vocabulary_is_everyday_cmudict_words():
    pytest.importorskip("wordfreq")
    words = common_words()
    assert 5000 < len(words) < 10000 and words == sorted(words)
    assert set(words) <= set(cmudict_words())
    assert "house" in words and "water" in words
    assert "the" not in words and "and" not in words  # the 100 most frequent words are left out
    assert vocabulary_words("common") == words


def test_vocabulary_errors(monkeypatch):
    with pytest.raises(ValueError, match="unknown vocabulary 'nope'"):
        vocabulary_words("nope")
    monkeypatch.setitem(sys.modules, "wordfreq", None)  # as if not installed
    with pytest.raises(ImportError, match="pip install wordfreq"):
        common_words()
