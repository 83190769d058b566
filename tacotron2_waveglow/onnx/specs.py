"""Names, shapes and dtypes of every exported graph's inputs and outputs, and sample feeds for them.

One table for the exporter (dynamic axes), the manifest (what a runtime
reads), the verifier and the tests (sample inputs of any size). Symbolic axes:
``batch``, ``text_len`` (encoder steps), ``frames`` (mel frames), ``steps``
(WaveGlow latent steps, ``frames * 256 // n_group``), ``samples`` (audio,
``frames * 256``).
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Optional

import numpy as np
import torch

from tacotron2 import Tacotron2Config
from tacotron2.masks import padding_mask
from waveglow import WaveGlowConfig
from waveglow.model import HOP_LENGTH

from .graphs import DecoderStepGraph, STATE_NAMES
from .manifest import GraphSpec, TensorSpec

FLOAT_DTYPES = {"fp32": "float32", "fp16": "float16"}


def tacotron2_specs(config: Tacotron2Config, precision: str = "fp32") -> Dict[str, GraphSpec]:
    """The ``encoder``, ``decoder_step`` and ``postnet`` graph specs of a Tacotron 2 with ``config``."""
    f = FLOAT_DTYPES[precision]
    c = config
    state = {"attention_hidden": [c.attention_rnn_dim], "attention_cell": [c.attention_rnn_dim],
             "decoder_hidden": [c.decoder_rnn_dim], "decoder_cell": [c.decoder_rnn_dim],
             "attention_weights": ["text_len"], "attention_weights_cum": ["text_len"],
             "attention_context": [c.encoder_embedding_dim]}
    state_specs = [TensorSpec(name, ["batch"] + state[name], f) for name in STATE_NAMES]
    frame = c.n_mel_channels * c.n_frames_per_step
    step_inputs = ([TensorSpec("frame", ["batch", frame], f)] + state_specs
                   + [TensorSpec("memory", ["batch", "text_len", c.encoder_embedding_dim], f),
                      TensorSpec("processed_memory", ["batch", "text_len", c.attention_dim], f),
                      TensorSpec("mask", ["batch", "text_len"], "bool"),
                      TensorSpec("prenet_mask_1", ["batch", c.prenet_dim], f),
                      TensorSpec("prenet_mask_2", ["batch", c.prenet_dim], f)])
    step_outputs = ([TensorSpec("mel_frame", ["batch", frame], f), TensorSpec("gate", ["batch", 1], f)]
                    + [TensorSpec(f"new_{s.name}", s.shape, f) for s in state_specs])
    assert [s.name for s in step_inputs] == list(DecoderStepGraph.INPUTS)
    assert [s.name for s in step_outputs] == list(DecoderStepGraph.OUTPUTS)
    return {
        "encoder": GraphSpec("encoder.onnx",
                             [TensorSpec("text", ["batch", "text_len"], "int64"),
                              TensorSpec("input_lengths", ["batch"], "int64")],
                             [TensorSpec("memory", ["batch", "text_len", c.encoder_embedding_dim], f),
                              TensorSpec("processed_memory", ["batch", "text_len", c.attention_dim], f)]),
        "decoder_step": GraphSpec("decoder_step.onnx", step_inputs, step_outputs),
        "postnet": GraphSpec("postnet.onnx", [TensorSpec("mel", ["batch", c.n_mel_channels, "frames"], f)],
                             [TensorSpec("mel_postnet", ["batch", c.n_mel_channels, "frames"], f)]),
    }


def waveglow_specs(config: WaveGlowConfig, precision: str = "fp32") -> Dict[str, GraphSpec]:
    """The ``waveglow`` graph spec of a WaveGlow with ``config``."""
    f = FLOAT_DTYPES[precision]
    return {"waveglow": GraphSpec("waveglow.onnx",
                                  [TensorSpec("mel", ["batch", config.n_mel_channels, "frames"], f),
                                   TensorSpec("z", ["batch", config.n_group, "steps"], f),
                                   TensorSpec("sigma", [], f)],
                                  [TensorSpec("audio", ["batch", "samples"], f)])}


def dynamic_axes(spec: GraphSpec) -> Dict[str, Dict[int, str]]:
    """``torch.onnx.export``'s ``dynamic_axes`` for ``spec``: every named axis of every input and output."""
    return {t.name: {i: d for i, d in enumerate(t.shape) if isinstance(d, str)}
            for t in spec.inputs + spec.outputs if any(isinstance(d, str) for d in t.shape)}


def axis_sizes(batch: int, text_len: int, frames: int, n_group: int = 8) -> Dict[str, int]:
    """Concrete sizes for the symbolic axes."""
    return {"batch": batch, "text_len": text_len, "frames": frames, "steps": frames * HOP_LENGTH // n_group,
            "samples": frames * HOP_LENGTH}


def sample_feed(spec: GraphSpec, sizes: Mapping[str, int], generator: torch.Generator,
                n_symbols: Optional[int] = None) -> Dict[str, torch.Tensor]:
    """Plausible random inputs for ``spec`` at ``sizes``: ids below ``n_symbols``, unsorted lengths with the
    longest equal to ``text_len``, a padding mask to match, prenet scales of 0 or 2, attention weights in [0, 1],
    ``sigma`` 0.6, normal values elsewhere."""
    def shape(t: TensorSpec) -> List[int]:
        return [sizes[d] if isinstance(d, str) else d for d in t.shape]

    batch, text_len = sizes["batch"], sizes["text_len"]
    lengths = torch.randint(1, text_len + 1, (batch,), generator=generator)
    lengths[batch // 2] = text_len  # the longest item in the middle: an unsorted batch
    feed: Dict[str, torch.Tensor] = {}
    for t in spec.inputs:
        dims = shape(t)
        dtype = getattr(torch, t.dtype)
        if t.name == "text":
            feed[t.name] = torch.randint(1, n_symbols or 2, dims, generator=generator)
        elif t.name == "input_lengths":
            feed[t.name] = lengths
        elif t.name == "mask":
            feed[t.name] = padding_mask(lengths, text_len)
        elif t.name.startswith("prenet_mask"):
            feed[t.name] = (torch.rand(dims, generator=generator) < 0.5).to(dtype) * 2.0
        elif t.name.startswith("attention_weights"):
            feed[t.name] = torch.rand(dims, generator=generator).to(dtype)
        elif t.name == "sigma":
            feed[t.name] = torch.tensor(0.6, dtype=dtype)
        else:
            feed[t.name] = torch.randn(dims, generator=generator).to(dtype)
    return feed


def as_numpy(feed: Mapping[str, torch.Tensor]) -> Dict[str, np.ndarray]:
    """The feed as contiguous numpy arrays for ``InferenceSession.run``."""
    return {name: np.ascontiguousarray(value.detach().cpu().numpy()) for name, value in feed.items()}
