"""NVIDIA's teacher-forced loss on a filelist, checked against the loss written out from its definition."""
import pytest
import torch
import torch.nn.functional as F

from tacotron2 import Tacotron2, Tacotron2Config
from text import text_to_sequence
from recipes.builtin_voice.valloss import main, validation_loss

TINY = dict(n_mel_channels=8, symbols_embedding_dim=32, encoder_embedding_dim=32, attention_rnn_dim=48,
            attention_dim=16, attention_location_n_filters=4, decoder_rnn_dim=40, prenet_dim=24,
            postnet_embedding_dim=24, max_decoder_steps=40)
TEXTS = ["{HH AH0 L OW1} world.", "Yes.", "A longer line of text, read slowly."]


@pytest.fixture
def corpus(tmp_path):
    generator = torch.Generator().manual_seed(1)
    lines = []
    for i, text in enumerate(TEXTS):
        mel = torch.randn(8, 7 + 3 * i, generator=generator)
        torch.save(mel, tmp_path / f"{i}.pt")
        lines.append(f"{i}.pt|{text}")
    (tmp_path / "list.txt").write_text("\n".join(lines) + "\n")
    torch.manual_seed(0)
    return Tacotron2(Tacotron2Config(**TINY)), tmp_path


def by_definition(model, folder, n, seed):
    """mel MSE + post-net MSE + gate BCE per utterance (batch 1: no padding), averaged."""
    model.eval()
    losses = []
    with torch.no_grad():
        torch.manual_seed(seed)
        for i, text in enumerate(TEXTS[:n]):
            mel = torch.load(folder / f"{i}.pt")
            ids = torch.tensor([text_to_sequence(text, ("english_cleaners",))])
            gate = torch.zeros(1, mel.size(1))
            gate[0, -1] = 1
            out = model(ids, torch.tensor([ids.size(1)]), mel[None], torch.tensor([mel.size(1)]))
            losses.append(F.mse_loss(out[0], mel[None]) + F.mse_loss(out[1], mel[None])
                          + F.binary_cross_entropy_with_logits(out[2].reshape(-1), gate.reshape(-1)))
    return torch.stack(losses).mean().item()


def test_loss_is_nvidias_loss_averaged_over_batches(corpus):
    model, folder = corpus
    expected = by_definition(model, folder, 3, seed=5)
    got = validation_loss(model, folder / "list.txt", folder, batch_size=1, seed=5)
    assert got == pytest.approx(expected, rel=1e-6)


def test_limit_keeps_the_first_rows_and_the_seed_fixes_the_dropout(corpus):
    model, folder = corpus
    first_two = validation_loss(model, folder / "list.txt", folder, batch_size=1, limit=2, seed=3)
    assert first_two == pytest.approx(by_definition(model, folder, 2, seed=3), rel=1e-6)
    state = torch.get_rng_state()
    assert validation_loss(model, folder / "list.txt", folder, batch_size=2, seed=3) == \
        validation_loss(model, folder / "list.txt", folder, batch_size=2, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    assert validation_loss(model, folder / "list.txt", folder, batch_size=2, seed=4) != \
        validation_loss(model, folder / "list.txt", folder, batch_size=2, seed=3)


def test_bad_lists_and_limits_are_refused(corpus):
    model, folder = corpus
    (folder / "empty.txt").write_text("\n")
    with pytest.raises(ValueError, match="no rows"):
        validation_loss(model, folder / "empty.txt", folder)
    (folder / "bad.txt").write_text("0.pt no separator\n")
    with pytest.raises(ValueError, match="bad.txt:1"):
        validation_loss(model, folder / "bad.txt", folder)
    with pytest.raises(ValueError, match="at least 1"):
        validation_loss(model, folder / "list.txt", folder, limit=0)


def test_command_prints_the_loss_or_one_error_line(corpus, capsys):
    model, folder = corpus
    checkpoint = folder / "checkpoint.pt"
    torch.save({"state_dict": model.state_dict(), "config": model.config.to_dict(), "epoch": 1, "iteration": 2,
                "optimizer": {"state": {}, "param_groups": []}}, checkpoint)
    assert main(["--checkpoint", str(checkpoint), "--filelist", str(folder / "list.txt"), "-d", str(folder),
                 "-bs", "1", "--seed", "5"]) == 0
    assert float(capsys.readouterr().out) == pytest.approx(by_definition(model, folder, 3, seed=5), rel=1e-5)
    assert main(["--checkpoint", str(folder / "missing.pt"), "--filelist", str(folder / "list.txt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.pt is not a file" in err
    assert main(["--checkpoint", str(checkpoint), "--filelist", str(folder / "list.txt"), "--threads", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--threads must be at least 1" in err
    assert main(["--checkpoint", str(checkpoint), "--filelist", str(folder / "list.txt"), "-d", str(folder),
                 "-bs", "0"]) == 1
    assert "batch_size must be at least 1" in capsys.readouterr().err
    (folder / "wrong.txt").write_text("2.pt|text\n")
    torch.save(torch.zeros(3, 5), folder / "2.pt")
    assert main(["--checkpoint", str(checkpoint), "--filelist", str(folder / "wrong.txt"), "-d", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expected a (8, frames)" in err
