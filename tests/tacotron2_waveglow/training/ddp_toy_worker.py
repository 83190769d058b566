"""Run under ``torchrun --nproc_per_node 2``: one DDP epoch (one step per rank) of the toy task.

Rank 0 saves the resulting parameters to the path given as the first argument.
"""
import sys

import torch

from tacotron2_waveglow.training.config import TrainerConfig
from tacotron2_waveglow.training.distributed import cleanup_distributed, init_distributed
from tacotron2_waveglow.training.trainer import Trainer
from training_toy import toy_task


def main(out_path: str) -> None:
    ctx = init_distributed(device="cpu")
    torch.set_num_threads(1)
    config = TrainerConfig(epochs=1, batch_size=4, learning_rate=1e-2, weight_decay=1e-6, progress=False,
                           tensorboard=False, seed=5)
    trainer = Trainer(toy_task(dropout=0.0, n=8), config, ctx)
    trainer.fit()
    if ctx.is_main:
        torch.save({k: v.detach().clone() for k, v in trainer.module.state_dict().items()}, out_path)
    cleanup_distributed(synchronize=True)


if __name__ == "__main__":
    main(sys.argv[1])
