"""Known alignments (--attention-targets): the centred penalty in closed form, files, batching, trainer wiring."""
import math

import pytest
import torch

from tacotron2 import Tacotron2, Tacotron2Config, Tacotron2Loss
from tacotron2.outputs import Tacotron2Output
from tacotron2_waveglow.training.data.attention_targets import load_target, target_paths
from tacotron2_waveglow.training.data.collate import TextMelCollate
from tacotron2_waveglow.training.data.filelist import Utterance
from tacotron2_waveglow.training.data.mel import MelExtractor, MelSettings
from tacotron2_waveglow.training.data.text_mel import TextMelDataset
from tacotron2_waveglow.training.guided_attention import (GuidedTacotron2Loss, aligned_attention_loss,
                                                          guided_attention_loss)
from tacotron2_waveglow.training.models import DataSpec, get_recipe

TINY = dict(n_mel_channels=8, symbols_embedding_dim=32, encoder_embedding_dim=32, attention_rnn_dim=48,
            attention_dim=16, attention_location_n_filters=4, decoder_rnn_dim=40, prenet_dim=24,
            postnet_embedding_dim=24, max_decoder_steps=40)
OVERRIDES = ('{"n_mel_channels": 8, "symbols_embedding_dim": 32, "encoder_embedding_dim": 32, '
             '"attention_rnn_dim": 48, "attention_dim": 16, "attention_location_n_filters": 4, '
             '"decoder_rnn_dim": 40, "prenet_dim": 24, "postnet_embedding_dim": 24}')


def _one_hot(positions, n_symbols):
    return torch.nn.functional.one_hot(torch.as_tensor(positions), n_symbols).float()[None]


def test_attention_on_the_known_symbol_costs_nothing_and_off_it_the_closed_form():
    positions = torch.tensor([[0.0, 0.0, 1.0, 2.0, 2.0, 3.0]])
    lengths = torch.tensor([5])
    on = aligned_attention_loss(_one_hot([0, 0, 1, 2, 2, 3], 5), positions, lengths, sigma=1.0)
    assert on.item() == pytest.approx(0.0, abs=1e-7)
    for shift, sigma in ((1, 1.0), (1, 0.5), (2, 1.5)):
        off = aligned_attention_loss(_one_hot([0 + shift, 0 + shift, 1 + shift, 2 + shift, 2 + shift, 3 + shift], 6),
                                     positions, torch.tensor([6]), sigma=sigma)
        # every frame puts all its weight `shift` symbols away: (1 - exp(-d^2 / 2s^2)) per frame, over T x N
        assert off.item() == pytest.approx((1 - math.exp(-shift ** 2 / (2 * sigma ** 2))) / 6, rel=1e-6)


def test_a_straight_diagonal_is_penalised_where_the_known_alignment_is_not_straight():
    # the known alignment lingers on symbol 0 (a pause), then speaks 1..3 quickly
    positions = torch.tensor([[0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 3.0]])
    lengths, frames = torch.tensor([4]), torch.tensor([8])
    diagonal = _one_hot([0, 0, 1, 1, 2, 2, 3, 3], 4)
    known = _one_hot(positions[0].long(), 4)
    assert guided_attention_loss(diagonal, lengths, frames, 0.1) < guided_attention_loss(known, lengths, frames, 0.1)
    assert aligned_attention_loss(known, positions, lengths) < aligned_attention_loss(diagonal, positions, lengths)


def test_padded_frames_and_symbols_are_ignored():
    torch.manual_seed(0)
    a = torch.softmax(torch.randn(1, 6, 5), -1)
    b = torch.softmax(torch.randn(1, 4, 3), -1)
    pa = torch.tensor([[0.0, 1, 1, 2, 3, 4]])
    pb = torch.tensor([[0.0, 0, 1, 2]])
    padded = torch.full((2, 6, 5), 0.7)
    padded[0] = a[0]
    padded[1, :4, :3] = b[0]
    positions = torch.full((2, 6), -1.0)
    positions[0], positions[1, :4] = pa[0], pb[0]
    batch = aligned_attention_loss(padded, positions, torch.tensor([5, 3]))
    sums = aligned_attention_loss(a, pa, torch.tensor([5])) * 30 + aligned_attention_loss(b, pb, torch.tensor([3])) * 12
    assert batch.item() == pytest.approx((sums / 42).item(), rel=1e-6)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="sigma"):
        aligned_attention_loss(torch.ones(1, 2, 2) / 2, torch.zeros(1, 2), torch.tensor([2]), sigma=0.0)
    with pytest.raises(ValueError, match="cover"):
        aligned_attention_loss(torch.ones(1, 3, 2) / 2, torch.zeros(1, 2), torch.tensor([2]))
    with pytest.raises(ValueError, match="sigma"):
        GuidedTacotron2Loss(1.0, target_sigma=-1.0)


def test_loss_uses_the_known_alignment_when_the_targets_carry_one():
    torch.manual_seed(3)
    align = torch.softmax(torch.randn(2, 7, 5), -1)
    out = Tacotron2Output(torch.randn(2, 8, 7), torch.randn(2, 8, 7), torch.randn(2, 7), align)
    gate = torch.zeros(2, 7)
    gate[:, -1] = 1
    positions = torch.tensor([[0.0, 1, 1, 2, 3, 4, 4], [0, 0, 1, 2, 3, -1, -1]])
    targets = (torch.randn(2, 8, 7), gate, torch.tensor([5, 4]), torch.tensor([7, 5]))
    loss = GuidedTacotron2Loss(2.5, 0.2, target_sigma=1.5)
    expected = Tacotron2Loss()(out, targets[:2]) + 2.5 * aligned_attention_loss(align, positions, targets[2], 1.5)
    assert loss(out, targets + (positions,)).item() == pytest.approx(expected.item(), rel=1e-6)
    diagonal = Tacotron2Loss()(out, targets[:2]) + 2.5 * guided_attention_loss(align, targets[2], targets[3], 0.2)
    assert loss(out, targets).item() == pytest.approx(diagonal.item(), rel=1e-6)


def _rows_with_targets(tmp_path, frames=(5, 3)):
    settings = MelSettings(n_mel_channels=8)
    rows = []
    (tmp_path / "targets").mkdir()
    for i, n in enumerate(frames):
        mel_path = tmp_path / f"m{i}.pt"
        torch.save(torch.randn(8, n), mel_path)
        rows.append(Utterance(mel_path, "ab c" if i == 0 else "abcdefg", "list", i + 1))
        torch.save(torch.linspace(0, 3 if i == 0 else 6, n), tmp_path / "targets" / f"m{i}.pt")
    return rows, MelExtractor(settings)


def test_dataset_gives_each_item_its_target_and_the_batch_pads_it_with_minus_one(tmp_path):
    rows, mels = _rows_with_targets(tmp_path)
    data = TextMelDataset(rows, mels, load_mel_from_disk=True, attention_targets=tmp_path / "targets")
    items = [data[0], data[1]]
    assert torch.equal(items[0][3], torch.linspace(0, 3, 5))
    batch = TextMelCollate(2)(items)
    assert len(batch) == 7
    text, in_lens, _, _, out_lens, _, positions = batch
    assert positions.shape == (2, 6)                    # 5 frames rounded up to r = 2
    # sorted by text length: "abcdefg" (7 symbols, 3 frames) first
    assert in_lens.tolist() == [7, 4] and out_lens.tolist() == [3, 5]
    assert torch.equal(positions[0], torch.tensor([0.0, 3.0, 6.0, -1, -1, -1]))
    assert torch.equal(positions[1, :5], torch.linspace(0, 3, 5)) and positions[1, 5] == -1
    plain = TextMelCollate(2)([item[:3] for item in items])
    assert len(plain) == 6 and all(torch.equal(x, y) for x, y in zip(plain, batch[:6]))


def test_missing_misnamed_or_mismatched_targets_are_refused(tmp_path):
    rows, mels = _rows_with_targets(tmp_path)
    (tmp_path / "targets" / "m1.pt").unlink()
    with pytest.raises(ValueError, match=r"1 of 2 row\(s\) have no attention target.*m1\.pt"):
        TextMelDataset(rows, mels, load_mel_from_disk=True, attention_targets=tmp_path / "targets")
    with pytest.raises(ValueError, match="does not exist"):
        target_paths(tmp_path / "nowhere", rows)
    twin = Utterance(tmp_path / "other" / "m0.pt", "x", "list", 3)
    with pytest.raises(ValueError, match="share the name 'm0'"):
        target_paths(tmp_path / "targets", rows + [twin])
    torch.save(torch.zeros(4), tmp_path / "short.pt")
    with pytest.raises(ValueError, match=r"expected \(5,\)"):
        load_target(tmp_path / "short.pt", 5, 4)
    torch.save(torch.tensor([0.0, 1.0, 9.0]), tmp_path / "far.pt")
    with pytest.raises(ValueError, match="outside its row's 4 symbol"):
        load_target(tmp_path / "far.pt", 3, 4)


def test_recipe_passes_the_known_alignment_to_the_loss(tmp_path):
    rows, mels = _rows_with_targets(tmp_path)
    model = Tacotron2(Tacotron2Config(**TINY))
    data = DataSpec(rows, [], mels, load_mel_from_disk=True, guided_attention_weight=3.0,
                    attention_targets=str(tmp_path / "targets"), attention_target_sigma=1.0)
    task = get_recipe("tacotron2").make_task(model, data)
    batch = task.collate_fn([task.train_set[0], task.train_set[1]])
    inputs, targets, _ = task.batch_to_device(batch, torch.device("cpu"))
    assert len(targets) == 5 and torch.equal(targets[4], batch[6])
    torch.manual_seed(0)
    output = model(*inputs)
    expected = Tacotron2Loss()(output, targets[:2]) + 3.0 * aligned_attention_loss(output.alignments, batch[6],
                                                                                    inputs[1], 1.0)
    assert task.criterion(output, targets).item() == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(ValueError, match="need a guided attention weight above 0"):
        get_recipe("tacotron2").make_task(model, DataSpec(rows, [], mels, load_mel_from_disk=True,
                                                          attention_targets=str(tmp_path / "targets")))


def test_cli_trains_on_known_alignments_and_refuses_them_without_the_guided_term(tmp_path, capsys):
    from tacotron2_waveglow.training.cli import main
    from tacotron2_waveglow.training.data.mel import MelExtractor as Extractor
    from text import text_to_sequence
    from training_data import write_dataset
    listing = write_dataset(tmp_path, seconds=(0.2, 0.25))
    targets = tmp_path / "targets"
    targets.mkdir()
    extractor = Extractor(MelSettings(n_mel_channels=8))
    for i, line in enumerate(listing.read_text().splitlines()):
        wav, _, text = line.partition("|")
        frames = extractor.from_wav(tmp_path / wav).size(1)
        n_symbols = len(text_to_sequence(text, ("english_cleaners",)))
        torch.save(torch.linspace(0, n_symbols - 1, frames).floor(), targets / f"utt{i}.pt")
    common = ["--model", "tacotron2", "-o", str(tmp_path / "out"), "-d", str(tmp_path), "--training-files",
              str(listing), "--epochs", "1", "-bs", "2", "--config-overrides", OVERRIDES, "--device", "cpu",
              "--no-progress", "--no-tensorboard", "--attention-targets", str(targets)]
    assert main(common) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--attention-targets: attention targets need a guided attention weight above 0" in err[0]
    assert main(common[:-1] + [str(tmp_path / "nowhere"), "--guided-attention-weight", "1"]) == 2
    assert "folder not found" in capsys.readouterr().err
    assert main(common + ["--guided-attention-weight", "1", "--attention-target-sigma", "1.5"]) == 0
    assert (tmp_path / "out" / "checkpoint_Tacotron2_0.pt").is_file()
