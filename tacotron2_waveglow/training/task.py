"""What the generic trainer needs to know about one model: a :class:`TrainingTask`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import torch
from torch.utils.data import Dataset

#: ``batch_to_device(batch, device) -> (inputs, targets, num_items)``: ``inputs`` is the
#: tuple of positional arguments of ``model(...)``, ``targets`` what the criterion
#: compares against, ``num_items`` a 0-d tensor counting the items (mel frames,
#: audio samples) the batch holds, for throughput.
BatchToDevice = Callable[[Any, torch.device], Tuple[Tuple[Any, ...], Any, torch.Tensor]]
#: ``criterion(model_output, targets) -> scalar loss`` (mean-reduced, so DDP's
#: gradient averaging equals training on the combined batch).
Criterion = Callable[[Any, Any], torch.Tensor]
#: ``on_validation(model, inputs, output, epoch, output_dir)``: rank 0 only, once per
#: validation, with the last validation batch (for example to plot alignments).
ValidationHook = Callable[[torch.nn.Module, Tuple[Any, ...], Any, int, Optional[str]], None]
#: ``validation_media(model, inputs, output) -> {tag: metrics.Image or metrics.Audio}``: rank 0 only,
#: with the last validation batch, when TensorBoard is on (an alignment image, an audio sample).
MediaHook = Callable[[torch.nn.Module, Tuple[Any, ...], Any], Dict[str, Any]]


@dataclass
class TrainingTask:
    """A model with its loss, data and batch handling.

    Attributes:
        name: the model name used in checkpoint file names (``Tacotron2``, ``WaveGlow``).
        model: the bare module; it must have ``config.to_dict()`` for checkpoints.
        criterion: see :data:`Criterion`.
        batch_to_device: see :data:`BatchToDevice`.
        train_set: training dataset; items go through ``collate_fn``.
        collate_fn: builds a batch from a list of items.
        val_set: optional validation dataset.
        on_validation: optional :data:`ValidationHook`.
        validation_media: optional :data:`MediaHook`.
        items_name: what ``num_items`` counts, for logs (``mel frames``, ``samples``).
        train_kwargs: keyword arguments of ``model(...)`` in training steps only
            (validation runs the plain call), e.g. Tacotron 2's ``feedback``.
    """

    name: str
    model: torch.nn.Module
    criterion: Criterion
    batch_to_device: BatchToDevice
    train_set: Dataset
    collate_fn: Optional[Callable[[list], Any]] = None
    val_set: Optional[Dataset] = None
    on_validation: Optional[ValidationHook] = None
    items_name: str = "items"
    validation_media: Optional[MediaHook] = None
    train_kwargs: Mapping[str, Any] = field(default_factory=dict)
