"""Hyperparameters of a training run (not of the model)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple


@dataclass
class TrainerConfig:
    """Settings of :class:`training.trainer.Trainer`; defaults are NVIDIA DLE's Tacotron 2 ones.

    ``epochs`` is the total number of epochs (a resumed run continues up to it);
    ``anneal_steps`` are epochs at which the learning rate drops by
    ``anneal_factor`` (see :func:`training.schedule.annealed_learning_rate`).
    ``log_interval > 0`` also logs the training loss every that many
    iterations (0: only per-epoch means). ``length_buckets > 0`` draws
    training batches of similar length (sorted in groups of that many batches,
    see :class:`training.data.length_buckets.LengthBucketSampler`; 0: NVIDIA's
    uniform batches). Checkpoints are written after every epoch whose 1-based number is a
    multiple of ``epochs_per_checkpoint`` and after the last one, into
    ``output_dir`` (none when it is ``None``). ``max_iterations`` stops the
    run after that many optimizer steps in all (resumed ones included): the
    epoch it ends in stops early, counts as done and is checkpointed (for
    smoke runs; ``None``: no limit).
    """

    epochs: int = 1
    batch_size: int = 48
    learning_rate: float = 1e-3
    weight_decay: float = 1e-6
    grad_clip_thresh: float = 1.0
    anneal_steps: Tuple[int, ...] = ()
    anneal_factor: float = 0.1
    amp: bool = False
    seed: int = 1234
    epochs_per_checkpoint: int = 50
    output_dir: Optional[str] = None
    num_workers: int = 0
    progress: bool = True
    tensorboard: bool = True
    log_interval: int = 0
    length_buckets: int = 0
    max_iterations: Optional[int] = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "epochs_per_checkpoint"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate!r}")
        if self.grad_clip_thresh <= 0:
            raise ValueError(f"grad_clip_thresh must be positive, got {self.grad_clip_thresh!r}")
        if not isinstance(self.log_interval, int) or self.log_interval < 0:
            raise ValueError(f"log_interval must be an int >= 0 (0 = off), got {self.log_interval!r}")
        if not isinstance(self.length_buckets, int) or self.length_buckets < 0:
            raise ValueError(f"length_buckets must be an int >= 0 (0 = off), got {self.length_buckets!r}")
        if self.max_iterations is not None and (not isinstance(self.max_iterations, int) or self.max_iterations < 1):
            raise ValueError(f"max_iterations must be a positive int (None = no limit), got {self.max_iterations!r}")
        if self.num_workers < 0:
            raise ValueError(f"num_workers must be >= 0, got {self.num_workers!r}")
        self.anneal_steps = tuple(int(s) for s in self.anneal_steps)
