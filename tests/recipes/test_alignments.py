"""recipes.builtin_voice.alignments: the teacher's phone timings as known alignments for training."""
import json
import shutil
import stat
import subprocess
import wave

import pytest
import torch

from recipes.builtin_voice.alignments import (align_sequences, frame_targets, main, match_rate, row_symbols,
                                              segment_symbols, write_targets)
from recipes.builtin_voice.flite import FliteTeacher
from tacotron2_waveglow.training.data.attention_targets import load_target

needs_flite = pytest.mark.skipif(shutil.which("flite") is None, reason="flite not installed (apt-get install -y flite)")

ROW = "{HH AH0 L OW1} {W ER1 L D}."
#: flite's -psdur for "hello world." on a 0.1 s grid shifted by 0.05 s, so no frame centre sits on an end
TIMINGS = [("pau", 0.05), ("hh", 0.15), ("ax", 0.25), ("l", 0.35), ("ow", 0.45), ("pau", 0.55), ("w", 0.65),
           ("er", 0.75), ("l", 0.85), ("d", 0.95), ("pau", 1.05)]


def test_the_row_symbols_are_the_trainers_encoder_input():
    assert row_symbols(ROW) == ["@HH", "@AH0", "@L", "@OW1", " ", "@W", "@ER1", "@L", "@D", "."]


def test_edit_distance_alignment():
    assert align_sequences(list("abc"), list("abc")) == [0, 1, 2]
    assert align_sequences(list("abc"), list("axc")) == [0, 1, 2]          # substitution keeps its place
    assert align_sequences(list("abc"), list("abxc")) == [0, 1, None, 2]   # an extra item aligns to nothing
    assert align_sequences(list("abxc"), list("abc")) == [0, 1, 3]         # a missing one is skipped


def test_each_frame_points_at_the_symbol_spoken_then():
    # frames at 0.0, 0.1, ..., 1.1 s: leading pause, h, ax, l, ow, pause (-> the space), w, er, l, d,
    # final pause (-> the full stop), and past flite's last end (-> the last symbol)
    targets = frame_targets(row_symbols(ROW), TIMINGS, 12, 0.1)
    assert targets.dtype == torch.float32
    assert targets.tolist() == [0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9]
    assert match_rate(row_symbols(ROW), TIMINGS) == 1.0


def test_pause_after_a_comma_points_at_the_comma_and_extra_or_unknown_sounds_keep_order():
    symbols = row_symbols("{HH AH0 L OW1}, xo.")   # a word outside the dictionary stays letters
    assert symbols == ["@HH", "@AH0", "@L", "@OW1", ",", " ", "x", "o", "."]
    timings = [("hh", 0.1), ("ax", 0.2), ("l", 0.3), ("l", 0.35), ("ow", 0.4), ("pau", 0.6), ("eh", 0.7),
               ("k", 0.8), ("s", 0.9), ("ow", 1.0), ("pau", 1.2)]
    belongs = segment_symbols(symbols, timings)
    # flite's extra "l" joins a neighbour; the matched phones keep their symbols
    assert belongs[:5] in ([0, 1, 2, 2, 3], [0, 1, 1, 2, 3])
    assert belongs[5] == 4                            # the pause after "hello" -> the comma
    assert belongs[6:10] == sorted(belongs[6:10]) and set(belongs[6:10]) == {6, 7}   # "xo" after the pause
    assert belongs[10] == 8
    assert match_rate(symbols, timings) == pytest.approx(4 / 6)


def test_nothing_to_align_is_refused():
    with pytest.raises(ValueError, match="nothing to align"):
        segment_symbols(row_symbols("."), TIMINGS)


def _fake_flite(tmp_path):
    script = tmp_path / "flite"
    script.write_text("#!/bin/sh\necho '" + " ".join(f"{p}:{e}" for p, e in TIMINGS) + "'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def _corpus(tmp_path, teacher="flite:rms"):
    corpus = tmp_path / "corpus"
    (corpus / "mels" / "wavs").mkdir(parents=True)
    (corpus / "corpus.json").write_text(json.dumps({"settings": {"teacher": teacher}}))
    (corpus / "filelist_train.txt").write_text("wavs/00001.wav|Hello world.\n")
    (corpus / "filelist_val.txt").write_text("wavs/00002.wav|Hello world.\n")
    torch.save(torch.zeros(80, 12), corpus / "mels" / "wavs" / "00001.pt")
    listing = corpus / "mels" / "filelist_train_mel_arpabet.txt"
    listing.write_text(f"mels/wavs/00001.pt|{ROW}\n")
    return corpus, listing


def test_cli_writes_targets_the_trainer_reads_and_resumes(tmp_path, capsys):
    corpus, listing = _corpus(tmp_path)
    out = tmp_path / "attention"
    argv = ["--corpus", str(corpus), "--filelist", str(listing), "--out", str(out), "--executable", _fake_flite(tmp_path)]
    assert main(argv) == 0
    assert "wrote 1 target(s)" in capsys.readouterr().out
    target = load_target(out / "00001.pt", 12, len(row_symbols(ROW)))
    # frames are 256 / 22050 s apart: frame t speaks the phone whose span holds t * 0.01161 s
    expected = [0 if t * 256 / 22050 < 0.15 else 1 for t in range(12)]
    assert target.tolist() == expected
    assert main(argv) == 0 and "wrote 0 target(s)" in capsys.readouterr().out   # already there: kept


def test_a_corpus_without_a_flite_teacher_or_without_text_is_refused(tmp_path, capsys):
    corpus, listing = _corpus(tmp_path, teacher="espeak-ng:en-us")
    argv = ["--corpus", str(corpus), "--filelist", str(listing), "--out", str(tmp_path / "a")]
    assert main(argv) == 2
    assert "phone timings come from flite only" in capsys.readouterr().err
    corpus, listing = _corpus(tmp_path / "second")
    listing.write_text(f"mels/wavs/00009.pt|{ROW}\n")
    assert main(["--corpus", str(corpus), "--filelist", str(listing), "--out", str(tmp_path / "b"),
                 "--executable", _fake_flite(tmp_path)]) == 2
    assert "no corpus text for '00009'" in capsys.readouterr().err
    listing.write_text("mels/wavs/00001.pt|...\n")
    assert main(["--corpus", str(corpus), "--filelist", str(listing), "--out", str(tmp_path / "b"),
                 "--executable", _fake_flite(tmp_path)]) == 2
    assert "filelist_train_mel_arpabet.txt:1: nothing to align" in capsys.readouterr().err
    with pytest.raises(ValueError, match="corpus.json"):
        write_targets(tmp_path, listing, tmp_path / "c")


@needs_flite
def test_real_flite_timings_span_the_audio_it_writes_and_agree_with_the_dictionary(tmp_path):
    from recipes.builtin_voice.phonemes import phonemize
    from text import CMUDict
    text = "the birch canoe slid on the smooth planks."
    teacher = FliteTeacher("rms")
    timings = teacher.phone_timings(text)
    wav = tmp_path / "x.wav"
    subprocess.run([teacher.find(), "-voice", "rms", "-t", text, "-o", str(wav)], check=True)
    with wave.open(str(wav)) as handle:
        seconds = handle.getnframes() / handle.getframerate()
    assert timings[-1][1] == pytest.approx(seconds, abs=0.02)
    ends = [end for _, end in timings]
    assert ends == sorted(ends)
    symbols = row_symbols(phonemize(text, CMUDict()))
    assert match_rate(symbols, timings) > 0.9
    targets = frame_targets(symbols, timings, int(seconds * 22050 / 256) + 1, 256 / 22050)
    assert torch.all(targets[1:] >= targets[:-1]) and targets[-1] == len(symbols) - 1
