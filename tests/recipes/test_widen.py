"""Widening a Tacotron 2 keeps its outputs and leaves the new units able to learn."""
import pytest
import torch

from checkpoints import load_tacotron2, save_checkpoint
from recipes.builtin_voice.widen import GROWABLE, axis_table, main, max_output_difference, widen
from tacotron2 import Tacotron2, Tacotron2Config

SMALL = dict(n_mel_channels=8, symbols_embedding_dim=16, encoder_embedding_dim=16, attention_rnn_dim=24,
             attention_dim=8, attention_location_n_filters=4, decoder_rnn_dim=20, prenet_dim=12,
             postnet_embedding_dim=12, max_decoder_steps=30)
WIDE = dict(SMALL, symbols_embedding_dim=24, encoder_embedding_dim=24, attention_rnn_dim=32, attention_dim=12,
            attention_location_n_filters=6, decoder_rnn_dim=28, prenet_dim=16, postnet_embedding_dim=20)


@pytest.fixture
def small() -> Tacotron2:
    torch.manual_seed(3)
    model = Tacotron2(Tacotron2Config(**SMALL)).eval()
    with torch.no_grad():  # trained-looking batch-norm statistics, so that the copy of them is tested too
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.normal_()
                module.running_var.uniform_(0.5, 2.0)
    return model


def _text(n: int = 12) -> torch.Tensor:
    return torch.randint(1, 100, (1, n), generator=torch.Generator().manual_seed(0))


def test_table_covers_every_tensor(small):
    assert set(axis_table(small.config)) == set(small.state_dict())


@pytest.mark.parametrize("field", sorted(set(GROWABLE) - {"symbols_embedding_dim", "encoder_embedding_dim"})
                         + ["embedding"])
def test_one_dimension_at_a_time_keeps_the_outputs(small, field):
    grow = ({"symbols_embedding_dim": 24, "encoder_embedding_dim": 24} if field == "embedding"
            else {field: SMALL[field] + 6})
    wide = widen(small, Tacotron2Config(**dict(SMALL, **grow)))
    assert sum(p.numel() for p in wide.parameters()) > sum(p.numel() for p in small.parameters())
    assert max_output_difference(small, wide, _text()) < 1e-5


def test_all_at_once_teacher_forced_and_free_running(small):
    wide = widen(small, Tacotron2Config(**WIDE))
    assert max_output_difference(small, wide, _text()) < 1e-5
    text, lengths = _text(), torch.tensor([12])
    with torch.no_grad():
        runs = [m.decoder.infer(m.encode(text, lengths), lengths, early_stopping=False, max_decoder_steps=25,
                                prenet_dropout=False) for m in (small, wide)]
    torch.testing.assert_close(runs[1].mel, runs[0].mel, atol=1e-5, rtol=0)
    torch.testing.assert_close(runs[1].alignments, runs[0].alignments, atol=1e-5, rtol=0)


def test_old_weights_are_copied_in_place(small):
    wide = widen(small, Tacotron2Config(**WIDE)).state_dict()
    old = small.state_dict()
    # the decoder LSTM's gate axis is four blocks: the old rows of gate 2 sit at 2 * 28 .. 2 * 28 + 20
    torch.testing.assert_close(wide["decoder.decoder_rnn.weight_hh"][56:76, :20], old["decoder.decoder_rnn.weight_hh"][40:60])
    # the encoder output (memory) is two directions: the old backward half starts at 12, not 8
    memory = wide["decoder.attention_layer.memory_layer.linear_layer.weight"]
    torch.testing.assert_close(memory[:8, 12:20], old["decoder.attention_layer.memory_layer.linear_layer.weight"][:, 8:16])
    assert memory[:8, 8:12].abs().max() == 0 and memory[:8, 20:].abs().max() == 0  # new inputs, old outputs: 0
    assert memory[8:].abs().min() > 0  # new outputs: random


def test_new_units_are_alive(small):
    """The new units compute values, so their zero outgoing weights get gradients on the first step."""
    wide = widen(small, Tacotron2Config(**WIDE)).train()
    text, lengths = _text(), torch.tensor([12])
    mel = torch.randn(1, 8, 20, generator=torch.Generator().manual_seed(1))
    out = wide(text, lengths, mel, torch.tensor([20]))
    (out.mel_postnet - mel).pow(2).mean().add(out.gate.mean()).backward()
    grads = {name: p.grad for name, p in wide.named_parameters()}
    assert grads["decoder.linear_projection.linear_layer.weight"][:, 20:28].abs().max() > 0  # new decoder units
    assert grads["decoder.linear_projection.linear_layer.weight"][:, 28 + 8:28 + 12].abs().max() > 0  # new memory
    assert grads["decoder.attention_layer.query_layer.linear_layer.weight"][:8, 24:].abs().max() > 0
    assert grads["decoder.attention_layer.v.linear_layer.weight"][:, 8:].abs().max() > 0


@pytest.mark.parametrize("change, message", [
    ({"decoder_rnn_dim": 10}, "cannot shrink"),
    ({"n_mel_channels": 10}, "n_mel_channels"),
    ({"symbols_embedding_dim": 17, "encoder_embedding_dim": 17}, "even"),
])
def test_bad_configs_are_refused(small, change, message):
    with pytest.raises(ValueError, match=message):
        widen(small, Tacotron2Config(**dict(SMALL, **change)))


def test_cli_writes_a_loadable_model_and_never_overwrites(small, tmp_path, capsys):
    source = save_checkpoint(small, tmp_path / "small.pt")
    out = tmp_path / "wide.pt"
    assert main(["--checkpoint", str(source), "--out", str(out), "--config-overrides", '{"decoder_rnn_dim": 32}']) == 0
    assert "largest output difference" in capsys.readouterr().out
    wide = load_tacotron2(out)
    assert wide.config.decoder_rnn_dim == 32
    assert max_output_difference(small, wide, _text()) < 1e-5
    before = out.read_bytes()
    assert main(["--checkpoint", str(source), "--out", str(out), "--config-overrides", '{"decoder_rnn_dim": 40}']) == 2
    assert "exists" in capsys.readouterr().err and out.read_bytes() == before
    assert main(["--checkpoint", str(source), "--out", str(tmp_path / "x.pt"), "--config-overrides", "{oops"]) == 2
    err = capsys.readouterr().err
    assert "not valid JSON" in err and len(err.strip().splitlines()) == 1
