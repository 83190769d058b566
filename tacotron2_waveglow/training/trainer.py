"""The generic training loop: AMP, DDP, NVIDIA's LR schedule, validation, exact resume."""
from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler

from .amp import autocast_dtype, make_grad_scaler, to_float32
from .checkpointing import (load_training_checkpoint, restore_training_state, save_training_checkpoint,
                            training_checkpoint)
from .config import TrainerConfig
from .data.length_buckets import LengthBucketSampler
from .distributed import DistContext, barrier, gather_objects, mean_over_ranks, sum_over_ranks
from .metrics import MetricWriter
from .rng import capture_rng_state, seed_everything
from .schedule import annealed_learning_rate, set_learning_rate
from .task import TrainingTask

logger = logging.getLogger("tacotron2_waveglow.training")


class Trainer:
    """Trains ``task.model`` with Adam as NVIDIA DLE's ``train.py`` does.

    Per epoch: set the annealed learning rate, iterate the shuffled training
    set (a ``DistributedSampler`` seeded with ``config.seed``, also on one
    process, so the order depends only on seed and epoch), clip gradients to
    ``grad_clip_thresh``, step; then compute the validation loss and write a
    checkpoint when due. Each rank seeds its RNGs with ``seed + rank``.
    """

    def __init__(self, task: TrainingTask, config: TrainerConfig, ctx: Optional[DistContext] = None) -> None:
        self.task = task
        self.config = config
        self.ctx = ctx or DistContext()
        seed_everything(config.seed + self.ctx.rank)
        self.module = task.model.to(self.ctx.device)
        self.model: torch.nn.Module = self.module
        if self.ctx.distributed:
            ids = [self.ctx.device.index] if self.ctx.device.type == "cuda" else None
            self.model = DistributedDataParallel(self.module, device_ids=ids)
        self.optimizer = torch.optim.Adam(self.module.parameters(), lr=config.learning_rate,
                                          weight_decay=config.weight_decay)
        self.scaler = make_grad_scaler(self.ctx.device, config.amp)
        self.amp_dtype = autocast_dtype(self.ctx.device)
        self.epoch = 0          # next epoch to run
        self.iteration = 0      # optimizer steps done
        self.train_sampler = self._sampler(task.train_set, shuffle=True)
        self.loader_generator = torch.Generator()
        self.train_loader = self._loader(task.train_set, self.train_sampler, drop_last=True,
                                         generator=self.loader_generator)
        if len(self.train_loader) == 0:
            raise ValueError(f"training set of {len(task.train_set)} item(s) gives no full batch of "
                             f"{config.batch_size} per rank on {self.ctx.world_size} rank(s); lower --batch-size")
        self.writer = MetricWriter(config.output_dir if self.ctx.is_main else None, enabled=config.tensorboard)
        self.history: Dict[str, list] = {"train_loss": [], "val_loss": []}

    # ----------------------------------------------------------------- data
    def _sampler(self, dataset: Dataset, shuffle: bool) -> DistributedSampler:
        if shuffle and self.config.length_buckets:
            item_lengths = getattr(dataset, "item_lengths", None)
            if item_lengths is None:
                raise ValueError(f"length_buckets needs a dataset with item_lengths(); "
                                 f"{type(dataset).__name__} has none (use length_buckets=0)")
            return LengthBucketSampler(dataset, item_lengths(), self.config.batch_size, self.config.length_buckets,
                                       num_replicas=self.ctx.world_size, rank=self.ctx.rank, seed=self.config.seed)
        return DistributedSampler(dataset, num_replicas=self.ctx.world_size, rank=self.ctx.rank,
                                  shuffle=shuffle, seed=self.config.seed, drop_last=shuffle)

    def _loader(self, dataset: Dataset, sampler: DistributedSampler, drop_last: bool,
                generator: Optional[torch.Generator] = None) -> DataLoader:
        return DataLoader(dataset, batch_size=self.config.batch_size, sampler=sampler, drop_last=drop_last,
                          collate_fn=self.task.collate_fn, num_workers=self.config.num_workers,
                          pin_memory=self.ctx.device.type == "cuda", generator=generator)

    def _set_epoch(self, epoch: int) -> None:
        self.train_sampler.set_epoch(epoch)
        self.loader_generator.manual_seed(self.config.seed * 100003 + epoch)
        set_epoch = getattr(self.task.train_set, "set_epoch", None)
        if set_epoch is not None:
            set_epoch(epoch)

    # ----------------------------------------------------------------- steps
    def _forward_loss(self, inputs: Tuple[Any, ...], targets: Any, model: torch.nn.Module,
                      **kwargs: Any) -> Tuple[torch.Tensor, Any]:
        with torch.autocast(self.ctx.device.type, dtype=self.amp_dtype, enabled=self.config.amp):
            output = model(*inputs, **kwargs)
        output = to_float32(output)
        return self.task.criterion(output, targets), output

    def train_step(self, batch: Any) -> Tuple[float, float]:
        """One optimizer step on ``batch``; returns (loss averaged over ranks, items over ranks)."""
        inputs, targets, num_items = self.task.batch_to_device(batch, self.ctx.device)
        self.optimizer.zero_grad(set_to_none=True)
        loss, _ = self._forward_loss(inputs, targets, self.model, **self.task.train_kwargs)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        grad_norm = torch.nn.utils.clip_grad_norm_(self.module.parameters(), self.config.grad_clip_thresh)
        if self.writer.active:
            self.writer.scalar("train/grad_norm", grad_norm, self.iteration + 1)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.iteration += 1
        reduced = mean_over_ranks(loss, self.ctx).item()
        if not math.isfinite(reduced):
            raise FloatingPointError(f"training loss is {reduced} at epoch {self.epoch}, iteration {self.iteration}; "
                                     "lower --learning-rate or check the data")
        items = sum_over_ranks(torch.as_tensor(num_items, dtype=torch.float64, device=self.ctx.device), self.ctx)
        return reduced, items.item()

    @torch.no_grad()
    def validate(self) -> Optional[float]:
        """Mean validation loss over all batches and ranks (``None`` without a validation set)."""
        if self.task.val_set is None or len(self.task.val_set) == 0:
            return None
        sampler = self._sampler(self.task.val_set, shuffle=False)
        loader = self._loader(self.task.val_set, sampler, drop_last=False)
        was_training = self.module.training
        self.module.eval()
        total = torch.zeros(2, dtype=torch.float64, device=self.ctx.device)
        last: Optional[Tuple[Any, Any]] = None
        try:
            for batch in loader:
                inputs, targets, _ = self.task.batch_to_device(batch, self.ctx.device)
                loss, output = self._forward_loss(inputs, targets, self.module)
                total += torch.stack([loss.detach().double(), torch.ones((), dtype=torch.float64,
                                                                          device=self.ctx.device)])
                last = (inputs, output)
            if last is not None and self.ctx.is_main and self.writer.active and self.task.validation_media:
                self.writer.media(self.task.validation_media(self.module, last[0], last[1]), self.iteration)
        finally:
            self.module.train(was_training)
        total = sum_over_ranks(total, self.ctx)
        if last is not None and self.ctx.is_main and self.task.on_validation is not None:
            self.task.on_validation(self.module, last[0], last[1], self.epoch, self.config.output_dir)
        return (total[0] / total[1]).item() if total[1] > 0 else None

    # ----------------------------------------------------------------- epochs
    def train_epoch(self) -> float:
        """Run one epoch of training; returns the mean training loss."""
        lr = annealed_learning_rate(self.epoch, self.config.learning_rate, self.config.anneal_steps,
                                    self.config.anneal_factor)
        if set_learning_rate(self.optimizer, lr) and self.epoch > 0:
            logger.info("epoch %d: learning rate -> %g", self.epoch, lr)
        self._set_epoch(self.epoch)
        self.module.train()
        losses, items, start = [], 0.0, time.perf_counter()
        for batch in self._progress(self.train_loader):
            loss, n = self.train_step(batch)
            losses.append(loss)
            items += n
            self.writer.scalar("train/loss", loss, self.iteration)
            self.writer.scalar("train/learning_rate", lr, self.iteration)
            if self.config.log_interval and self.iteration % self.config.log_interval == 0 and self.ctx.is_main:
                logger.info("iteration %d: train loss %.6f", self.iteration, loss)
            if self.reached_max_iterations:
                break
        elapsed = time.perf_counter() - start
        mean_loss = sum(losses) / len(losses)
        if self.ctx.is_main:
            logger.info("epoch %d: train loss %.6f, %.1f %s/s", self.epoch, mean_loss, items / max(elapsed, 1e-9),
                        self.task.items_name)
        return mean_loss

    def _progress(self, loader: DataLoader):
        if not (self.config.progress and self.ctx.is_main):
            return loader
        from tqdm.auto import tqdm
        return tqdm(loader, desc=f"epoch {self.epoch}", leave=False, dynamic_ncols=True)

    @property
    def reached_max_iterations(self) -> bool:
        """Whether ``config.max_iterations`` optimizer steps are done."""
        return self.config.max_iterations is not None and self.iteration >= self.config.max_iterations

    def fit(self) -> Dict[str, list]:
        """Train from ``self.epoch`` up to ``config.epochs`` (or ``config.max_iterations``); returns the loss history.

        When ``max_iterations`` ends an epoch early, that epoch is validated,
        checkpointed and counted as done.
        """
        try:
            if self.reached_max_iterations and self.ctx.is_main:
                logger.info("max_iterations=%d already reached (iteration %d): nothing to train",
                            self.config.max_iterations, self.iteration)
            while self.epoch < self.config.epochs and not self.reached_max_iterations:
                train_loss = self.train_epoch()
                val_loss = self.validate()
                self.history["train_loss"].append(train_loss)
                self.history["val_loss"].append(val_loss)
                if val_loss is not None:
                    self.writer.scalar("val/loss", val_loss, self.iteration)
                    if self.ctx.is_main:
                        logger.info("epoch %d: validation loss %.6f", self.epoch, val_loss)
                done = self.epoch + 1
                stop = self.reached_max_iterations
                if done % self.config.epochs_per_checkpoint == 0 or done == self.config.epochs or stop:
                    self.save_checkpoint()
                self.epoch = done
                if stop and self.ctx.is_main:
                    logger.info("stopped after max_iterations=%d optimizer steps (epoch %d)",
                                self.config.max_iterations, done - 1)
        finally:
            self.writer.close()
        return self.history

    # ----------------------------------------------------------------- checkpoints
    def save_checkpoint(self) -> Optional[Path]:
        """Write the state after the current epoch (rank 0; every rank must call it)."""
        rng_states = gather_objects(capture_rng_state(), self.ctx)
        path = None
        if self.ctx.is_main and self.config.output_dir:
            checkpoint = training_checkpoint(
                self.module, self.optimizer, self.scaler, self.epoch, self.iteration,
                rng_states=[_to_cpu(s) for s in rng_states],
                data_state={"seed": self.config.seed, "next_epoch": self.epoch + 1})
            path = save_training_checkpoint(checkpoint, self.config.output_dir, self.task.name)
        barrier(self.ctx)
        return path

    def resume(self, path: str) -> None:
        """Restore everything from a training checkpoint and continue after its epoch."""
        checkpoint = load_training_checkpoint(path)
        data_state = checkpoint.get("data_state", {})
        if data_state.get("seed", self.config.seed) != self.config.seed:
            logger.warning("checkpoint was trained with --seed %s, this run uses %s: data order differs",
                           data_state["seed"], self.config.seed)
        restore_training_state(checkpoint, self.module, self.optimizer, self.scaler,
                               rank=self.ctx.rank, world_size=self.ctx.world_size, model_name=self.task.name)
        self.epoch = int(checkpoint["epoch"]) + 1
        self.iteration = int(checkpoint["iteration"])
        if self.ctx.is_main:
            logger.info("resumed from %s: epoch %d, iteration %d", path, self.epoch, self.iteration)


def _to_cpu(state: Dict[str, Any]) -> Dict[str, Any]:
    """RNG state with every tensor on the CPU (gathered states may arrive on CUDA)."""
    def move(x: Any) -> Any:
        if isinstance(x, torch.Tensor):
            return x.cpu()
        if isinstance(x, (list, tuple)):
            return [move(v) for v in x]
        return x
    return {k: move(v) for k, v in state.items()}
