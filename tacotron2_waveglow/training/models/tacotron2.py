"""Tacotron 2 training recipe: NVIDIA DLE defaults, text/mel data, teacher-forced loss, alignment plots."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional, Tuple

import torch

from checkpoints import load_tacotron2
from tacotron2 import Tacotron2, Tacotron2Config, Tacotron2Loss

from ..data.collate import TextMelCollate
from ..data.text_mel import TextMelDataset
from ..guided_attention import GuidedTacotron2Loss, check_attention_targets
from ..plots import save_alignment_png
from ..task import TrainingTask
from .recipe import DataSpec, ModelRecipe, merged_config_dict

#: DLE README: ``-lr 1e-3 -bs 48 --weight-decay 1e-6 --grad-clip-thresh 1.0
#: --anneal-steps 500 1000 1500 --anneal-factor 0.1 --epochs 1501``.
DEFAULTS = dict(learning_rate=1e-3, weight_decay=1e-6, grad_clip_thresh=1.0, batch_size=48,
                anneal_steps=(500, 1000, 1500), anneal_factor=0.1, epochs=1501)


def make_config(overrides: Mapping[str, Any]) -> Tacotron2Config:
    """Hub-default :class:`Tacotron2Config` with ``overrides`` applied."""
    return Tacotron2Config.from_dict(merged_config_dict(Tacotron2Config().to_dict(), overrides, "Tacotron2"))


def batch_to_device(batch: Tuple[torch.Tensor, ...], device: torch.device):
    """``TextMelCollate`` output -> model inputs, ``(mel, gate)`` targets, mel-frame count."""
    text, input_lengths, mel, gate, output_lengths, _ = batch
    text, input_lengths, output_lengths = (t.to(device, non_blocking=True).long()
                                           for t in (text, input_lengths, output_lengths))
    mel = mel.to(device, non_blocking=True).float()
    gate = gate.to(device, non_blocking=True).float()
    return (text, input_lengths, mel, output_lengths), (mel, gate), output_lengths.sum()


def batch_to_device_with_lengths(batch: Tuple[torch.Tensor, ...], device: torch.device):
    """As :func:`batch_to_device`, with targets ``(mel, gate, input_lengths, output_lengths)``, and the
    known alignment ``positions`` (B, T) fifth when the batch has one (``--attention-targets``)."""
    inputs, targets, frames = batch_to_device(batch[:6], device)
    known = (batch[6].to(device, non_blocking=True).float(),) if len(batch) > 6 else ()
    return inputs, targets + (inputs[1], inputs[3]) + known, frames


def plot_alignment(model: torch.nn.Module, inputs, output, epoch: int, output_dir: Optional[str]) -> None:
    """Save the first validation item's alignment as ``alignments/epoch_<n>.png``."""
    if output_dir:
        save_alignment_png(output.alignments[0], Path(output_dir) / "alignments" / f"epoch_{epoch:05d}.png",
                           title=f"epoch {epoch}")


def validation_media(data: DataSpec):
    """The first validation item's alignment (encoder over decoder steps) and its predicted mel as
    Griffin-Lim audio (30 iterations; no vocoder weights needed)."""
    def media(model: torch.nn.Module, inputs, output):
        from tacotron2_waveglow.synthesis.vocoders import GriffinLimVocoder

        from ..metrics import Audio, Image

        text_length, frames = int(inputs[1][0]), int(inputs[3][0])
        mel = output.mel_postnet[:1, :, :frames].detach().float().cpu()
        audio = GriffinLimVocoder(data.mels.stft, n_iters=30).waveform(mel)[0]
        return {"val/alignment": Image(output.alignments[0, :frames, :text_length].T),
                "val/audio_griffin_lim": Audio(audio, data.mels.settings.sampling_rate)}
    return media


def make_task(model: torch.nn.Module, data: DataSpec) -> TrainingTask:
    """Tacotron 2 task over ``data``'s rows; mels have ``model.config.n_mel_channels`` channels.

    With ``data.guided_attention_weight > 0`` or ``data.gate_positive_weight != 1`` the loss is
    :class:`training.guided_attention.GuidedTacotron2Loss` (opt-in; NVIDIA's loss otherwise), its
    attention term centred on ``data.attention_targets`` when given. With
    ``data.scheduled_sampling > 0`` training steps (not validation) feed the decoder its own frames
    that often (``Tacotron2.forward(feedback=...)``).
    """
    if data.guided_attention_weight < 0:
        raise ValueError(f"guided_attention_weight must be >= 0 (0 = off), got {data.guided_attention_weight!r}")
    if not 0.0 <= data.scheduled_sampling <= 1.0:
        raise ValueError(f"scheduled_sampling must be a probability in [0, 1] (0 = off), got {data.scheduled_sampling!r}")
    check_attention_targets(data.guided_attention_weight, data.attention_targets)
    guided = data.guided_attention_weight > 0 or data.gate_positive_weight != 1.0
    loss = (GuidedTacotron2Loss(data.guided_attention_weight, data.guided_attention_sigma,
                                data.gate_positive_weight, data.attention_target_sigma)
            if guided else Tacotron2Loss())

    def dataset(rows):
        return (TextMelDataset(rows, data.mels, data.text_cleaners, data.load_mel_from_disk, data.attention_targets)
                if rows else None)

    return TrainingTask(name="Tacotron2", model=model, criterion=lambda out, target: loss(out, target),
                        batch_to_device=batch_to_device_with_lengths if guided else batch_to_device,
                        train_set=dataset(data.train_rows),
                        collate_fn=TextMelCollate(model.config.n_frames_per_step), val_set=dataset(data.val_rows),
                        on_validation=plot_alignment, items_name="mel frames",
                        validation_media=validation_media(data),
                        train_kwargs={"feedback": data.scheduled_sampling} if data.scheduled_sampling > 0 else {})


RECIPE = ModelRecipe(name="Tacotron2", defaults=DEFAULTS, make_config=make_config, make_model=Tacotron2,
                     make_task=make_task, load_pretrained=load_tacotron2, require_text=True)
