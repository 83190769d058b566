"""Turn a trained Tacotron 2 that predicts one frame per decoder step into one that predicts ``r``.

    python -m recipes.builtin_voice.regroup --checkpoint VOICE.pt --out VOICE_R2.pt --frames-per-step 2

The built-in voice reads the teacher's frames far better than its own
(docs/voice.md: the exposure gap); with a reduction factor ``r`` (the original
Tacotron's, ``n_frames_per_step`` here) a sentence takes ``r`` times fewer
steps fed on the model's own output. Training the grouped model from scratch
would throw away the alignment the voice took thousands of steps to learn, so
the grouped model starts from the trained one:

* every tensor whose shape does not depend on ``r`` is copied;
* the prenet's first layer reads the ``r`` frames of the previous step; it
  gets the old weights on the last of them and zeros on the others, so the
  prenet sees exactly what the one-frame model saw (its previous frame);
* the projection predicts each of the ``r`` frames with the old projection,
  so at first all ``r`` frames of a step are the old model's one frame.

The first step of the grouped model therefore equals the old model's first
step (``r`` copies of its frame, the same gate and alignment); later steps
differ because the grouped model steps through time ``r`` times as fast.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Dict, Optional, Sequence

import torch

from checkpoints import load_tacotron2, save_checkpoint
from tacotron2 import Tacotron2

#: Tensors whose shape depends on ``n_frames_per_step``, and how each is regrouped.
PRENET_INPUT = "decoder.prenet.layers.0.linear_layer.weight"
PROJECTION = ("decoder.linear_projection.linear_layer.weight", "decoder.linear_projection.linear_layer.bias")


def regroup(model: Tacotron2, frames_per_step: int) -> Tacotron2:
    """A :class:`Tacotron2` predicting ``frames_per_step`` frames per step, started from ``model`` (one
    frame per step) as the module doc says; in ``model``'s training mode.

    Raises:
        ValueError: ``model`` already predicts more than one frame per step, or ``frames_per_step`` is
            not a valid ``n_frames_per_step``.
    """
    if model.config.n_frames_per_step != 1:
        raise ValueError(f"the model already predicts {model.config.n_frames_per_step} frames per step; "
                         "regroup a model with n_frames_per_step=1")
    config = dataclasses.replace(model.config, n_frames_per_step=frames_per_step)
    grouped = Tacotron2(config)
    state = model.state_dict()
    out: Dict[str, torch.Tensor] = {key: value.clone() for key, value in state.items()}
    prenet = state[PRENET_INPUT]  # (prenet_dim, n_mels)
    out[PRENET_INPUT] = torch.cat([torch.zeros_like(prenet)] * (frames_per_step - 1) + [prenet], dim=1)
    for key in PROJECTION:  # (n_mels, ...) -> (r * n_mels, ...), frame-major
        out[key] = state[key].repeat((frames_per_step,) + (1,) * (state[key].dim() - 1))
    grouped.load_state_dict(out)
    return grouped.train(model.training)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m recipes.builtin_voice.regroup",
                                description="Make a one-frame-per-step Tacotron 2 checkpoint predict r frames "
                                            "per step, starting from its weights.")
    p.add_argument("--checkpoint", required=True, help="the model (any layout checkpoints.load_tacotron2 reads)")
    p.add_argument("--out", required=True, help="where to write the grouped model (hub layout, fp32); must not exist")
    p.add_argument("--frames-per-step", type=int, required=True, help="r, the new n_frames_per_step (2 or more)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    prog = "recipes.builtin_voice.regroup"
    out = Path(args.out)
    if out.exists():
        print(f"{prog}: {out} exists; choose another --out (nothing was written)", file=sys.stderr)
        return 2
    if args.frames_per_step < 2:
        print(f"{prog}: --frames-per-step must be at least 2, got {args.frames_per_step}", file=sys.stderr)
        return 2
    try:
        grouped = regroup(load_tacotron2(args.checkpoint), args.frames_per_step)
    except (ValueError, TypeError, OSError) as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 2
    try:
        save_checkpoint(grouped, out, dtype=torch.float32, overwrite=False)
    except (FileExistsError, OSError) as error:
        print(f"{prog}: cannot write {out}: {error}", file=sys.stderr)
        return 1
    print(f"wrote {out}: {args.frames_per_step} frames per decoder step")
    print(f"train it with --warm-start {out} --config-overrides '{json.dumps(grouped.config.to_dict())}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
