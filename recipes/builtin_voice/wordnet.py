"""Natural English sentences for the corpus: the usage examples of WordNet 3.0.

The template sentences of :mod:`recipes.builtin_voice.sentences` teach the
voice to read a fixed set of sentence shapes; teacher-forced, it reads unseen
template sentences as well as its teacher does, but ordinary English (the
held-out Harvard sentences) about 13 points worse (docs/voice.md, seventeenth
session). WordNet's glosses quote about 48,000 examples of words in use
("she rubbed down her child with a sponge", "the country lay ruined after the
war"), written by people, with the syntax and word order of everyday English.

They are read from the data files of Debian's ``wordnet-base`` package
(``/usr/share/wordnet/data.{noun,verb,adj,adv}``; WordNet's licence allows
this use). Each quoted example is kept when it is ASCII, has
``min_words``-``max_words`` words, encodes with NVIDIA's ``english_cleaners``
without dropping a character (:func:`~recipes.builtin_voice.sentences.is_speakable`),
and is not one of the held-out sentences; it gets a capital letter and a full
stop when it has no final punctuation. The kept examples, without repeats, are
shuffled by ``random.Random(f"wordnet-{seed}")``, so the first ``n`` for a seed
do not depend on how many are asked for.
"""
from __future__ import annotations

import hashlib
import os
import random
import re
from pathlib import Path
from typing import Iterator, List, Union

from recipes.builtin_voice.heldout import HELDOUT_SENTENCES
from recipes.builtin_voice.sentences import is_speakable
from recipes.builtin_voice.wer import normalize_words

PathLike = Union[str, "os.PathLike[str]"]
WORDNET_DIR = Path("/usr/share/wordnet")
"""Where Debian's ``wordnet-base`` puts the database."""
DATA_FILES = ("data.noun", "data.verb", "data.adj", "data.adv")
INSTALL_HINT = "install it with: apt-get install -y wordnet-base (Debian's WordNet 3.0 database)"

FILTER_VERSION = 1
"""Bumped whenever the same database and seed would give other sentences (recorded by :func:`wordnet_version`)."""

_QUOTED = re.compile(r'"([^"]+)"')
_ALLOWED = re.compile(r"[A-Za-z0-9 ,.;:?!'$%-]+")


class WordNetNotFoundError(RuntimeError):
    """WordNet's data files are not where they were looked for."""


def _data_paths(wordnet_dir: PathLike) -> List[Path]:
    root = Path(wordnet_dir)
    paths = [root / name for name in DATA_FILES]
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        raise WordNetNotFoundError(f"WordNet's {', '.join(missing)} not found in {root}; {INSTALL_HINT}")
    return paths


def _examples(paths: List[Path]) -> Iterator[str]:
    for path in paths:
        with open(path, encoding="latin-1") as lines:  # every byte decodes; _ALLOWED then keeps ASCII only
            for line in lines:
                if line.startswith("  ") or " | " not in line:  # the licence header, then one synset per line
                    continue
                yield from _QUOTED.findall(line.split(" | ", 1)[1])


def as_sentence(example: str) -> str:
    """``"the country lay ruined after the war"`` -> ``"The country lay ruined after the war."``."""
    text = " ".join(example.split()).strip(" ;,:")
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".?!" else text + "."


def wordnet_sentences(n_sentences: int, seed: int = 0, wordnet_dir: PathLike = WORDNET_DIR,
                      min_words: int = 4, max_words: int = 15) -> List[str]:
    """The first ``n_sentences`` usage examples for ``seed`` (see the module doc).

    Raises:
        ValueError: ``n_sentences`` is not a non-negative int, or more are asked for than WordNet has.
        WordNetNotFoundError: the data files are missing (the message gives the apt-get line).
    """
    if isinstance(n_sentences, bool) or not isinstance(n_sentences, int) or n_sentences < 0:
        raise ValueError(f"n_sentences must be a non-negative int, got {n_sentences!r}")
    if n_sentences == 0:
        return []
    held_out = {tuple(normalize_words(sentence)) for sentence in HELDOUT_SENTENCES}
    kept: List[str] = []
    seen = set()
    for example in _examples(_data_paths(wordnet_dir)):
        sentence = as_sentence(example)
        if not sentence or not _ALLOWED.fullmatch(sentence) or sentence in seen:
            continue
        seen.add(sentence)
        if tuple(normalize_words(sentence)) not in held_out and is_speakable(sentence, min_words, max_words):
            kept.append(sentence)
    random.Random(f"wordnet-{seed}").shuffle(kept)
    if n_sentences > len(kept):
        raise ValueError(f"WordNet has {len(kept)} usable examples, {n_sentences} were asked for")
    return kept[:n_sentences]


def wordnet_version(wordnet_dir: PathLike = WORDNET_DIR) -> str:
    """``"WordNet data sha256:0123abcd..., filter 1"``: the data files' digest and :data:`FILTER_VERSION`.

    A corpus records it in its manifest and refuses to grow with another.
    """
    digest = hashlib.sha256()
    for path in _data_paths(wordnet_dir):
        digest.update(path.read_bytes())
    return f"WordNet data sha256:{digest.hexdigest()[:16]}, filter {FILTER_VERSION}"
