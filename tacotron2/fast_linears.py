"""The decoder's matrix products prepared once for the fast path, cached on the decoder."""
from __future__ import annotations

from typing import Dict, NamedTuple, Tuple

from torch import nn

from .precision import ExactLinear, LinearOp, make_lstm_linear, onednn_packing_available

_CACHE_ATTRIBUTE = "_fast_linears_cache"


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


class _LinearsCache(dict):
    """Per-decoder cache of prepared products; copies and pickles of a model get an empty one.

    (oneDNN-packed weights are opaque tensors that can be neither deep-copied nor
    pickled, and a copy rebuilds them from its own parameters anyway.)
    """

    def __reduce__(self):
        return (type(self), ())


def _weights_stamp(decoder: nn.Module) -> Tuple[Tuple[int, int, str, Tuple[int, ...]], ...]:
    """Identity and in-place version of every parameter: changes when a weight is replaced or edited."""
    return tuple((p.data_ptr(), p._version, str(p.dtype), tuple(p.shape)) for p in decoder.parameters())


def cached_linears(decoder: nn.Module, precision: str) -> DecoderLinears:
    """:func:`build_linears`, reused while the decoder's parameters are unchanged.

    Fusing, packing or quantizing the LSTM weights costs several decoder
    steps' worth of memory traffic, so it is done once. The cache lives on the
    decoder instance, one entry per precision and per oneDNN availability
    (``torch.backends.mkldnn.flags(enabled=False)`` gets plain ``addmm``
    products), and is rebuilt automatically after ``load_state_dict``, an
    optimizer step or ``.to()``, which all change a parameter's version or
    storage.
    """
    cache: Dict[Tuple[str, bool], Tuple[tuple, DecoderLinears]] = decoder.__dict__.setdefault(
        _CACHE_ATTRIBUTE, _LinearsCache())
    key = (precision, onednn_packing_available(decoder.gate_layer.linear_layer.weight.device))
    stamp = _weights_stamp(decoder)
    hit = cache.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    linears = build_linears(decoder, precision)
    cache[key] = (stamp, linears)
    return linears
