"""Word error rate: word-level edit distance between a reference and a recogniser's transcript."""
from __future__ import annotations

import re
from typing import List, Sequence, Tuple

from text.cleaners import english_cleaners

_WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)*")


def normalize_words(text: str) -> List[str]:
    """Lower-case words of ``text`` with punctuation dropped, numbers and abbreviations spelled out.

    ``english_cleaners`` first (so ``"Dr. Smith paid $5."`` becomes
    ``dr`` -> ``doctor``, ``$5`` -> ``five dollars``, as the voice says it),
    then every run of letters (with inner apostrophes: ``it's``) is a word;
    hyphens split words (``well-known`` -> ``well known``).
    """
    return _WORD_RE.findall(english_cleaners(text).lower())


def word_edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Fewest word substitutions, deletions and insertions that turn ``reference`` into ``hypothesis``."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp_word in enumerate(hypothesis, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
        previous = current
    return previous[-1]


def word_errors(reference: str, hypothesis: str) -> Tuple[int, int]:
    """``(errors, reference_words)`` after :func:`normalize_words` on both texts."""
    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    return word_edit_distance(ref, hyp), len(ref)


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus WER in percent: ``100 * sum(errors) / sum(reference words)`` over aligned pairs.

    Raises:
        ValueError: the lists differ in length, or the references hold no words.
    """
    if len(references) != len(hypotheses):
        raise ValueError(f"references and hypotheses must pair up, got {len(references)} and {len(hypotheses)}")
    counts = [word_errors(r, h) for r, h in zip(references, hypotheses)]
    total = sum(n for _, n in counts)
    if total == 0:
        raise ValueError("the references hold no words; give the sentences that were spoken")
    return 100.0 * sum(e for e, _ in counts) / total
