"""WordNet's usage examples as corpus sentences: extraction, filtering, order, and the corpus that appends them."""
import json
import shutil

import pytest

from recipes.builtin_voice import corpus as corpus_module
from recipes.builtin_voice.corpus import CorpusSettings, build_corpus, main, wav_name
from recipes.builtin_voice.heldout import HELDOUT_SENTENCES
from recipes.builtin_voice.wordnet import (DATA_FILES, WORDNET_DIR, WordNetNotFoundError, as_sentence,
                                           wordnet_sentences, wordnet_version)

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng not installed (apt-get install -y espeak-ng)")
HEADER = "  1 This software and database is being provided to you, the LICENSEE, by  \n"


def synset(offset, gloss):
    """One line of a WordNet 3.0 data file (pointers left out: the reader only looks past ' | ')."""
    return f"{offset:08d} 05 n 01 word 0 000 | {gloss}  \n"


@pytest.fixture
def wordnet_dir(tmp_path):
    """A database with 24 usable examples and every kind that must be left out."""
    lines = [HEADER]
    for i in range(24):
        lines.append(synset(i, f'a thing number {i}; "the cat sat on mat number {i}"'))
    lines += [
        synset(100, 'too short; "big dogs"'),                                            # 2 words
        synset(101, 'too long; "' + " ".join(["word"] * 16) + '"'),                     # 16 words
        synset(102, 'not ASCII; "the café was closed on monday"'),
        synset(103, 'a quoted quote; "the statement `he is brave\' is odd"'),
        synset(104, f'held out; "{HELDOUT_SENTENCES[0].lower().rstrip(".")}"'),
        synset(105, 'repeated; "the cat sat on mat number 3"'),                          # a repeat of a kept one
        synset(106, 'no example at all'),
    ]
    (tmp_path / "data.noun").write_text("".join(lines), encoding="latin-1")
    for name in DATA_FILES[1:]:
        (tmp_path / name).write_text(HEADER, encoding="latin-1")
    return tmp_path


def test_as_sentence_capitalizes_and_ends_with_a_stop():
    assert as_sentence("the country lay ruined after the war") == "The country lay ruined after the war."
    assert as_sentence("  he takes the cake!  ") == "He takes the cake!"
    assert as_sentence("is it?") == "Is it?"
    assert as_sentence(" ; ") == ""


def test_examples_are_filtered_deduplicated_and_exclude_held_out_sentences(wordnet_dir):
    sentences = wordnet_sentences(24, seed=0, wordnet_dir=wordnet_dir)
    assert sorted(sentences) == sorted(f"The cat sat on mat number {i}." for i in range(24))
    with pytest.raises(ValueError, match="WordNet has 24 usable examples, 25 were asked for"):
        wordnet_sentences(25, seed=0, wordnet_dir=wordnet_dir)


def test_order_depends_on_the_seed_and_not_on_the_count(wordnet_dir):
    first = wordnet_sentences(24, seed=0, wordnet_dir=wordnet_dir)
    assert wordnet_sentences(5, seed=0, wordnet_dir=wordnet_dir) == first[:5]
    assert wordnet_sentences(24, seed=1, wordnet_dir=wordnet_dir) != first
    assert wordnet_sentences(0, wordnet_dir=wordnet_dir / "missing") == []  # nothing asked, nothing read


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_bad_counts_are_refused(wordnet_dir, bad):
    with pytest.raises(ValueError, match="n_sentences must be a non-negative int"):
        wordnet_sentences(bad, wordnet_dir=wordnet_dir)


def test_missing_database_names_the_package(tmp_path, wordnet_dir):
    with pytest.raises(WordNetNotFoundError, match="apt-get install -y wordnet-base"):
        wordnet_sentences(3, wordnet_dir=tmp_path / "none")
    (wordnet_dir / "data.adv").unlink()
    with pytest.raises(WordNetNotFoundError, match="data.adv not found"):
        wordnet_version(wordnet_dir)


def test_version_is_the_data_digest(wordnet_dir):
    before = wordnet_version(wordnet_dir)
    assert before.startswith("WordNet data sha256:")
    with open(wordnet_dir / "data.verb", "a", encoding="latin-1") as file:
        file.write(synset(7, 'new; "we walked home"'))
    assert wordnet_version(wordnet_dir) != before


@pytest.mark.parametrize("count", [1, -2, True])
def test_corpus_settings_refuse_bad_wordnet_counts(count):
    with pytest.raises(ValueError, match="wordnet_sentences must be 0 or an int >= 2"):
        CorpusSettings(wordnet_sentences=count)


def read_rows(path):
    return [line.split("|", 1) for line in path.read_text(encoding="utf-8").splitlines()]


@needs_espeak
def test_corpus_appends_wordnet_sentences_and_grows_by_them(tmp_path, wordnet_dir):
    root = tmp_path / "c"
    base = dict(n_sentences=4, seed=5, val_fraction=0.25, teacher="espeak-ng:en-us", short_phrases=False)
    build_corpus(root, CorpusSettings(**base), workers=2, progress=False)
    stamps = {p.name: p.stat().st_mtime_ns for p in (root / "wavs").iterdir()}
    manifest = build_corpus(root, CorpusSettings(**base, wordnet_sentences=8), workers=2, progress=False,
                            wordnet_dir=wordnet_dir)
    after = {p.name: p.stat().st_mtime_ns for p in (root / "wavs").iterdir()}
    assert all(after[name] == stamp for name, stamp in stamps.items())  # the first four WAVs kept
    assert len(after) == 12
    rows = dict(read_rows(root / "filelist_train.txt") + read_rows(root / "filelist_val.txt"))
    natural = wordnet_sentences(8, seed=5, wordnet_dir=wordnet_dir)
    assert [rows[wav_name(4 + i)] for i in range(8)] == natural
    val = [wav for wav, _ in read_rows(root / "filelist_val.txt")]
    assert sum(wav >= wav_name(4) for wav in val) == 2 and len(val) == 3  # each part keeps its own share
    assert (manifest["n_train"], manifest["n_val"]) == (9, 3)
    assert manifest["wordnet"] == wordnet_version(wordnet_dir)
    assert json.loads((root / "corpus.json").read_text())["settings"]["wordnet_sentences"] == 8

    with open(wordnet_dir / "data.verb", "a", encoding="latin-1") as file:  # another database
        file.write(synset(7, 'new; "we walked home together"'))
    with pytest.raises(ValueError, match="built with examples from WordNet data sha256"):
        build_corpus(root, CorpusSettings(**base, wordnet_sentences=8), progress=False, wordnet_dir=wordnet_dir)
    with pytest.raises(ValueError, match="keep --n-sentences 4"):  # the WordNet WAVs would be renamed
        build_corpus(root, CorpusSettings(**dict(base, n_sentences=6)), progress=False)


@needs_espeak
def test_corpus_grows_by_whole_blocks_of_wordnet_sentences(tmp_path, wordnet_dir, monkeypatch):
    monkeypatch.setattr(corpus_module, "SPLIT_BLOCK", 4)
    base = dict(n_sentences=2, seed=5, val_fraction=0.25, teacher="espeak-ng:en-us", short_phrases=False)

    def build(root, count):
        return build_corpus(root, CorpusSettings(**base, wordnet_sentences=count), workers=2, progress=False,
                            wordnet_dir=wordnet_dir)

    def lists(root):
        return [set(map(tuple, read_rows(root / name))) for name in ("filelist_train.txt", "filelist_val.txt")]

    root, partial = tmp_path / "c", tmp_path / "partial"
    build(root, 8)
    shutil.copytree(root, partial)
    train, val = lists(root)
    manifest = build(root, 16)  # from two whole blocks: every row stays where it was
    grown_train, grown_val = lists(root)
    assert train < grown_train and val < grown_val
    assert (manifest["n_train"], manifest["n_val"]) == (13, 5)  # 1 + 1 per block of 4

    build(partial, 10)  # a third block begun with 2 sentences, one of them for validation
    with pytest.raises(ValueError, match="would move 1 utterance.*multiple of 4"):  # its draw over 4 differs
        build(partial, 12)
    assert len(list((partial / "wavs").iterdir())) == 12


def test_corpus_cli_reports_a_missing_database(tmp_path):
    assert main(["--out", str(tmp_path / "c"), "--teacher", "espeak-ng:en-us", "--executable", shutil.which("true"),
                 "--wordnet-sentences", "4", "--wordnet-dir", str(tmp_path / "none")]) == 2
    assert not (tmp_path / "c").exists()


@pytest.mark.slow
@pytest.mark.skipif(not all((WORDNET_DIR / name).is_file() for name in DATA_FILES),
                    reason="WordNet not installed (apt-get install -y wordnet-base)")
def test_debian_wordnet_gives_tens_of_thousands_of_sentences():
    sentences = wordnet_sentences(30000, seed=0)
    assert len(set(sentences)) == 30000
    assert all(not s[0].islower() and s[-1] in ".?!" for s in sentences)
    assert not set(HELDOUT_SENTENCES) & set(sentences)
