"""A toy regression task for the generic trainer: tiny MLP with dropout, mean-squared error."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch.utils.data import TensorDataset

from tacotron2_waveglow.training.task import TrainingTask


@dataclass(frozen=True)
class ToyConfig:
    n_in: int = 4
    n_hidden: int = 16
    dropout: float = 0.2

    def to_dict(self) -> dict:
        return asdict(self)


class ToyModel(torch.nn.Module):
    def __init__(self, config: ToyConfig = ToyConfig()) -> None:
        super().__init__()
        self.config = config
        self.net = torch.nn.Sequential(torch.nn.Linear(config.n_in, config.n_hidden), torch.nn.Tanh(),
                                       torch.nn.Dropout(config.dropout), torch.nn.Linear(config.n_hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def toy_data(n: int = 32, n_in: int = 4, seed: int = 7) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n_in, generator=g)
    y = (x @ torch.arange(1.0, n_in + 1).unsqueeze(1)).sin()
    return TensorDataset(x, y)


def toy_batch_to_device(batch, device):
    x, y = (t.to(device) for t in batch)
    return (x,), y, torch.tensor(x.shape[0])


def toy_task(dropout: float = 0.2, n: int = 32, model_seed: int = 3) -> TrainingTask:
    torch.manual_seed(model_seed)
    return TrainingTask(name="Toy", model=ToyModel(ToyConfig(dropout=dropout)),
                        criterion=torch.nn.functional.mse_loss, batch_to_device=toy_batch_to_device,
                        train_set=toy_data(n), val_set=toy_data(8, seed=11), items_name="rows")
