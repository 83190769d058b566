"""Tacotron 2 and WaveGlow training on a tiny synthetic data set: learning, CLI, checkpoints, warm start."""
import json

import pytest
import torch

from checkpoints import load_tacotron2, load_waveglow
from tacotron2_waveglow.training.checkpointing import LATEST_NAME
from tacotron2_waveglow.training.cli import main
from tacotron2_waveglow.training.config import TrainerConfig
from tacotron2_waveglow.training.data.filelist import read_filelist
from tacotron2_waveglow.training.data.mel import MelExtractor, MelSettings
from tacotron2_waveglow.training.models import DataSpec, get_recipe
from tacotron2_waveglow.training.trainer import Trainer
from tacotron2_waveglow.training.warm_start import warm_start
from training_data import write_dataset

TACOTRON2_TINY = dict(n_mel_channels=8, symbols_embedding_dim=32, encoder_embedding_dim=32, attention_rnn_dim=48,
                      attention_dim=16, attention_location_n_filters=4, decoder_rnn_dim=40, prenet_dim=24,
                      postnet_embedding_dim=24, max_decoder_steps=40)
WAVEGLOW_TINY = dict(n_mel_channels=8, n_flows=4, n_early_every=2, n_early_size=2,
                     WN_config=dict(n_layers=2, n_channels=16, kernel_size=3))
TINY = {"tacotron2": TACOTRON2_TINY, "waveglow": WAVEGLOW_TINY}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    return root, write_dataset(root, seconds=(0.3, 0.4, 0.35, 0.45))


def _train(name, dataset, lr, steps):
    root, listing = dataset
    recipe = get_recipe(name)
    rows, _ = read_filelist(listing, root)
    torch.manual_seed(0)
    model = recipe.make_model(recipe.make_config(TINY[name]))
    data = DataSpec(rows, [], MelExtractor(MelSettings(n_mel_channels=8)), segment_length=2048)
    config = TrainerConfig(epochs=steps, batch_size=4, learning_rate=lr, weight_decay=0.0,
                           grad_clip_thresh=recipe.defaults["grad_clip_thresh"], progress=False,
                           tensorboard=False)
    return Trainer(recipe.make_task(model, data), config).fit()["train_loss"]


def test_tacotron2_overfits_four_utterances(dataset):
    # lr 1e-2 (10x NVIDIA's) so that 15 steps on a shared CPU suffice.
    losses = _train("tacotron2", dataset, lr=1e-2, steps=15)
    assert losses[-1] < 0.5 * losses[0]


def test_waveglow_overfits_four_utterances(dataset):
    # lr 1e-3 (10x NVIDIA's). The flow loss (negative log-likelihood per sample) starts near 0 and
    # goes negative, so "halving" is measured as a drop of more than half its starting magnitude
    # and by at least 0.5 nats per sample.
    losses = _train("waveglow", dataset, lr=1e-3, steps=20)
    assert losses[-1] < losses[0] - max(0.5 * abs(losses[0]), 0.5)


def _cli(model, dataset, out, *extra):
    root, listing = dataset
    assert main(["--model", model, "-o", str(out), "-d", str(root), "--training-files", str(listing),
                 "--config-overrides", json.dumps(TINY[model]), "-bs", "2", "--no-progress", "--no-tensorboard",
                 "--epochs-per-checkpoint", "1", "--segment-length", "1024", *extra]) == 0


def test_tacotron2_cli_checkpoint_resume_and_plots(dataset, tmp_path):
    root, listing = dataset
    _cli("tacotron2", dataset, tmp_path / "full", "--epochs", "3", "--validation-files", str(listing))
    _cli("tacotron2", dataset, tmp_path / "split", "--epochs", "2", "--validation-files", str(listing))
    _cli("tacotron2", dataset, tmp_path / "split", "--epochs", "3", "--resume", "auto",
         "--validation-files", str(listing))
    full = load_tacotron2(tmp_path / "full" / "checkpoint_Tacotron2_2.pt")
    split = load_tacotron2(tmp_path / "split" / LATEST_NAME)
    for (name, a), b in zip(full.state_dict().items(), split.state_dict().values()):
        assert torch.equal(a, b), name
    assert full.config.n_mel_channels == 8
    assert (tmp_path / "full" / "alignments" / "epoch_00002.png").is_file()


def test_waveglow_cli_checkpoint_loads(dataset, tmp_path):
    _cli("waveglow", dataset, tmp_path, "--epochs", "1")
    model = load_waveglow(tmp_path / LATEST_NAME)
    assert model.config.n_flows == 4


def test_warm_start_from_golden_hub_files(dataset, golden_dir, tmp_path):
    reference = load_tacotron2(golden_dir / "tacotron2_tiny_ngc.pt")
    overrides = {k: v for k, v in reference.config.to_dict().items()}
    recipe = get_recipe("tacotron2")
    model = recipe.make_model(recipe.make_config({**overrides, "n_symbols": 150}))
    fresh_embedding = model.embedding.weight.detach().clone()
    warm_start(model, golden_dir / "tacotron2_tiny_ngc.pt", load_tacotron2, ["embedding.weight"], "Tacotron2")
    assert torch.equal(model.embedding.weight, fresh_embedding)
    assert torch.equal(model.decoder.state_dict()["linear_projection.linear_layer.weight"],
                       reference.decoder.state_dict()["linear_projection.linear_layer.weight"])

    waveglow = load_waveglow(golden_dir / "waveglow_tiny_ngc.pt")
    root, listing = dataset
    assert main(["--model", "waveglow", "-o", str(tmp_path), "-d", str(root), "--training-files", str(listing),
                 "--config-overrides", json.dumps(waveglow.config.to_dict()), "-bs", "2", "--epochs", "1",
                 "--segment-length", "1024", "--warm-start", str(golden_dir / "waveglow_tiny_ngc.pt"),
                 "--no-progress", "--no-tensorboard"]) == 0
    assert load_waveglow(tmp_path / LATEST_NAME).config.to_dict() == waveglow.config.to_dict()


def test_warm_start_rejects_unknown_ignore_layer(golden_dir):
    recipe = get_recipe("tacotron2")
    model = recipe.make_model(recipe.make_config(TACOTRON2_TINY))
    with pytest.raises(ValueError, match="embeding.weight"):
        warm_start(model, golden_dir / "tacotron2_tiny_ngc.pt", load_tacotron2, ["embeding.weight"])


def test_bad_rows_stop_the_cli(dataset, tmp_path, capsys, caplog):
    root, listing = dataset
    bad_list = tmp_path / "bad.txt"
    bad_list.write_text(listing.read_text() + "wavs/missing.wav|gone.\n", encoding="utf-8")
    status = main(["--model", "tacotron2", "-o", str(tmp_path / "o"), "-d", str(root), "--training-files",
                   str(bad_list), "--epochs", "1", "--config-overrides", json.dumps(TACOTRON2_TINY), "-bs", "2"])
    assert status == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m tacotron2_waveglow.training: error: 1 bad row(s)")
    assert "--on-bad-rows skip" in lines[0]
    assert "bad.txt:5: " in caplog.text and "missing.wav: missing file" in caplog.text  # the rows, in the log
