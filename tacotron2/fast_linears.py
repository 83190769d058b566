"""The decoder's matrix products prepared for the fast path (held by a :class:`~tacotron2.prepared.PreparedTacotron2`)."""
from __future__ import annotations

from typing import NamedTuple, Tuple

from torch import nn

from .precision import ExactLinear, LinearOp, make_lstm_linear


class DecoderLinears(NamedTuple):
    """Every matrix product of one decoder step.

    The LSTM gate products (``*_lstm``, input and hidden weights fused into one
    matrix, about 98% of the decoder's weights at the hub size) are in the
    requested precision; the
    prenet, attention and output projections always stay exact in the model's
    dtype (the fp32 islands).
    """

    prenet: Tuple[ExactLinear, ...]
    attention_lstm: LinearOp
    query: ExactLinear
    location_dense: ExactLinear
    v: ExactLinear
    decoder_lstm: LinearOp
    projection: ExactLinear
    gate: ExactLinear

    @property
    def nbytes(self) -> int:
        """Memory the prepared products hold beyond the decoder's parameters."""
        return sum(op.nbytes for op in (*self.prenet, self.attention_lstm, self.query, self.location_dense, self.v,
                                        self.decoder_lstm, self.projection, self.gate))


def _exact(linear: nn.Linear) -> ExactLinear:
    return ExactLinear(linear.weight, linear.bias)


def build_linears(decoder: nn.Module, precision: str) -> DecoderLinears:
    """Prepare the products of ``decoder`` (a :class:`~tacotron2.decoder.Decoder`) in ``precision``."""
    attention = decoder.attention_layer
    return DecoderLinears(
        prenet=tuple(_exact(layer.linear_layer) for layer in decoder.prenet.layers),
        attention_lstm=make_lstm_linear(decoder.attention_rnn, precision),
        query=_exact(attention.query_layer.linear_layer),
        location_dense=_exact(attention.location_layer.location_dense.linear_layer),
        v=_exact(attention.v.linear_layer),
        decoder_lstm=make_lstm_linear(decoder.decoder_rnn, precision),
        projection=_exact(decoder.linear_projection.linear_layer),
        gate=_exact(decoder.gate_layer.linear_layer))
