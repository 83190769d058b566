"""Word error rate: closed-form edit distances and the normalisation of case, punctuation and numbers."""
import pytest

from recipes.builtin_voice.wer import normalize_words, word_edit_distance, word_error_rate, word_errors


def test_normalisation_drops_case_and_punctuation_and_spells_numbers():
    assert normalize_words("Hello, World!  It's 5 o'clock.") == ["hello", "world", "it's", "five", "o'clock"]
    assert normalize_words("Dr. Smith paid $3.") == ["doctor", "smith", "paid", "three", "dollars"]
    assert normalize_words("well-known") == ["well", "known"]
    assert normalize_words("...") == []


@pytest.mark.parametrize("ref,hyp,distance", [
    ("a b c", "a b c", 0),
    ("a b c", "", 3),            # three deletions
    ("", "a b", 2),              # two insertions
    ("a b c", "a x c", 1),       # one substitution
    ("a b c d", "b c d e", 2),   # deletion of a, insertion of e
    ("kitten sat", "sitting sat down", 2),
    ("a a a a", "a", 3),
])
def test_edit_distance_closed_forms(ref, hyp, distance):
    assert word_edit_distance(ref.split(), hyp.split()) == distance
    assert word_edit_distance(hyp.split(), ref.split()) == distance  # symmetric


def test_distance_is_bounded_by_the_longer_sequence():
    ref, hyp = "one two three four five".split(), "six seven".split()
    assert word_edit_distance(ref, hyp) == max(len(ref), len(hyp))


def test_corpus_wer_is_total_errors_over_total_reference_words():
    refs = ["The cat sat.", "A dog ran far away."]
    hyps = ["the cat sat", "a dog run away"]          # 0 errors of 3, 2 errors of 5
    assert word_errors(refs[1], hyps[1]) == (2, 5)
    assert word_error_rate(refs, hyps) == pytest.approx(100.0 * 2 / 8)
    assert word_error_rate(["yes"], ["no no no"]) == pytest.approx(300.0)  # WER is not capped at 100


def test_wer_refuses_mismatched_or_empty_input():
    with pytest.raises(ValueError, match="pair up"):
        word_error_rate(["a"], [])
    with pytest.raises(ValueError, match="no words"):
        word_error_rate(["..."], ["a"])
