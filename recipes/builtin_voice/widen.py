"""Grow a trained Tacotron 2 into a wider one that computes exactly the same function.

    python -m recipes.builtin_voice.widen --checkpoint SMALL.pt --out WIDE.pt \\
        --config-overrides '{"encoder_embedding_dim": 256, "attention_rnn_dim": 384, "decoder_rnn_dim": 384}'

The built-in voice (2 M parameters) stops learning the teacher at about half
its words right even when fed the teacher's frames (docs/voice.md), so it
needs more capacity; training a larger model from scratch would throw away
the alignment it took thousands of steps to learn. Widening keeps it: every
new unit gets random incoming weights (at the scale of its layer's existing
ones) and zero outgoing weights, so the wide model's outputs equal the small
one's (to float rounding) while the new units already compute non-zero values
and their outgoing weights receive gradients from the first step (Net2Net's
"wider" operator, Chen et al. 2016, with a zero instead of a split copy).

Which axis of which tensor holds which dimension is the explicit table
:func:`axis_table` (the encoder's bidirectional LSTM output, for example, is
two blocks of ``encoder_embedding_dim / 2``, and an LSTM's gate axis four
blocks of its hidden size), so a new tensor in the model fails loudly here
instead of being widened wrongly.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch

from checkpoints import load_tacotron2, save_checkpoint
from checkpoints.cli_support import parse_json_object
from tacotron2 import Tacotron2, Tacotron2Config
from text import text_to_sequence

#: Config fields that may grow, and the table's name for each (``Eh`` is half of ``E``).
GROWABLE = {"symbols_embedding_dim": "S", "encoder_embedding_dim": "E", "attention_rnn_dim": "A",
            "decoder_rnn_dim": "D", "prenet_dim": "P", "attention_dim": "Q",
            "attention_location_n_filters": "F", "postnet_embedding_dim": "N"}

#: One axis: a concatenation of ``(dimension, blocks)`` segments; a dimension is a table name or a fixed size.
Axis = Tuple[Tuple[Union[str, int], int], ...]


def _sizes(config: Tacotron2Config) -> Dict[str, int]:
    sizes = {name: getattr(config, field) for field, name in GROWABLE.items()}
    sizes["Eh"] = config.encoder_embedding_dim // 2
    return sizes


def axis_table(config: Tacotron2Config) -> Dict[str, Tuple[str, Tuple[Axis, ...]]]:
    """``state_dict`` key -> (kind, axes) for every tensor of a :class:`Tacotron2` with ``config``.

    Axis 0 is the output axis except for the embedding (its axis 1). ``kind``
    says how a new output unit starts: ``weight`` (random), ``bias``,
    ``bn_bias``, ``bn_mean`` (0), ``bn_weight``, ``bn_var`` (1) or ``count``.
    """
    c = config
    one = lambda dim: ((dim, 1),)  # noqa: E731
    memory: Axis = (("Eh", 2),)
    table: Dict[str, Tuple[str, Tuple[Axis, ...]]] = {
        "embedding.weight": ("weight", (one(c.n_symbols), one("S")))}

    def conv_block(prefix: str, out_dim, in_dim, kernel: int) -> None:
        table[f"{prefix}.0.conv.weight"] = ("weight", (one(out_dim), one(in_dim), one(kernel)))
        table[f"{prefix}.0.conv.bias"] = ("bias", (one(out_dim),))
        for name, kind in (("weight", "bn_weight"), ("bias", "bn_bias"), ("running_mean", "bn_mean"),
                           ("running_var", "bn_var")):
            table[f"{prefix}.1.{name}"] = (kind, (one(out_dim),))
        table[f"{prefix}.1.num_batches_tracked"] = ("count", ())

    for i in range(c.encoder_n_convolutions):
        conv_block(f"encoder.convolutions.{i}", "E", "S" if i == 0 else "E", c.encoder_kernel_size)

    def lstm(prefix: str, suffix: str, hidden: str, inputs: Axis) -> None:
        gates: Axis = ((hidden, 4),)
        table[f"{prefix}.weight_ih{suffix}"] = ("weight", (gates, inputs))
        table[f"{prefix}.weight_hh{suffix}"] = ("weight", (gates, one(hidden)))
        table[f"{prefix}.bias_ih{suffix}"] = ("bias", (gates,))
        table[f"{prefix}.bias_hh{suffix}"] = ("bias", (gates,))

    for suffix in ("_l0", "_l0_reverse"):
        lstm("encoder.lstm", suffix, "Eh", one("E"))
    frame = c.n_mel_channels * c.n_frames_per_step
    table["decoder.prenet.layers.0.linear_layer.weight"] = ("weight", (one("P"), one(frame)))
    table["decoder.prenet.layers.1.linear_layer.weight"] = ("weight", (one("P"), one("P")))
    lstm("decoder.attention_rnn", "", "A", (("P", 1),) + memory)
    attention = "decoder.attention_layer."
    table[attention + "query_layer.linear_layer.weight"] = ("weight", (one("Q"), one("A")))
    table[attention + "memory_layer.linear_layer.weight"] = ("weight", (one("Q"), memory))
    table[attention + "v.linear_layer.weight"] = ("weight", (one(1), one("Q")))
    table[attention + "location_layer.location_conv.conv.weight"] = (
        "weight", (one("F"), one(2), one(c.attention_location_kernel_size)))
    table[attention + "location_layer.location_dense.linear_layer.weight"] = ("weight", (one("Q"), one("F")))
    lstm("decoder.decoder_rnn", "", "D", (("A", 1),) + memory)
    for name, width in (("linear_projection", frame), ("gate_layer", 1)):
        table[f"decoder.{name}.linear_layer.weight"] = ("weight", (one(width), (("D", 1),) + memory))
        table[f"decoder.{name}.linear_layer.bias"] = ("bias", (one(width),))
    last = c.postnet_n_convolutions - 1
    for i in range(c.postnet_n_convolutions):
        conv_block(f"postnet.convolutions.{i}", c.n_mel_channels if i == last else "N",
                   c.n_mel_channels if i == 0 else "N", c.postnet_kernel_size)
    return table


def _positions(axis: Axis, old: Mapping[str, int], new: Mapping[str, int]) -> Tuple[torch.Tensor, int]:
    """Where each old position of ``axis`` lands in the wide axis, and the wide axis's length."""
    positions: List[int] = []
    offset = 0
    for dim, blocks in axis:
        o, n = (dim, dim) if isinstance(dim, int) else (old[dim], new[dim])
        for b in range(blocks):
            positions.extend(range(offset + b * n, offset + b * n + o))
        offset += blocks * n
    return torch.tensor(positions, dtype=torch.long), offset


def _check_configs(small: Tacotron2Config, wide: Tacotron2Config) -> None:
    fixed = [f for f, v in small.to_dict().items()
             if f not in GROWABLE and f not in ("max_decoder_steps", "gate_threshold", "p_attention_dropout",
                                               "p_decoder_dropout", "decoder_no_early_stopping", "mask_padding")
             and wide.to_dict()[f] != v]
    if fixed:
        raise ValueError(f"widening changes only {', '.join(GROWABLE)}; these differ: "
                         + ", ".join(f"{f} {small.to_dict()[f]} -> {wide.to_dict()[f]}" for f in fixed))
    shrunk = [f for f in GROWABLE if getattr(wide, f) < getattr(small, f)]
    if shrunk:
        raise ValueError("widening cannot shrink a layer: "
                         + ", ".join(f"{f} {getattr(small, f)} -> {getattr(wide, f)}" for f in shrunk))
    if wide.encoder_embedding_dim % 2:
        raise ValueError(f"encoder_embedding_dim must be even (two LSTM directions), got {wide.encoder_embedding_dim}")


def widen(model: Tacotron2, config: Tacotron2Config, seed: int = 0) -> Tacotron2:
    """A :class:`Tacotron2` with ``config`` (each dimension of :data:`GROWABLE` at least ``model``'s, the
    rest equal) whose outputs equal ``model``'s; new units start as the module doc says.

    Raises:
        ValueError: ``config`` shrinks a layer or changes a field that cannot grow, or ``model``'s
            state dict does not match :func:`axis_table` (a key missing, extra or of another shape).
    """
    _check_configs(model.config, config)
    old_sizes, new_sizes = _sizes(model.config), _sizes(config)
    table = axis_table(model.config)
    state = model.state_dict()
    if set(state) != set(table):
        raise ValueError(f"the model's tensors do not match the widening table: missing "
                         f"{sorted(set(table) - set(state))}, unknown {sorted(set(state) - set(table))}")
    generator = torch.Generator().manual_seed(seed)
    wide = Tacotron2(config)
    out: Dict[str, torch.Tensor] = {}
    for key, (kind, axes) in table.items():
        old = state[key]
        if kind == "count":
            out[key] = old.clone()
            continue
        maps = [_positions(axis, old_sizes, new_sizes) for axis in axes]
        for (positions, _), size in zip(maps, old.shape):
            if positions.numel() != size:
                raise ValueError(f"{key}: shape {tuple(old.shape)} does not match the widening table")
        shape = [length for _, length in maps]
        out_axis = 1 if key == "embedding.weight" else 0
        fresh = torch.zeros(shape, dtype=old.dtype)
        if kind in ("bn_weight", "bn_var"):
            fresh.fill_(1.0)
        elif kind == "weight":
            # new output units: random incoming weights at this layer's scale (outgoing ones stay 0)
            is_new = torch.ones(shape[out_axis], dtype=torch.bool)
            is_new[maps[out_axis][0]] = False
            scale = old.float().std().item() if old.numel() > 1 else 0.0
            noise = torch.randn(shape, generator=generator, dtype=torch.float32).mul_(scale).to(old.dtype)
            index = [slice(None)] * len(shape)
            index[out_axis] = is_new
            fresh[tuple(index)] = noise[tuple(index)]
        grid = torch.meshgrid(*[positions for positions, _ in maps], indexing="ij") if maps else ()
        fresh[tuple(grid)] = old
        out[key] = fresh
    wide.load_state_dict(out)
    return wide.train(model.training)


def max_output_difference(small: Tacotron2, wide: Tacotron2, text: torch.Tensor, frames: int = 40,
                          seed: int = 0) -> float:
    """Largest absolute difference of the teacher-forced outputs (mels, postnet mels, gate logits,
    alignments) of two models on ``text`` ``(1, T_in)`` and a random ``frames``-frame target, in eval
    mode with prenet dropout off."""
    generator = torch.Generator().manual_seed(seed)
    mel = torch.randn(1, small.config.n_mel_channels, frames, generator=generator)
    lengths, out_lengths = torch.tensor([text.size(1)]), torch.tensor([frames])
    modes = small.training, wide.training
    small.eval(), wide.eval()
    try:
        with torch.no_grad():
            a = small(text, lengths, mel, out_lengths, prenet_dropout=False)
            b = wide(text, lengths, mel, out_lengths, prenet_dropout=False)
    finally:
        small.train(modes[0]), wide.train(modes[1])
    return max((x - y).abs().max().item() for x, y in zip(a, b))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m recipes.builtin_voice.widen",
                                description="Grow a Tacotron 2 checkpoint into a wider model with the same outputs.")
    p.add_argument("--checkpoint", required=True, help="the model to grow (any layout checkpoints.load_tacotron2 reads)")
    p.add_argument("--out", required=True, help="where to write the wide model (hub layout, fp32); must not exist")
    p.add_argument("--config-overrides", required=True,
                   help=f"JSON object of the new sizes; fields that may grow: {', '.join(GROWABLE)}")
    p.add_argument("--seed", type=int, default=0, help="seed of the new units' random weights")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    prog = "recipes.builtin_voice.widen"
    out = Path(args.out)
    if out.exists():
        print(f"{prog}: {out} exists; choose another --out (nothing was written)", file=sys.stderr)
        return 2
    try:
        overrides = parse_json_object(args.config_overrides, "--config-overrides")
        small = load_tacotron2(args.checkpoint)
        config = Tacotron2Config.from_dict({**small.config.to_dict(), **overrides})
        wide = widen(small, config, seed=args.seed)
    except (ValueError, TypeError, OSError) as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 2
    text = torch.tensor([text_to_sequence("The birch canoe slid on the smooth planks.", ["english_cleaners"])])
    difference = max_output_difference(small, wide, text)
    try:
        save_checkpoint(wide, out, dtype=torch.float32, overwrite=False)
    except (FileExistsError, OSError) as error:
        print(f"{prog}: cannot write {out}: {error}", file=sys.stderr)
        return 1
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    print(f"wrote {out}: {count(small):,} -> {count(wide):,} parameters; largest output difference "
          f"on a check sentence {difference:.2e}")
    print(f"train it with --warm-start {out} --config-overrides '{json.dumps(config.to_dict())}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
