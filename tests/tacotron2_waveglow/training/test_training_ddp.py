"""DDP under torchrun with Gloo on CPU: two ranks equal one process on the combined batch."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tacotron2_waveglow.training.config import TrainerConfig
from tacotron2_waveglow.training.trainer import Trainer
from training_toy import toy_task

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]  # the repository root


def torchrun(args, tmp_path, timeout=120):
    """Run ``torchrun --nproc_per_node 2 ARGS`` on CPU with the repository importable."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(HERE)]), OMP_NUM_THREADS="1",
               CUDA_VISIBLE_DEVICES="")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", *args]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_ddp_step_equals_single_process_step_on_combined_batch(tmp_path):
    out = tmp_path / "ddp.pt"
    result = torchrun([str(HERE / "ddp_toy_worker.py"), str(out)], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    ddp_params = torch.load(out, weights_only=True)

    config = TrainerConfig(epochs=1, batch_size=8, learning_rate=1e-2, weight_decay=1e-6, progress=False,
                           tensorboard=False, seed=5)
    single = Trainer(toy_task(dropout=0.0, n=8), config)
    single.fit()
    assert single.iteration == 1
    initial = toy_task(dropout=0.0, n=8).model.state_dict()
    for name, value in single.module.state_dict().items():
        assert not torch.equal(value, initial[name]), f"{name} did not move"
        torch.testing.assert_close(ddp_params[name], value, atol=1e-6, rtol=0)


@pytest.mark.slow
def test_torchrun_trains_tacotron2_from_the_cli(tmp_path):
    import json

    from checkpoints import load_tacotron2
    from training_data import write_dataset
    from test_training_models import TACOTRON2_TINY

    listing = write_dataset(tmp_path, seconds=(0.3, 0.35, 0.3, 0.4))
    out = tmp_path / "out"
    result = torchrun(["-m", "tacotron2_waveglow.training", "--model", "tacotron2", "-o", str(out), "-d", str(tmp_path),
                       "--training-files", str(listing), "--validation-files", str(listing), "--epochs", "1",
                       "-bs", "2", "--config-overrides", json.dumps(TACOTRON2_TINY), "--no-progress",
                       "--no-tensorboard", "--device", "cpu"], tmp_path, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    assert load_tacotron2(out / "checkpoint_Tacotron2_0.pt").config.n_mel_channels == 8
