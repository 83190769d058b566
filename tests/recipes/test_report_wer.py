"""The report's WER row, on the teacher's audio of one held-out sentence (needs flite and pocketsphinx)."""
import importlib.util
import json
import shutil

import numpy as np
import pytest
import torch

from recipes.builtin_voice.heldout import HELDOUT_NAME, HELDOUT_SENTENCES

needs_tools = pytest.mark.skipif(
    shutil.which("flite") is None or importlib.util.find_spec("pocketsphinx") is None,
    reason="needs flite (apt-get install -y flite) and pocketsphinx (pip install pocketsphinx)")
SENTENCE = "The boy was there when the sun rose."  # Harvard list 2, no. 1: flite rms is recognised word for word


@pytest.fixture(scope="module")
def recognizer():
    from recipes.builtin_voice.recognizer import PocketSphinxRecognizer
    return PocketSphinxRecognizer()


@pytest.fixture(scope="module")
def teacher_clip(tmp_path_factory, recognizer):
    from recipes.builtin_voice.report import teacher_references
    from recipes.builtin_voice.teacher import get_teacher
    [(text, wav)] = teacher_references(get_teacher("flite:rms"), [SENTENCE], tmp_path_factory.mktemp("teacher"))
    return text, wav


def test_held_out_sentences_are_not_in_the_corpus():
    from recipes.builtin_voice.corpus import CorpusSettings
    from recipes.builtin_voice.wer import normalize_words
    corpus = {tuple(normalize_words(t)) for t in CorpusSettings(n_sentences=300, seed=0).sentences()}
    assert len(HELDOUT_SENTENCES) == 20 and SENTENCE in HELDOUT_SENTENCES
    assert not corpus & {tuple(normalize_words(t)) for t in HELDOUT_SENTENCES}


@needs_tools
def test_wer_row_on_a_clip_with_a_known_transcript(recognizer, teacher_clip):
    from importlib.metadata import version
    from recipes.builtin_voice.report import wer_row
    text, wav = teacher_clip
    row = wer_row(recognizer, [text], [wav], [wav])
    assert row["transcripts"][0]["teacher"] == "the boy was there when the sun rose"
    assert (row["voice"], row["teacher"], row["gap"]) == (0.0, 0.0, 0.0)
    assert row["recognizer"]["version"] == version("pocketsphinx") and row["recognizer"]["sample_rate"] == 16000
    assert row["sentence_set"] == HELDOUT_NAME and row["n_sentences"] == 1
    # one word more in the reference than was spoken: 1 deletion in 9 words
    longer = wer_row(recognizer, [text.replace("rose.", "rose early.")], [wav], [wav])
    assert longer["teacher"] == pytest.approx(100 / 9, abs=0.01)


@needs_tools
def test_silence_is_one_hundred_percent_wrong(recognizer, teacher_clip, tmp_path):
    from audio import save_wav
    from recipes.builtin_voice.report import wer_row
    text, wav = teacher_clip
    silent = save_wav(tmp_path / "silence.wav", np.zeros(22050, np.float32))
    row = wer_row(recognizer, [text], [silent], [wav])
    assert (row["voice"], row["teacher"], row["gap"]) == (100.0, 0.0, 100.0)


def test_recogniser_input_is_resampled_to_16_khz():
    from recipes.builtin_voice.recognizer import to_recognizer_rate
    tone = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050) * 0.5
    pcm = to_recognizer_rate(tone, 22050)
    assert pcm.dtype == np.int16 and pcm.shape == (16000,)
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64)))
    assert np.argmax(spectrum) == 440  # 1 Hz bins over one second at 16 kHz
    assert to_recognizer_rate(torch.zeros(16000), 16000).shape == (16000,)


@needs_tools
@pytest.mark.slow
def test_report_writes_the_wer_row_for_a_voice_and_its_teacher(tmp_path, teacher_clip):
    from checkpoints import save_checkpoint
    from recipes.builtin_voice.report import build_report
    from tacotron2 import Tacotron2, Tacotron2Config
    torch.manual_seed(0)
    tiny = Tacotron2(Tacotron2Config(symbols_embedding_dim=32, encoder_embedding_dim=32, attention_rnn_dim=48,
                                     attention_dim=16, attention_location_n_filters=4, decoder_rnn_dim=40,
                                     prenet_dim=24, postnet_embedding_dim=24, max_decoder_steps=30))
    checkpoint = save_checkpoint(tiny, tmp_path / "tiny.pt")
    corpus = tmp_path / "corpus"  # a corpus whose one training and one validation utterance is the teacher clip
    (corpus / "wavs").mkdir(parents=True)
    shutil.copy(teacher_clip[1], corpus / "wavs" / "00001.wav")
    for name in ("filelist_train.txt", "filelist_val.txt"):
        (corpus / name).write_text(f"wavs/00001.wav|{SENTENCE}\n", encoding="utf-8")
    summary = build_report(checkpoint, tmp_path / "report", teacher="flite:rms", sentences=[SENTENCE],
                           sentence_set="one sentence", corpus=corpus, n=1, baseline=False, runs=2)
    on_disk = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert on_disk == summary
    assert summary["wer"]["teacher"] == 0.0 and summary["wer"]["voice"] >= 50.0  # an untrained model says nothing
    assert summary["wer"]["sentence_set"] == "one sentence"
    # two runs with other dropout seeds: both spoken, both transcribed, the row pools them
    assert summary["wer"]["runs"] == 2 and len(summary["wer"]["voice_runs"]) == 2
    assert summary["wer"]["voice"] == pytest.approx(sum(summary["wer"]["voice_runs"]) / 2, abs=0.01)
    assert len(summary["wer"]["transcripts"][0]["voice_other_runs"]) == 1
    assert (tmp_path / "report" / "voice_run1" / "01.wav").is_file()
    assert (tmp_path / "report" / "eval_heldout_run1.json").is_file()
    assert summary["ship"] is False
    assert (tmp_path / "report" / "voice" / "01.wav").is_file() and (tmp_path / "report" / "teacher" / "01.wav").is_file()
    # the diagnostic row: teacher forcing runs exactly the teacher's frames, whatever the untrained gate says
    from audio import TacotronSTFT, load_wav
    forced = summary["wer_teacher_forced"]
    assert forced["voice"] >= 50.0 and forced["exposure_gap"] == pytest.approx(summary["wer"]["voice"] - forced["voice"])
    stft = TacotronSTFT()
    frames = stft.mel_spectrogram(load_wav(teacher_clip[1])[None]).size(2)
    assert load_wav(tmp_path / "report" / "teacher_forced" / "01.wav").numel() == (frames - 1) * stft.stft_fn.hop_length
    # the generalization rows: teacher-forced on the corpus's own WAVs, beside the teacher's WER on them
    for name in ("seen", "unseen"):
        row = summary["teacher_forced_on_corpus"][name]
        assert row["teacher"] == 0.0 and row["voice"] >= 50.0 and row["n_sentences"] == 1
        assert row["transcripts"][0]["teacher"] == "the boy was there when the sun rose"
        assert load_wav(tmp_path / "report" / f"teacher_forced_{name}" / "01.wav").numel() == (
            (frames - 1) * stft.stft_fn.hop_length)


@pytest.mark.parametrize("passed,gap,ship", [(1.0, 10.0, True), (1.0, -3.0, True), (1.0, 10.01, False),
                                             (0.95, 0.0, False)])
def test_ship_bar_is_every_check_and_at_most_ten_points_behind_the_teacher(passed, gap, ship):
    from recipes.builtin_voice.report import MAX_WER_GAP, is_shippable
    assert MAX_WER_GAP == 10.0
    assert is_shippable({"passed": passed}, {"gap": gap}) is ship


def _row(hypotheses, teacher_wer=0.0):
    return {"voice": None, "teacher": teacher_wer, "gap": None,
            "transcripts": [{"text": t, "voice": h, "teacher": t} for t, h in zip(("a b", "c d"), hypotheses)]}


def test_pooled_runs_count_every_runs_words():
    from recipes.builtin_voice.report import pool_runs
    pooled = pool_runs(_row(["a b", "c d"], teacher_wer=5.0), ["a b", "c d"], [["a x", "c d"]], [{"passed": 1.0}])
    assert pooled["voice_runs"] == [0.0, 25.0]  # one substitution in four words
    assert pooled["voice"] == 12.5 and pooled["gap"] == 7.5  # one error in eight words
    assert pooled["runs"] == 2 and pooled["checks_passed_runs"] == [1.0]
    assert pooled["transcripts"][0]["voice_other_runs"] == ["a x"]
    alone = _row(["a b", "c d"])
    assert pool_runs(alone, ["a b", "c d"], [], []) is alone
    with pytest.raises(ValueError, match="one transcript per sentence for every run"):
        pool_runs(_row(["a b", "c d"]), ["a b", "c d"], [["a b"]], [{"passed": 1.0}])


def test_ship_needs_every_run_to_pass_every_check():
    from recipes.builtin_voice.report import is_shippable
    assert is_shippable({"passed": 1.0}, {"gap": 5.0, "checks_passed_runs": [1.0, 1.0]})
    assert not is_shippable({"passed": 1.0}, {"gap": 5.0, "checks_passed_runs": [1.0, 0.95]})


def test_report_refuses_zero_runs_before_any_work(tmp_path):
    from recipes.builtin_voice.report import main
    assert main(["--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path / "r"), "--runs", "0"]) == 2
    assert not (tmp_path / "r").exists()
