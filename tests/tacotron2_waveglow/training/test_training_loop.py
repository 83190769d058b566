"""Generic trainer on a toy model: learning, schedule, exact resume, checkpoint contents."""
import random

import numpy as np
import pytest
import torch

from tacotron2_waveglow.training.checkpointing import LATEST_NAME, load_training_checkpoint, resolve_resume
from tacotron2_waveglow.training.config import TrainerConfig
from tacotron2_waveglow.training.rng import capture_rng_state, restore_rng_state
from tacotron2_waveglow.training.schedule import annealed_learning_rate
from tacotron2_waveglow.training.trainer import Trainer
from training_toy import toy_task


def _config(tmp_path=None, **kw):
    base = dict(epochs=4, batch_size=8, learning_rate=1e-2, weight_decay=0.0, epochs_per_checkpoint=1,
                progress=False, tensorboard=False, seed=5, output_dir=str(tmp_path) if tmp_path else None)
    base.update(kw)
    return TrainerConfig(**base)


def test_toy_training_lowers_loss():
    trainer = Trainer(toy_task(dropout=0.0), _config(epochs=30, learning_rate=3e-2))
    history = trainer.fit()
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert history["val_loss"][-1] is not None


@pytest.mark.parametrize("factor,expected", [
    (0.1, [1.0, 1.0, 0.1, 0.1, 0.01, 0.001]),
    (0.3, [1.0, 1.0, 0.3, 0.3, 0.1, 0.03]),
])
def test_nvidia_annealing(factor, expected):
    got = [annealed_learning_rate(e, 1.0, [2, 4, 5], factor) for e in range(6)]
    assert got == pytest.approx(expected)


def test_annealing_rejects_other_factors():
    with pytest.raises(ValueError, match="0.5"):
        annealed_learning_rate(0, 1.0, [1], 0.5)


def test_rng_roundtrip_covers_every_generator():
    state = capture_rng_state()
    a = (torch.rand(3), random.random(), np.random.rand())
    restore_rng_state(state)
    b = (torch.rand(3), random.random(), np.random.rand())
    assert torch.equal(a[0], b[0]) and a[1] == b[1] and a[2] == b[2]


def test_resume_is_bit_identical(tmp_path):
    full = Trainer(toy_task(), _config(tmp_path / "full", epochs=4))
    full.fit()

    first = Trainer(toy_task(), _config(tmp_path / "split", epochs=2))
    first.fit()
    torch.manual_seed(999)  # disturb every generator: resume must restore them
    random.seed(999)
    np.random.seed(999)
    second = Trainer(toy_task(model_seed=42), _config(tmp_path / "split", epochs=4))
    second.resume(str(resolve_resume("auto", tmp_path / "split")))
    assert second.epoch == 2 and second.iteration == first.iteration
    second.fit()

    assert second.iteration == full.iteration
    for a, b in zip(full.module.parameters(), second.module.parameters()):
        assert torch.equal(a, b)
    sa, sb = full.optimizer.state_dict()["state"], second.optimizer.state_dict()["state"]
    for k in sa:
        assert torch.equal(sa[k]["exp_avg_sq"], sb[k]["exp_avg_sq"])


def test_checkpoint_layout_is_weights_only_safe(tmp_path):
    trainer = Trainer(toy_task(), _config(tmp_path, epochs=2, epochs_per_checkpoint=2))
    trainer.fit()
    files = sorted(p.name for p in tmp_path.glob("checkpoint_*.pt"))
    assert files == ["checkpoint_Toy_1.pt", LATEST_NAME]
    ckpt = torch.load(tmp_path / LATEST_NAME, weights_only=True)
    for key in ("state_dict", "config", "optimizer", "scaler", "epoch", "iteration", "rng_states",
                "random_rng_states_all", "data_state"):
        assert key in ckpt, key
    assert ckpt["epoch"] == 1 and ckpt["iteration"] == 2 * (32 // 8)
    assert ckpt["config"] == trainer.module.config.to_dict()
    assert not list(tmp_path.glob("*.tmp"))


def test_resume_errors(tmp_path):
    with pytest.raises(ValueError, match="nope.pt"):
        resolve_resume(str(tmp_path / "nope.pt"), tmp_path)
    assert resolve_resume("auto", tmp_path) is None
    model_only = tmp_path / "model.pt"
    torch.save({"state_dict": {}, "config": {}}, model_only)
    with pytest.raises(ValueError, match="warm-start"):
        load_training_checkpoint(model_only)


def test_batch_larger_than_dataset_is_refused():
    with pytest.raises(ValueError, match="batch-size"):
        Trainer(toy_task(n=4), _config(batch_size=8))


def test_bf16_autocast_on_cpu_trains():
    trainer = Trainer(toy_task(dropout=0.0), _config(epochs=2, amp=True))
    history = trainer.fit()
    assert all(np.isfinite(history["train_loss"]))
    assert not trainer.scaler.is_enabled()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fp16_amp_on_cuda_uses_scaler():
    from tacotron2_waveglow.training.distributed import DistContext
    trainer = Trainer(toy_task(dropout=0.0), _config(epochs=2, amp=True), DistContext(device=torch.device("cuda")))
    trainer.fit()
    assert trainer.scaler.is_enabled()
