"""Regrouping a one-frame-per-step Tacotron 2 into r frames per step starts from the same first step."""
import pytest
import torch

from checkpoints import load_tacotron2, save_checkpoint
from recipes.builtin_voice.regroup import main, regroup
from tacotron2 import Tacotron2, Tacotron2Config

SMALL = dict(n_mel_channels=8, symbols_embedding_dim=16, encoder_embedding_dim=16, attention_rnn_dim=24,
             attention_dim=8, attention_location_n_filters=4, decoder_rnn_dim=20, prenet_dim=12,
             postnet_embedding_dim=12, max_decoder_steps=30)


@pytest.fixture
def one() -> Tacotron2:
    torch.manual_seed(3)
    return Tacotron2(Tacotron2Config(**SMALL)).eval()


def _pass(model, frames: int = 6):
    g = torch.Generator().manual_seed(0)
    text = torch.randint(1, 100, (1, 10), generator=g)
    mel = torch.randn(1, 8, frames, generator=g)
    with torch.no_grad():
        return model(text, torch.tensor([10]), mel, torch.tensor([frames]), prenet_dropout=False), mel


@pytest.mark.parametrize("r", [2, 3])
def test_first_step_is_the_old_models_first_frame_r_times(one, r):
    grouped = regroup(one, r)
    assert grouped.config.n_frames_per_step == r and not grouped.training
    old, _ = _pass(one)
    new, _ = _pass(grouped)
    for j in range(r):
        torch.testing.assert_close(new.mel[:, :, j], old.mel[:, :, 0], rtol=0, atol=0)
        torch.testing.assert_close(new.gate[:, j], old.gate[:, 0], rtol=0, atol=0)
        torch.testing.assert_close(new.alignments[:, j], old.alignments[:, 0], rtol=0, atol=0)


def test_prenet_reads_only_the_last_frame_of_the_previous_step(one):
    grouped = regroup(one, 2)
    frames = torch.randn(5, 16)  # (batch, 2 frames of 8)
    with torch.no_grad():
        got = grouped.decoder.prenet(frames, dropout=False)
        want = one.decoder.prenet(frames[:, 8:], dropout=False)
    torch.testing.assert_close(got, want)


def test_refuses_a_grouped_model(one):
    with pytest.raises(ValueError, match="already predicts 2 frames"):
        regroup(regroup(one, 2), 3)


def test_cli_writes_a_loadable_file_and_never_overwrites(one, tmp_path, capsys):
    source, out = tmp_path / "one.pt", tmp_path / "two.pt"
    save_checkpoint(one, source)
    assert main(["--checkpoint", str(source), "--out", str(out), "--frames-per-step", "2"]) == 0
    assert '"n_frames_per_step": 2' in capsys.readouterr().out
    assert load_tacotron2(out).config.n_frames_per_step == 2
    before = out.read_bytes()
    assert main(["--checkpoint", str(source), "--out", str(out), "--frames-per-step", "2"]) == 2
    assert "exists" in capsys.readouterr().err and out.read_bytes() == before
    assert main(["--checkpoint", str(source), "--out", str(tmp_path / "x.pt"), "--frames-per-step", "1"]) == 2
    assert not (tmp_path / "x.pt").exists()
