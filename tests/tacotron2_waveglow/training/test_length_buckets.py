"""Length-bucketed batches: same items as the uniform sampler, less padding, deterministic per epoch."""
import random

import pytest
import torch
from torch.utils.data import DistributedSampler, TensorDataset

from tacotron2_waveglow.training.config import TrainerConfig
from tacotron2_waveglow.training.data.length_buckets import LengthBucketSampler
from tacotron2_waveglow.training.trainer import Trainer
from training_toy import toy_data, toy_task

N_ITEMS = 103


class _LengthedData(TensorDataset):
    """The toy data with an ``item_lengths()`` like :class:`TextMelDataset`'s."""

    def item_lengths(self):
        return [int(v * 1000) % 97 for v in self.tensors[0][:, 0].abs().tolist()]


def _lengths(seed=0):
    rng = random.Random(seed)
    return [rng.randint(10, 400) for _ in range(N_ITEMS)]


def _sampler(lengths, epoch=0, **kw):
    kw.setdefault("batch_size", 8)
    kw.setdefault("bucket_batches", 4)
    kw.setdefault("num_replicas", 1)
    kw.setdefault("rank", 0)
    sampler = LengthBucketSampler(list(range(N_ITEMS)), lengths, seed=3, **kw)
    sampler.set_epoch(epoch)
    return sampler


@pytest.mark.parametrize("replicas", [1, 2])
def test_each_rank_gets_the_uniform_samplers_items_in_whole_batches(replicas):
    lengths = _lengths()
    for rank in range(replicas):
        bucketed = _sampler(lengths, num_replicas=replicas, rank=rank)
        uniform = DistributedSampler(list(range(N_ITEMS)), num_replicas=replicas, rank=rank, shuffle=True, seed=3,
                                     drop_last=True)
        uniform.set_epoch(0)
        got = list(bucketed)
        assert len(got) == len(bucketed) and len(got) % 8 == 0
        assert len(set(got)) == len(got) and set(got) <= set(uniform)
        assert len(set(uniform)) - len(got) < 8  # only the trailing partial batch is dropped


def test_batches_have_less_padding_than_uniform_ones():
    lengths = _lengths()
    sampler = _sampler(lengths)
    order = list(DistributedSampler(list(range(N_ITEMS)), num_replicas=1, rank=0, shuffle=True, seed=3))
    uniform = [order[k:k + 8] for k in range(0, 96, 8)]

    def padding(batches):
        return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in batches)

    assert padding(sampler.batches()) < 0.5 * padding(uniform)


def test_order_is_deterministic_per_epoch_and_changes_between_epochs():
    lengths = _lengths()
    assert list(_sampler(lengths, epoch=1)) == list(_sampler(lengths, epoch=1))
    assert list(_sampler(lengths, epoch=1)) != list(_sampler(lengths, epoch=2))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="lengths for a dataset"):
        LengthBucketSampler(list(range(5)), [1, 2], batch_size=2, bucket_batches=2, num_replicas=1, rank=0)
    with pytest.raises(ValueError, match="bucket_batches"):
        LengthBucketSampler(list(range(5)), [1] * 5, batch_size=2, bucket_batches=0, num_replicas=1, rank=0)
    with pytest.raises(ValueError, match="length_buckets"):
        TrainerConfig(length_buckets=-1)


def _config(tmp_path, epochs):
    return TrainerConfig(epochs=epochs, batch_size=4, learning_rate=1e-2, weight_decay=0.0, epochs_per_checkpoint=1,
                         progress=False, tensorboard=False, seed=5, output_dir=str(tmp_path), length_buckets=2)


def _bucketed_task(model_seed=3):
    task = toy_task(model_seed=model_seed)
    task.train_set = _LengthedData(*toy_data(32).tensors)
    return task


def test_trainer_with_buckets_resumes_bit_identically(tmp_path):
    full = Trainer(_bucketed_task(), _config(tmp_path / "full", 3))
    assert isinstance(full.train_sampler, LengthBucketSampler)
    full.fit()
    first = Trainer(_bucketed_task(), _config(tmp_path / "split", 2))
    first.fit()
    second = Trainer(_bucketed_task(model_seed=42), _config(tmp_path / "split", 3))
    second.resume(str(tmp_path / "split" / "checkpoint_latest.pt"))
    second.fit()
    for a, b in zip(full.module.parameters(), second.module.parameters()):
        assert torch.equal(a, b)


def test_trainer_refuses_buckets_for_a_dataset_without_lengths(tmp_path):
    with pytest.raises(ValueError, match="item_lengths"):
        Trainer(toy_task(), _config(tmp_path, 1))
