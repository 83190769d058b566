"""The shipped voice: size, layout, and one validation sentence spoken on CPU with a sane alignment."""
import pytest
import torch

from tacotron2_waveglow.builtin_voice import BUILTIN_DIR, BUILTIN_VOICE_NAME, builtin_voice_info, load_builtin_voice
from recipes.builtin_voice.metrics import alignment_monotonicity, alignment_reaches_end

SHIPPED = BUILTIN_DIR / BUILTIN_VOICE_NAME
pytestmark = pytest.mark.skipif(not SHIPPED.is_file(), reason="no built-in voice shipped in tacotron2_waveglow/data/")

# From the corpus's validation list (seed 0): never seen in training.
SENTENCE = "Call me when the fetish arrives."


@pytest.fixture(scope="module")
def voice():
    return load_builtin_voice()


def test_file_is_small_fp16_hub_layout():
    assert SHIPPED.stat().st_size <= 10 * 1024 * 1024
    checkpoint = torch.load(SHIPPED, map_location="cpu", weights_only=True)
    assert set(checkpoint) >= {"state_dict", "config"}
    floats = [t for t in checkpoint["state_dict"].values() if t.is_floating_point()]
    assert floats and all(t.dtype == torch.float16 for t in floats)
    assert checkpoint["config"]["n_mel_channels"] == 80


def test_info_describes_the_training(voice):
    info = builtin_voice_info()
    assert info["iterations"] > 0 and "recipe" in info


def test_speaks_a_validation_sentence_with_a_monotonic_alignment(voice):
    from text import text_to_sequence
    torch.set_num_threads(1)
    ids = text_to_sequence(SENTENCE)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        mel, lengths, alignments, reached_limit = voice.generate(torch.tensor([ids]), torch.tensor([len(ids)]))
    frames = int(lengths[0])
    assert not bool(reached_limit[0]), "the decoder did not stop by itself"
    assert frames > 2 * len(ids)  # espeak-ng speaks about 3 frames per character; not a one-frame stop
    alignment = alignments[0, :frames]
    assert alignment_monotonicity(alignment) >= 0.95
    assert alignment_reaches_end(alignment, len(ids), last_k=3)
    assert torch.isfinite(mel[0, :, :frames]).all()


def test_the_shipped_voice_reads_letters_with_a_closing_full_stop():
    from tacotron2_waveglow.bundles import TextProcessor, get_voice
    assert get_voice("builtin").get_text_processor() == TextProcessor(end_punctuation=".")


def test_a_voice_file_that_records_phonemes_gets_its_text_as_phonemes(tmp_path, monkeypatch):
    import tacotron2_waveglow.builtin_voice as builtin
    from recipes.builtin_voice.export import export_voice
    from tacotron2 import Tacotron2, Tacotron2Config
    from tacotron2_waveglow.bundles import TextProcessor, get_voice
    from checkpoints import save_checkpoint

    tiny = save_checkpoint(Tacotron2(Tacotron2Config(symbols_embedding_dim=16, encoder_embedding_dim=16,
                                                     attention_rnn_dim=16, decoder_rnn_dim=16, prenet_dim=16,
                                                     postnet_embedding_dim=16)), tmp_path / "tiny.pt")
    phonemes = TextProcessor(end_punctuation=".", arpabet=True)
    export_voice(tiny, tmp_path / "data" / BUILTIN_VOICE_NAME, info={"iterations": 1}, text_processor=phonemes)
    monkeypatch.setattr(builtin, "BUILTIN_DIR", tmp_path / "data")
    assert builtin.builtin_voice_info() == {"iterations": 1, "text_processor": phonemes.to_dict()}
    assert get_voice("builtin").get_text_processor() == phonemes
    from tacotron2_waveglow.synthesis.models import load_models
    assert load_models(voice="builtin", need_waveglow=False).text_processor == phonemes  # what the CLI uses
