"""Build the built-in voice's single-speaker corpus with a teacher synthesizer (flite ``rms`` by default).

``python -m recipes.builtin_voice.corpus --out DIR --n-sentences 3000 --seed 0 --teacher flite:rms`` writes::

    DIR/wavs/00001.wav ...     22050 Hz mono 16-bit, one per sentence
    DIR/filelist_train.txt     NVIDIA filelist lines ``wavs/00001.wav|raw text``
    DIR/filelist_val.txt
    DIR/corpus.json            settings, teacher version and command line, counts

The ``n_sentences`` generated sentences are followed by
:data:`recipes.builtin_voice.sentences.SHORT_PHRASES` ("Yes.", "Thank you.")
unless ``--no-short-phrases``, so one-word inputs learn to stop; the phrases
all go to the training list, the validation share is drawn from the sentences.
``--wordnet-sentences N`` appends N natural sentences, WordNet's usage examples
(:mod:`recipes.builtin_voice.wordnet`, Debian's ``wordnet-base``), after the
phrases, with their own validation share; a corpus built without them keeps its
files and grows by them. The filelists
hold the raw sentence (with digits, ``$``, ``Mr.``); the teacher is given its
``english_cleaners`` form, so the audio says exactly the words the model's text
front end produces (``1972`` -> "nineteen seventy-two" as NVIDIA's number
expansion reads it, not as the teacher would). The corpus script installs
nothing: a missing teacher program is an error naming the ``apt-get`` line.

A run is resumable: finished WAVs are kept (every WAV is written atomically),
and the sentences for a seed do not depend on ``--n-sentences`` or
``--wordnet-sentences``, so a corpus can also be grown in WordNet sentences
(the WAVs are named by position, so generated sentences cannot grow once
anything follows them). The WordNet sentences' validation rows are drawn per
block of :data:`SPLIT_BLOCK` sentences, so growing from a whole number of
blocks keeps every finished utterance in its list; a build that would move one
between the training and validation lists (a model trained on the old lists
would be validated on its own training rows) is refused before anything is
written. A folder built with another seed, voice or generator version is
refused rather than mixed (teacher, seed, short phrases, generator version,
vocabulary, WordNet's data and filter).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import soundfile
from tqdm import tqdm

from text.cleaners import english_cleaners
from recipes.builtin_voice.files import atomic_write_text, filelist_paths, write_filelist
from recipes.builtin_voice.sentences import (GENERATOR_VERSION, SHORT_PHRASES, VOCABULARIES, check_vocabulary,
                                             generate_sentences, vocabulary_version, vocabulary_words)
from recipes.builtin_voice.teacher import DEFAULT_TEACHER, TMP_SUFFIX, Teacher, get_teacher, is_complete_wav
from recipes.builtin_voice.wordnet import WORDNET_DIR, wordnet_sentences, wordnet_version

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]
SAMPLING_RATE = 22050
MANIFEST_NAME = "corpus.json"
TRAIN_FILELIST = "filelist_train.txt"
VAL_FILELIST = "filelist_val.txt"
_IDENTITY_KEYS = ("seed", "teacher", "short_phrases", "generator_version", "sampling_rate", "vocabulary")
_OLD_DEFAULTS = {"teacher": "espeak-ng:en-us", "short_phrases": False, "vocabulary": "cmudict"}
"""What a manifest written before a key existed meant by its absence."""
SPLIT_BLOCK = 4000
"""WordNet sentences per validation draw; the first block's draw is the whole part's split of earlier versions."""


@dataclass(frozen=True)
class CorpusSettings:
    """What defines a corpus; two builds with equal settings give the same files."""

    n_sentences: int = 3000
    seed: int = 0
    teacher: str = DEFAULT_TEACHER
    val_fraction: float = 0.05
    short_phrases: bool = True
    sampling_rate: int = SAMPLING_RATE
    generator_version: int = GENERATOR_VERSION
    vocabulary: str = "cmudict"
    wordnet_sentences: int = 0

    def __post_init__(self) -> None:
        check_vocabulary(self.vocabulary)
        if not isinstance(self.n_sentences, int) or self.n_sentences < 2:
            raise ValueError(f"n_sentences must be an int >= 2 (train and validation), got {self.n_sentences!r}")
        if (isinstance(self.wordnet_sentences, bool) or not isinstance(self.wordnet_sentences, int)
                or self.wordnet_sentences == 1 or self.wordnet_sentences < 0):
            raise ValueError("wordnet_sentences must be 0 or an int >= 2 (train and validation), "
                             f"got {self.wordnet_sentences!r}")
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction!r}")
        get_teacher(self.teacher)  # ValueError for a malformed spec

    def sentences(self, wordnet_dir: PathLike = WORDNET_DIR) -> List[str]:
        """Every utterance's raw text, in corpus order (generated sentences, short phrases, WordNet's examples)."""
        phrases = list(SHORT_PHRASES) if self.short_phrases else []
        natural = wordnet_sentences(self.wordnet_sentences, self.seed, wordnet_dir)
        return (generate_sentences(self.n_sentences, self.seed, words=vocabulary_words(self.vocabulary))
                + phrases + natural)


def wav_name(index: int) -> str:
    """Filelist path of sentence ``index`` (0-based), relative to the corpus root."""
    return f"wavs/{index + 1:05d}.wav"


def split_indices(n_items: int, val_fraction: float, seed: int, stream: str = "") -> Tuple[List[int], List[int]]:
    """Sorted ``(train, val)`` indices; at least one of each (from 2 items), val about ``val_fraction``.

    ``stream`` names an independent draw for the same seed.
    """
    n_val = min(max(1, round(n_items * val_fraction)), n_items - 1)
    order = list(range(n_items))
    random.Random(f"split-{seed}{stream}").shuffle(order)
    return sorted(order[n_val:]), sorted(order[:n_val])


def split_blocks(n_items: int, val_fraction: float, seed: int,
                 block: Optional[int] = None) -> Tuple[List[int], List[int]]:
    """:func:`split_indices` drawn per ``block`` items (default :data:`SPLIT_BLOCK`), so the split of a
    multiple of ``block`` items is a prefix of every larger one; up to ``block`` items it is
    :func:`split_indices` itself."""
    block = SPLIT_BLOCK if block is None else block
    train: List[int] = []
    val: List[int] = []
    for start in range(0, n_items, block):
        part = split_indices(min(block, n_items - start), val_fraction, seed,
                             f"-block{start // block}" if start else "")
        train += [start + i for i in part[0]]
        val += [start + i for i in part[1]]
    return train, val


def _check_split_kept(out_dir: Path, train: Sequence[int], val: Sequence[int]) -> None:
    """Refuse new filelists that would move a listed utterance between training and validation."""
    new_val = {wav_name(i) for i in val}
    new_train = {wav_name(i) for i in train}
    moved = ([name for name in filelist_paths(out_dir / TRAIN_FILELIST) if name in new_val]
             + [name for name in filelist_paths(out_dir / VAL_FILELIST) if name in new_train])
    if moved:
        raise ValueError(f"{out_dir}: these counts would move {len(moved)} utterance(s) between the training and "
                         f"validation lists (first {moved[0]}), so a model trained on the old lists would be "
                         f"validated on its own training rows; grow --wordnet-sentences from a multiple of "
                         f"{SPLIT_BLOCK}, keep the old counts, or use another --out folder")


def _check_existing(out_dir: Path, settings: CorpusSettings, wordnet: Optional[str]) -> None:
    manifest = out_dir / MANIFEST_NAME
    if not manifest.exists():
        return
    recorded = json.loads(manifest.read_text(encoding="utf-8"))
    old = old_settings = recorded.get("settings", {})
    if "teacher" not in old and "voice" in old:
        old = dict(old, teacher=f"espeak-ng:{old['voice']}")
    old = {k: old.get(k, _OLD_DEFAULTS.get(k)) for k in _IDENTITY_KEYS}
    changed = {k: (old[k], getattr(settings, k)) for k in _IDENTITY_KEYS if old[k] != getattr(settings, k)}
    if changed:
        listed = ", ".join(f"{k}: {a!r} there, {b!r} now" for k, (a, b) in changed.items())
        raise ValueError(f"{out_dir} already holds a corpus built differently ({listed}); "
                         "use another --out folder or delete that one")
    old_n, old_after = old_settings.get("n_sentences"), recorded.get("n_short_phrases", 0) + old_settings.get(
        "wordnet_sentences", 0)
    if old_n is not None and old_n != settings.n_sentences and old_after:
        raise ValueError(f"{out_dir} holds {old_n} generated sentences followed by {old_after} other utterances, "
                         f"whose WAVs would be taken for generated sentences with --n-sentences "
                         f"{settings.n_sentences}; keep --n-sentences {old_n} or use another --out folder")
    source = vocabulary_version(settings.vocabulary)
    if recorded.get("vocabulary", source) != source:  # the same seed draws other words from another word list
        raise ValueError(f"{out_dir} was built with words from {recorded['vocabulary']}, this run has {source}; "
                         "install that version or use another --out folder")
    if settings.wordnet_sentences and recorded.get("wordnet", wordnet) != wordnet:
        raise ValueError(f"{out_dir} was built with examples from {recorded['wordnet']}, this run has {wordnet}; "
                         "use that WordNet database or another --out folder")


def _remove_partials(wav_dir: Path) -> None:
    for leftover in wav_dir.glob("*" + TMP_SUFFIX):
        leftover.unlink()


def _synthesize_missing(out_dir: Path, spoken: Sequence[str], settings: CorpusSettings,
                        teacher: Teacher, workers: int, progress: bool) -> int:
    """Synthesize every sentence whose WAV is not complete; returns how many were made."""
    todo = [i for i in range(len(spoken))
            if not is_complete_wav(out_dir / wav_name(i), settings.sampling_rate)]
    if not todo:
        return 0
    # Each job waits on a teacher child process, so threads run the children in parallel.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(teacher.synthesize, spoken[i], out_dir / wav_name(i), settings.sampling_rate)
                   for i in todo]
        for future in tqdm(as_completed(futures), total=len(futures), disable=not progress,
                           desc=teacher.spec, unit="wav"):
            future.result()
    return len(todo)


def _manifest(out_dir: Path, settings: CorpusSettings, teacher: Teacher, n_items: int,
              n_train: int, n_val: int, wordnet: Optional[str]) -> Dict[str, Any]:
    frames = sum(soundfile.info(os.fspath(out_dir / wav_name(i))).frames for i in range(n_items))
    return {
        "settings": asdict(settings),
        "vocabulary": vocabulary_version(settings.vocabulary),
        **({"wordnet": wordnet} if wordnet else {}),
        "teacher": dict(teacher.describe(), input="english_cleaners(text)"),
        "files": {"train": TRAIN_FILELIST, "val": VAL_FILELIST, "wavs": "wavs/"},
        "n_short_phrases": len(SHORT_PHRASES) if settings.short_phrases else 0,
        "n_train": n_train,
        "n_val": n_val,
        "total_seconds": round(frames / settings.sampling_rate, 3),
    }


def build_corpus(out_dir: PathLike, settings: CorpusSettings = CorpusSettings(), *,
                 workers: int = 2, executable: Optional[PathLike] = None,
                 progress: bool = True, wordnet_dir: PathLike = WORDNET_DIR) -> Dict[str, Any]:
    """Synthesize the corpus into ``out_dir`` (see the module docstring); returns the manifest.

    Args:
        out_dir: corpus root; created if missing. Existing complete WAVs are kept.
        settings: sentence count, seed, teacher spec, short phrases, validation share.
        workers: teacher processes run at once (>= 1).
        executable: the teacher's program (name or path); default its usual name on PATH.
        progress: show a tqdm bar.
        wordnet_dir: where WordNet's data files are (with ``settings.wordnet_sentences``).

    Raises:
        TeacherNotFoundError: the teacher program is not installed (the message gives the apt-get line).
        WordNetNotFoundError: WordNet sentences were asked for and its files are missing (the same).
        ValueError: bad ``workers``, or ``out_dir`` holds a corpus with other settings.
        RuntimeError: the teacher failed on a sentence.
    """
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    teacher = get_teacher(settings.teacher, executable)
    teacher.find()
    wordnet = wordnet_version(wordnet_dir) if settings.wordnet_sentences else None
    root = Path(out_dir)
    _check_existing(root, settings, wordnet)
    sentences = settings.sentences(wordnet_dir)
    train, val = split_indices(settings.n_sentences, settings.val_fraction, settings.seed)
    first_natural = len(sentences) - settings.wordnet_sentences
    train += list(range(settings.n_sentences, first_natural))  # short phrases: all for training
    if settings.wordnet_sentences:
        natural_train, natural_val = split_blocks(settings.wordnet_sentences, settings.val_fraction, settings.seed)
        train += [first_natural + i for i in natural_train]
        val += [first_natural + i for i in natural_val]
    _check_split_kept(root, train, val)
    (root / "wavs").mkdir(parents=True, exist_ok=True)
    _remove_partials(root / "wavs")
    spoken = [english_cleaners(sentence) for sentence in sentences]
    made = _synthesize_missing(root, spoken, settings, teacher, workers, progress)
    logger.info("synthesized %d of %d sentences into %s", made, len(sentences), root)
    write_filelist(root / TRAIN_FILELIST, [(wav_name(i), sentences[i]) for i in train])
    write_filelist(root / VAL_FILELIST, [(wav_name(i), sentences[i]) for i in val])
    manifest = _manifest(root, settings, teacher, len(sentences), len(train), len(val), wordnet)
    atomic_write_text(root / MANIFEST_NAME, json.dumps(manifest, indent=2) + "\n")
    return manifest


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``python -m recipes.builtin_voice.corpus``."""
    parser = argparse.ArgumentParser(prog="python -m recipes.builtin_voice.corpus",
                                     description="Synthesize the built-in voice's corpus with a teacher synthesizer.")
    defaults = CorpusSettings()
    parser.add_argument("--out", required=True, help="corpus folder (created; resumable)")
    parser.add_argument("--n-sentences", type=int, default=defaults.n_sentences)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--teacher", default=defaults.teacher,
                        help="PROGRAM:VOICE: flite:rms (default), flite:kal16, flite:slt, espeak-ng:en-us")
    parser.add_argument("--no-short-phrases", action="store_true", help="leave out the short phrases")
    parser.add_argument("--vocabulary", choices=VOCABULARIES, default=defaults.vocabulary,
                        help="words of the sentences' word slots: every CMUdict word, or about 8,000 everyday "
                             "ones (needs pip install wordfreq)")
    parser.add_argument("--wordnet-sentences", type=int, default=defaults.wordnet_sentences, metavar="N",
                        help="append N natural sentences, WordNet's usage examples (needs apt-get install -y "
                             f"wordnet-base); an existing corpus grows from a multiple of {SPLIT_BLOCK}; default 0")
    parser.add_argument("--wordnet-dir", default=str(WORDNET_DIR),
                        help="WordNet 3.0's data files (default: %(default)s, where wordnet-base puts them)")
    parser.add_argument("--val-fraction", type=float, default=defaults.val_fraction)
    parser.add_argument("--workers", type=int, default=2, help="teacher processes at once")
    parser.add_argument("--executable", default=None, help="the teacher's program (default: found on PATH)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        settings = CorpusSettings(n_sentences=args.n_sentences, seed=args.seed, teacher=args.teacher,
                                  val_fraction=args.val_fraction, short_phrases=not args.no_short_phrases,
                                  vocabulary=args.vocabulary, wordnet_sentences=args.wordnet_sentences)
        manifest = build_corpus(args.out, settings, workers=args.workers, executable=args.executable,
                                progress=not args.no_progress, wordnet_dir=args.wordnet_dir)
    except (ValueError, RuntimeError, ImportError) as error:  # TeacherNotFoundError is a RuntimeError
        logger.error("error: %s", error)
        return 2
    logger.info("%d train + %d val utterances, %.1f s of audio in %s",
                manifest["n_train"], manifest["n_val"], manifest["total_seconds"], args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
