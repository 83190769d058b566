"""Interrupted and full-disk training runs: resume never starts over, checkpoints are complete or absent."""
from __future__ import annotations

import errno
import json
import os
import warnings

import numpy as np
import pytest
import soundfile
import torch

from audio.atomic import WriteError
from checkpoints import CheckpointError
from tacotron2_waveglow.training.checkpointing import (LATEST_NAME, OLD_COPY_NAME, resolve_resume,
                                                        save_training_checkpoint)
from tacotron2_waveglow.training.cli import main as train_main

TINY = dict(n_mel_channels=8, symbols_embedding_dim=32, encoder_embedding_dim=32, attention_rnn_dim=48,
            attention_dim=16, attention_location_n_filters=4, decoder_rnn_dim=40, prenet_dim=24,
            postnet_embedding_dim=24, max_decoder_steps=40)


def _checkpoint(epoch: int) -> dict:
    return {"state_dict": {"w": torch.full((1000,), float(epoch))}, "config": {}, "optimizer": {},
            "epoch": epoch, "iteration": 10 * epoch}


def _age(path, seconds_ago: float) -> None:
    stamp = path.stat().st_mtime - seconds_ago
    os.utime(path, (stamp, stamp))


def test_auto_resumes_from_the_newest_complete_checkpoint_whatever_its_name(tmp_path):
    save_training_checkpoint(_checkpoint(0), tmp_path, "Tacotron2")
    (tmp_path / LATEST_NAME).unlink()  # lost (deleted, or killed before the copy)
    assert resolve_resume("auto", tmp_path) == tmp_path / "checkpoint_Tacotron2_0.pt"

    save_training_checkpoint(_checkpoint(1), tmp_path, "Tacotron2")
    _age(tmp_path / "checkpoint_Tacotron2_0.pt", 100)
    assert torch.load(resolve_resume("auto", tmp_path))["epoch"] == 1

    whole = (tmp_path / LATEST_NAME).read_bytes()
    (tmp_path / LATEST_NAME).write_bytes(whole[: len(whole) // 2])  # damaged by a crash of another tool
    (tmp_path / "checkpoint_Tacotron2_1.pt").write_bytes(whole[:100])
    _age(tmp_path / "checkpoint_Tacotron2_1.pt", 50)
    with pytest.warns(UserWarning, match="skipped damaged checkpoint"):
        assert resolve_resume("auto", tmp_path) == tmp_path / "checkpoint_Tacotron2_0.pt"


def test_auto_refuses_to_start_over_when_every_checkpoint_is_damaged(tmp_path):
    (tmp_path / "checkpoint_Tacotron2_3.pt").write_bytes(b"PK\x03\x04 half a zip")
    with pytest.raises(CheckpointError, match="no complete checkpoint .* move them away"):
        resolve_resume("auto", tmp_path)
    assert resolve_resume("auto", tmp_path / "empty") is None  # nothing there: a fresh start


def test_explicit_resume_of_a_directory_says_so(tmp_path):
    with pytest.raises(CheckpointError, match="is a directory"):
        resolve_resume(str(tmp_path), tmp_path)


def test_full_disk_while_saving_keeps_the_previous_checkpoints(tmp_path, monkeypatch):
    save_training_checkpoint(_checkpoint(0), tmp_path, "Tacotron2")
    (tmp_path / OLD_COPY_NAME).write_bytes(b"left by an older version")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name != OLD_COPY_NAME}

    def fsync(fd):  # as on NFS or a thin-provisioned volume: the data is refused when it is flushed
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(WriteError, match=r"^no space left on device writing .*checkpoint_Tacotron2_1\.pt; free space"):
        save_training_checkpoint(_checkpoint(1), tmp_path, "Tacotron2")
    monkeypatch.undo()
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name != OLD_COPY_NAME}
    assert after == before  # nothing partial, nothing replaced
    save_training_checkpoint(_checkpoint(1), tmp_path, "Tacotron2")
    assert not (tmp_path / OLD_COPY_NAME).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([LATEST_NAME, "checkpoint_Tacotron2_0.pt",
                                                                 "checkpoint_Tacotron2_1.pt"])


@pytest.mark.slow
def test_cli_resume_auto_without_latest_continues_and_keeps_epoch_0(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(2):
        soundfile.write(str(tmp_path / f"u{i}.wav"), (0.1 * rng.standard_normal(6000)).astype(np.float32), 22050)
    listing = tmp_path / "train.txt"
    listing.write_text("u0.wav|hello world.\nu1.wav|a cat sat.\n", encoding="utf-8")
    out = tmp_path / "run"

    def train(epochs: int, *extra: str) -> int:
        return train_main(["-o", str(out), "-d", str(tmp_path), "--training-files", str(listing),
                           "--config-overrides", json.dumps(TINY), "-bs", "2", "--epochs", str(epochs),
                           "--epochs-per-checkpoint", "1", "--no-progress", "--no-tensorboard", "--device", "cpu",
                           *extra], model="tacotron2")

    assert train(1) == 0
    first = out / "checkpoint_Tacotron2_0.pt"
    kept = first.read_bytes()
    (out / LATEST_NAME).unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert train(2, "--resume", "auto") == 0
    assert first.read_bytes() == kept  # resumed from it, not overwritten by a fresh start
    resumed = torch.load(out / "checkpoint_Tacotron2_1.pt", weights_only=True)
    assert resumed["epoch"] == 1 and resumed["iteration"] == 2 * torch.load(first, weights_only=True)["iteration"]
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


def test_alignment_plot_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from tacotron2_waveglow.training.plots import save_alignment_png

    path = save_alignment_png(torch.rand(20, 7), tmp_path / "alignments" / "epoch_00001.png")
    good = path.read_bytes()
    assert good.startswith(b"\x89PNG")

    def full_disk(self, handle, **kwargs):
        handle.write(b"\x89PNG half")
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(Figure, "savefig", full_disk)
    with pytest.raises(WriteError, match="no space left on device writing .*epoch_00001.png"):
        save_alignment_png(torch.rand(20, 7), path)
    assert path.read_bytes() == good and sorted(p.name for p in path.parent.iterdir()) == ["epoch_00001.png"]
