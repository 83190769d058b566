"""Read Tacotron 2 hyperparameters back from the tensor shapes of a state dict."""
from __future__ import annotations

import re
from typing import Dict, Mapping

from torch import Tensor

_ENCODER_CONV = re.compile(r"^encoder\.convolutions\.(\d+)\.0\.conv\.weight$")
_POSTNET_CONV = re.compile(r"^postnet\.convolutions\.(\d+)\.0\.conv\.weight$")

# key -> ((field, dimension) ...): each field is that dimension of that tensor's shape
_SHAPE_FIELDS = {
    "embedding.weight": (("n_symbols", 0), ("symbols_embedding_dim", 1)),
    "encoder.convolutions.0.0.conv.weight": (("encoder_embedding_dim", 0), ("encoder_kernel_size", 2)),
    "decoder.prenet.layers.0.linear_layer.weight": (("prenet_dim", 0),),
    "decoder.attention_rnn.weight_hh": (("attention_rnn_dim", 1),),
    "decoder.attention_layer.query_layer.linear_layer.weight": (("attention_dim", 0),),
    "decoder.attention_layer.location_layer.location_conv.conv.weight": (
        ("attention_location_n_filters", 0), ("attention_location_kernel_size", 2)),
    "decoder.decoder_rnn.weight_hh": (("decoder_rnn_dim", 1),),
    "postnet.convolutions.0.0.conv.weight": (("postnet_embedding_dim", 0), ("n_mel_channels", 1),
                                             ("postnet_kernel_size", 2)),
}
_PROJECTION = "decoder.linear_projection.linear_layer.weight"  # (n_mel_channels * n_frames_per_step, ...)


def config_fields_from_state_dict(state_dict: Mapping[str, Tensor]) -> Dict[str, int]:
    """The ``Tacotron2Config`` fields that a (prefix-free) state dict's shapes determine.

    Fields whose tensors are absent are left out, so a partial or foreign
    state dict gives a partial answer. ``n_frames_per_step`` is the
    projection's rows over the postnet's input channels (without a postnet,
    ``n_mel_channels`` is the projection's rows, as for ``n_frames_per_step=1``).
    """
    fields: Dict[str, int] = {}
    for key, pairs in _SHAPE_FIELDS.items():
        tensor = state_dict.get(key)
        if tensor is None:
            continue
        for name, dim in pairs:
            if tensor.dim() > dim:
                fields[name] = int(tensor.shape[dim])
    projection = state_dict.get(_PROJECTION)
    if projection is not None and projection.dim() > 0:
        rows = int(projection.shape[0])
        mels = fields.setdefault("n_mel_channels", rows)
        if mels > 0 and rows % mels == 0:
            fields["n_frames_per_step"] = rows // mels
    for name, pattern in (("encoder_n_convolutions", _ENCODER_CONV), ("postnet_n_convolutions", _POSTNET_CONV)):
        indices = [int(m.group(1)) for m in map(pattern.match, state_dict) if m]
        if indices:
            fields[name] = max(indices) + 1
    return fields
