"""Batching symbol sequences for Tacotron 2, as NVIDIA's hub ``nvidia_tts_utils``.

NVIDIA's ``Processing.pad_sequences`` (and so ``prepare_input_sequence``)
**sorts the batch by decreasing length** with ``torch.sort(descending=True)``
and returns only the sorted, zero-padded ids and their lengths, not the
permutation: row ``i`` of the output is generally *not* ``texts[i]``. We do
the same (same call, so ties come out in the same order as NVIDIA's on the
same PyTorch), and add ``return_order=True`` to get the permutation back:
``texts[order[i]]`` is row ``i``.
"""
from typing import List, Sequence, Tuple, Union

import torch

from text.sequence import text_to_sequence

IdSequence = Union[Sequence[int], torch.Tensor]


def _as_long_tensor(sequence: IdSequence, index: int) -> torch.Tensor:
    """One item of a batch as a 1-D LongTensor ``(T,)``; rejects empty and non-integer items."""
    tensor = torch.as_tensor(sequence).reshape(-1)
    if tensor.numel() == 0:
        raise ValueError(f"sequence {index} is empty; every item needs at least one id")
    if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
        raise TypeError(f"sequence {index} holds {tensor.dtype} values; symbol ids must be integers")
    return tensor.to(dtype=torch.long, device="cpu")


def _as_long_tensors(sequences: Sequence[IdSequence]) -> List[torch.Tensor]:
    if isinstance(sequences, (str, torch.Tensor)) or not isinstance(sequences, Sequence):
        raise TypeError(f"sequences must be a list of id sequences, got {type(sequences).__name__}")
    if len(sequences) == 0:
        raise ValueError("cannot pad an empty list of sequences; give at least one")
    return [_as_long_tensor(sequence, index) for index, sequence in enumerate(sequences)]


def pad_sequences(
    sequences: Sequence[IdSequence], *, return_order: bool = False
) -> Union[Tuple[torch.Tensor, torch.Tensor], Tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Sort by decreasing length and right-pad with id 0, as NVIDIA's hub utils.

    Args:
        sequences: ``B`` id sequences (lists of ints or 1-D integer tensors).
        return_order: also return the permutation applied.

    Returns:
        ``text_padded`` LongTensor ``(B, T_max)``, ``input_lengths`` LongTensor
        ``(B,)`` in decreasing order, and with ``return_order`` the LongTensor
        ``order`` ``(B,)`` such that row ``i`` is ``sequences[order[i]]``.

    Raises:
        ValueError: the list or one of its items is empty.
        TypeError: ``sequences`` is not a list/tuple of sequences.
    """
    tensors = _as_long_tensors(sequences)
    lengths = torch.tensor([t.numel() for t in tensors], dtype=torch.long)
    input_lengths, order = torch.sort(lengths, dim=0, descending=True)
    text_padded = torch.zeros(len(tensors), int(input_lengths[0]), dtype=torch.long)
    for row, index in enumerate(order.tolist()):
        text_padded[row, : tensors[index].numel()] = tensors[index]
    if return_order:
        return text_padded, input_lengths, order
    return text_padded, input_lengths


def prepare_input_sequence(
    texts: Sequence[str], cpu_run: bool = False, *, return_order: bool = False
) -> Union[Tuple[torch.Tensor, torch.Tensor], Tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Turn texts into a padded id batch for ``Tacotron2.infer``, as NVIDIA's hub utils.

    Each text goes through ``text_to_sequence(text, ("english_cleaners",))``;
    the batch is then sorted by decreasing length and padded (see
    :func:`pad_sequences`).

    Args:
        texts: ``B`` strings (a list or tuple, not a bare string).
        cpu_run: keep the tensors on the CPU; ``False`` (NVIDIA's default)
            moves them to the current CUDA device.
        return_order: also return the permutation, ``texts[order[i]]`` is row ``i``.

    Returns:
        ``text_padded`` LongTensor ``(B, T)``, ``input_lengths`` LongTensor
        ``(B,)`` (decreasing), and with ``return_order`` ``order`` ``(B,)`` (on the CPU).

    Raises:
        TypeError: ``texts`` is a bare string or not a sequence of strings.
        ValueError: ``texts`` is empty or one text has nothing to speak.
        RuntimeError: ``cpu_run=False`` but CUDA is not available.
    """
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise TypeError(
            f"texts must be a list of strings, got {type(texts).__name__}: {texts!r:.80}; "
            "wrap a single text in a list"
        )
    if len(texts) == 0:
        raise ValueError("texts is empty; give a list with at least one string")
    if not cpu_run and not torch.cuda.is_available():
        raise RuntimeError(
            "prepare_input_sequence(cpu_run=False) moves the batch to CUDA, but CUDA is not "
            "available; pass cpu_run=True to keep it on the CPU"
        )
    sequences = [text_to_sequence(text, ("english_cleaners",)) for text in texts]
    text_padded, input_lengths, order = pad_sequences(sequences, return_order=True)
    if not cpu_run:
        text_padded, input_lengths = text_padded.cuda(), input_lengths.cuda()
    if return_order:
        return text_padded, input_lengths, order
    return text_padded, input_lengths
