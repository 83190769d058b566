"""Opt-in guided attention loss: closed-form values, padding, gradients, trainer wiring."""
import math

import pytest
import torch

from tacotron2 import Tacotron2, Tacotron2Config, Tacotron2Loss
from tacotron2.outputs import Tacotron2Output
from tacotron2_waveglow.training.data.mel import MelExtractor, MelSettings
from tacotron2_waveglow.training.guided_attention import GuidedTacotron2Loss, guided_attention_loss
from tacotron2_waveglow.training.models import DataSpec, get_recipe

TINY = dict(n_mel_channels=8, symbols_embedding_dim=32, encoder_embedding_dim=32, attention_rnn_dim=48,
            attention_dim=16, attention_location_n_filters=4, decoder_rnn_dim=40, prenet_dim=24,
            postnet_embedding_dim=24, max_decoder_steps=40)


def _penalty(t, n, T, N, sigma):
    return 1.0 - math.exp(-((n / N - t / T) ** 2) / (2 * sigma ** 2))


def test_diagonal_alignment_costs_nothing():
    eye = torch.eye(7)[None]
    loss = guided_attention_loss(eye, torch.tensor([7]), torch.tensor([7]), sigma=0.2)
    assert loss.item() == pytest.approx(0.0, abs=1e-7)


def test_uniform_alignment_matches_formula():
    T, N, sigma = 5, 4, 0.3
    uniform = torch.full((1, T, N), 1.0 / N)
    expected = sum(_penalty(t, n, T, N, sigma) / N for t in range(T) for n in range(N)) / (T * N)
    loss = guided_attention_loss(uniform, torch.tensor([N]), torch.tensor([T]), sigma=sigma)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_anti_diagonal_costs_more_than_diagonal():
    eye = torch.eye(6)[None]
    lengths = torch.tensor([6])
    assert guided_attention_loss(eye.flip(2), lengths, lengths) > guided_attention_loss(eye, lengths, lengths) + 0.1


def test_padding_is_ignored():
    torch.manual_seed(0)
    a = torch.softmax(torch.randn(1, 6, 5), -1)
    b = torch.softmax(torch.randn(1, 4, 3), -1)
    padded = torch.zeros(2, 6, 5)
    padded[0] = a[0]
    padded[1, :4, :3] = b[0]
    padded[1, 4:, :] = 0.7   # garbage in the padding must not count
    padded[1, :4, 3:] = 0.7
    batch = guided_attention_loss(padded, torch.tensor([5, 3]), torch.tensor([6, 4]))
    single_sums = (guided_attention_loss(a, torch.tensor([5]), torch.tensor([6])) * 30
                   + guided_attention_loss(b, torch.tensor([3]), torch.tensor([4])) * 12)
    assert batch.item() == pytest.approx((single_sums / 42).item(), rel=1e-6)


def test_gradient_pushes_towards_the_diagonal():
    logits = torch.zeros(1, 6, 6, requires_grad=True)
    guided_attention_loss(torch.softmax(logits, -1), torch.tensor([6]), torch.tensor([6])).backward()
    grad = logits.grad[0]
    assert torch.all(grad.diagonal() < 0)      # descent raises the diagonal
    assert grad[0, -1] > 0 and grad[-1, 0] > 0  # and lowers the far corners


@pytest.mark.parametrize("weight, sigma, gate", [(-1.0, 0.2, 1.0), (1.0, 0.0, 1.0), (1.0, 0.2, 0.0)])
def test_bad_settings_raise(weight, sigma, gate):
    with pytest.raises(ValueError):
        GuidedTacotron2Loss(weight, sigma, gate)


def _random_output_and_targets(B=2, T=6, N=4):
    """A random ``Tacotron2Output`` and ``(mel, gate, input_lengths, output_lengths)`` targets."""
    torch.manual_seed(0)
    out = Tacotron2Output(torch.randn(B, 8, T), torch.randn(B, 8, T), torch.randn(B, T),
                          torch.softmax(torch.randn(B, T, N), -1))
    mel, gate = torch.randn(B, 8, T), torch.zeros(B, T)
    gate[:, -1] = 1
    return out, (mel, gate, torch.tensor([4, 3]), torch.tensor([6, 5]))


def test_gate_positive_weight_matches_weighted_bce():
    out, targets = _random_output_and_targets()
    mel, gate = targets[:2]
    logits, w = out.gate.reshape(-1), 7.0
    p = torch.sigmoid(logits)
    y = gate.reshape(-1)
    bce = -(w * y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()   # written out, not via torch's pos_weight
    mse = ((out.mel - mel) ** 2).mean() + ((out.mel_postnet - mel) ** 2).mean()
    assert GuidedTacotron2Loss(0.0, 0.2, w)(out, targets).item() == pytest.approx((mse + bce).item(), rel=1e-5)
    assert GuidedTacotron2Loss(0.0, 0.2, 1.0)(out, targets).item() == pytest.approx(
        Tacotron2Loss()(out, targets[:2]).item(), rel=1e-6)


def test_guided_loss_adds_weighted_term_to_nvidia_loss():
    out, targets = _random_output_and_targets()
    total = GuidedTacotron2Loss(2.5, 0.2)(out, targets)
    expected = Tacotron2Loss()(out, targets[:2]) + 2.5 * guided_attention_loss(out.alignments, *targets[2:])
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)


def _task(weight):
    recipe = get_recipe("tacotron2")
    model = Tacotron2(Tacotron2Config(**TINY))
    data = DataSpec([], [], MelExtractor(MelSettings(n_mel_channels=8)), guided_attention_weight=weight)
    return model, recipe.make_task(model, data)


def _batch():
    torch.manual_seed(1)
    text = torch.randint(1, 148, (2, 5))
    mel = torch.randn(2, 8, 7)
    gate = torch.zeros(2, 7)
    gate[:, -1] = 1
    return text, torch.tensor([5, 4]), mel, gate, torch.tensor([7, 6]), torch.tensor([5.0, 4.0])


def test_recipe_is_nvidia_loss_by_default_and_guided_when_asked():
    batch = _batch()
    losses = {}
    for weight in (0.0, 3.0):
        model, task = _task(weight)
        torch.manual_seed(0)
        model.load_state_dict(Tacotron2(Tacotron2Config(**TINY)).state_dict())
        inputs, targets, _ = task.batch_to_device(batch, torch.device("cpu"))
        torch.manual_seed(2)
        output = model(*inputs)
        losses[weight] = task.criterion(output, targets).item()
        if weight == 0.0:
            assert len(targets) == 2
            assert losses[weight] == pytest.approx(Tacotron2Loss()(output, targets).item())
        else:
            guided = guided_attention_loss(output.alignments, inputs[1], inputs[3]).item()
            assert losses[weight] == pytest.approx(losses[0.0] + 3.0 * guided, rel=1e-5)


def test_negative_weight_in_recipe_raises():
    with pytest.raises(ValueError, match="guided_attention_weight"):
        _task(-0.5)


def test_cli_trains_with_guided_attention_and_logs_every_iteration(tmp_path, caplog):
    from tacotron2_waveglow.training.cli import main
    from training_data import write_dataset
    listing = write_dataset(tmp_path, seconds=(0.2, 0.25))
    overrides = '{"n_mel_channels": 8, "symbols_embedding_dim": 32, "encoder_embedding_dim": 32, ' \
                '"attention_rnn_dim": 48, "attention_dim": 16, "attention_location_n_filters": 4, ' \
                '"decoder_rnn_dim": 40, "prenet_dim": 24, "postnet_embedding_dim": 24}'
    with caplog.at_level("INFO", logger="tacotron2_waveglow.training"):
        main(["--model", "tacotron2", "-o", str(tmp_path / "out"), "-d", str(tmp_path), "--training-files",
              str(listing), "--epochs", "1", "-bs", "2", "--config-overrides", overrides, "--device", "cpu",
              "--no-progress", "--no-tensorboard", "--guided-attention-weight", "1.0", "--log-interval", "1"])
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("iteration ")]
    assert len(logged) == 2  # 4 items / batch 2 = 2 iterations
    assert logged[0].startswith("iteration 1: train loss ") and logged[1].startswith("iteration 2: train loss ")


@pytest.mark.parametrize("value", [-1, 1.5])
def test_bad_log_interval_raises(value):
    from tacotron2_waveglow.training.config import TrainerConfig
    with pytest.raises(ValueError, match="log_interval"):
        TrainerConfig(log_interval=value)
