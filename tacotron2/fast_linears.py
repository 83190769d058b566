"""The decoder's matrix products prepared once for the fast path, cached on the decoder."""
from __future__ import annotations

from typing import Dict, NamedTuple, Tuple

from torch import nn

from .precision import ExactLinear, LinearOp, make_linear

_CACHE_ATTRIBUTE = "_fast_linears_cache"


class DecoderLinears(NamedTuple):
    """Every matrix product of one decoder step.

    The LSTM input/hidden products (``*_ih``, ``*_hh``, about 98% of the
    decoder's weights at the hub size) are in the requested precision; the
    prenet, attention and output projections always stay exact in the model's
    dtype (the fp32 islands).
    """

    prenet: Tuple[ExactLinear, ...]
    attention_ih: LinearOp
    attention_hh: LinearOp
    query: ExactLinear
    location_dense: ExactLinear
    v: ExactLinear
    decoder_ih: LinearOp
    decoder_hh: LinearOp
    projection: ExactLinear
    gate: ExactLinear


def _lstm_linears(cell: nn.LSTMCell, precision: str) -> Tuple[LinearOp, LinearOp]:
    return (make_linear(cell.weight_ih, cell.bias_ih, precision),
            make_linear(cell.weight_hh, cell.bias_hh, precision))


def _exact(linear: nn.Linear) -> ExactLinear:
    return ExactLinear(linear.weight, linear.bias)


def build_linears(decoder: nn.Module, precision: str) -> DecoderLinears:
    """Prepare the products of ``decoder`` (a :class:`~tacotron2.decoder.Decoder`) in ``precision``."""
    attention = decoder.attention_layer
    attention_ih, attention_hh = _lstm_linears(decoder.attention_rnn, precision)
    decoder_ih, decoder_hh = _lstm_linears(decoder.decoder_rnn, precision)
    return DecoderLinears(
        prenet=tuple(_exact(layer.linear_layer) for layer in decoder.prenet.layers),
        attention_ih=attention_ih, attention_hh=attention_hh,
        query=_exact(attention.query_layer.linear_layer),
        location_dense=_exact(attention.location_layer.location_dense.linear_layer),
        v=_exact(attention.v.linear_layer),
        decoder_ih=decoder_ih, decoder_hh=decoder_hh,
        projection=_exact(decoder.linear_projection.linear_layer),
        gate=_exact(decoder.gate_layer.linear_layer))


def _weights_stamp(decoder: nn.Module) -> Tuple[Tuple[int, int, str, Tuple[int, ...]], ...]:
    """Identity and in-place version of every parameter: changes when a weight is replaced or edited."""
    return tuple((p.data_ptr(), p._version, str(p.dtype), tuple(p.shape)) for p in decoder.parameters())


def cached_linears(decoder: nn.Module, precision: str) -> DecoderLinears:
    """:func:`build_linears`, reused while the decoder's parameters are unchanged.

    Preparing bf16 copies or int8 packed weights costs about a decoder step's
    worth of memory traffic per call, so it is done once. The cache lives on
    the decoder instance and is rebuilt automatically after ``load_state_dict``,
    an optimizer step or ``.to()``, which all change a parameter's version or
    storage.
    """
    cache: Dict[str, Tuple[tuple, DecoderLinears]] = decoder.__dict__.setdefault(_CACHE_ATTRIBUTE, {})
    stamp = _weights_stamp(decoder)
    hit = cache.get(precision)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    linears = build_linears(decoder, precision)
    cache[precision] = (stamp, linears)
    return linears
