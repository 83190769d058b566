"""Shuffled batches of similar length: less padding per batch, same items per epoch.

NVIDIA's trainer draws batches uniformly at random, so a batch of 16 short
sentences is padded to its longest one (on a corpus of 1-6 s sentences about
40% of the decoder steps of a batch are padding). :class:`LengthBucketSampler`
keeps the epoch's shuffled order of :class:`~torch.utils.data.DistributedSampler`
(same items per rank, same seed rules) and only regroups it: each run of
``batch_size * bucket_batches`` consecutive indices is sorted by length, cut
into batches, and the batches of the whole epoch are shuffled. It is opt-in
(``--length-buckets N``); NVIDIA's recipe stays the default.
"""
from __future__ import annotations

from typing import Iterator, List, Optional, Sequence

import torch
from torch.utils.data import Dataset, DistributedSampler


class LengthBucketSampler(DistributedSampler):
    """A :class:`DistributedSampler` whose consecutive ``batch_size`` indices have similar ``lengths``.

    Args:
        dataset: the dataset (its size must equal ``len(lengths)``).
        lengths: a length per item (any number that grows with the item's
            decoder steps; text length works for TTS corpora).
        batch_size: the loader's batch size (the sampler yields whole batches
            back to back; a trailing partial batch is dropped with ``drop_last``).
        bucket_batches: how many batches are sorted together (larger: less
            padding, less randomness in which items meet).
    """

    def __init__(self, dataset: Dataset, lengths: Sequence[int], batch_size: int, bucket_batches: int, *,
                 num_replicas: Optional[int] = None, rank: Optional[int] = None, seed: int = 0,
                 drop_last: bool = True) -> None:
        if len(lengths) != len(dataset):
            raise ValueError(f"got {len(lengths)} lengths for a dataset of {len(dataset)} items")
        if bucket_batches < 1 or batch_size < 1:
            raise ValueError(f"batch_size and bucket_batches must be >= 1, got {batch_size}, {bucket_batches}")
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed,
                         drop_last=drop_last)
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.bucket_batches = bucket_batches

    def batches(self) -> List[List[int]]:
        """This epoch's batches for this rank, in the order they will be drawn."""
        order = list(super().__iter__())
        whole = len(order) - len(order) % self.batch_size
        span = self.batch_size * self.bucket_batches
        batches = []
        for start in range(0, whole, span):
            bucket = sorted(order[start:min(start + span, whole)], key=lambda i: self.lengths[i])
            batches.extend(bucket[k:k + self.batch_size] for k in range(0, len(bucket), self.batch_size))
        generator = torch.Generator().manual_seed(self.seed * 7919 + self.epoch)
        return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]

    def __iter__(self) -> Iterator[int]:
        return iter([index for batch in self.batches() for index in batch])

    def __len__(self) -> int:
        return self.num_samples - self.num_samples % self.batch_size
