"""The recurrent state carried from one decoder step to the next."""
from __future__ import annotations

from typing import NamedTuple

from torch import Tensor


class DecoderState(NamedTuple):
    """Everything one decoder step reads from the previous one (N = encoder steps).

    * ``attention_hidden``, ``attention_cell``: attention LSTM state, (B, attention_rnn_dim)
    * ``decoder_hidden``, ``decoder_cell``: decoder LSTM state, (B, decoder_rnn_dim)
    * ``attention_weights``: previous step's attention, (B, N)
    * ``attention_weights_cum``: sum of all previous attention, (B, N)
    * ``attention_context``: previous attention context, (B, encoder_embedding_dim)
    """

    attention_hidden: Tensor
    attention_cell: Tensor
    decoder_hidden: Tensor
    decoder_cell: Tensor
    attention_weights: Tensor
    attention_weights_cum: Tensor
    attention_context: Tensor

    @classmethod
    def zeros(cls, memory: Tensor, attention_rnn_dim: int, decoder_rnn_dim: int) -> "DecoderState":
        """All-zero state for ``memory`` (B, N, encoder_embedding_dim), in its dtype and device."""
        batch, steps, embedding_dim = memory.shape
        new = memory.new_zeros
        return cls(new(batch, attention_rnn_dim), new(batch, attention_rnn_dim),
                   new(batch, decoder_rnn_dim), new(batch, decoder_rnn_dim),
                   new(batch, steps), new(batch, steps), new(batch, embedding_dim))
