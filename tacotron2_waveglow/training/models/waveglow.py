"""WaveGlow training recipe: NVIDIA DLE defaults, random audio segments, flow log-likelihood loss."""
from __future__ import annotations

from typing import Any, Mapping, Tuple

import torch

from checkpoints import load_waveglow
from waveglow import WaveGlow, WaveGlowConfig, WaveGlowLoss

from ..data.collate import collate_mel_audio
from ..data.mel_audio import MelAudioDataset
from ..task import TrainingTask
from .recipe import DataSpec, ModelRecipe, merged_config_dict

#: DLE README: ``-lr 1e-4 -bs 4 --segment-length 8000 --weight-decay 0
#: --grad-clip-thresh 3.4028234663852886e+38 --epochs 1001`` (no clipping in effect).
DEFAULTS = dict(learning_rate=1e-4, weight_decay=0.0, grad_clip_thresh=3.4028234663852886e38, batch_size=4,
                anneal_steps=(), anneal_factor=0.1, epochs=1001)


def make_config(overrides: Mapping[str, Any]) -> WaveGlowConfig:
    """Hub-default :class:`WaveGlowConfig` with ``overrides`` applied (``WN_config`` merged)."""
    return WaveGlowConfig.from_dict(merged_config_dict(WaveGlowConfig().to_dict(), overrides, "WaveGlow"))


def batch_to_device(batch: Tuple[torch.Tensor, ...], device: torch.device):
    """``collate_mel_audio`` output -> ``(mel, audio)`` inputs, no targets, audio-sample count."""
    mel, audio, _ = batch
    mel = mel.to(device, non_blocking=True).float()
    audio = audio.to(device, non_blocking=True).float()
    return (mel, audio), None, torch.tensor(audio.numel())


def validation_media(data: DataSpec):
    """WaveGlow's audio (sigma 0.6) for the first validation item's mel segment."""
    def media(model: torch.nn.Module, inputs, output):
        from ..metrics import Audio

        audio = model.infer(inputs[0][:1].float(), sigma=0.6)[0]
        return {"val/audio": Audio(audio, data.mels.settings.sampling_rate)}
    return media


def make_task(model: torch.nn.Module, data: DataSpec) -> TrainingTask:
    """WaveGlow task: ``data.segment_length``-sample segments, loss with ``data.sigma``."""
    loss = WaveGlowLoss(sigma=data.sigma)

    def dataset(rows):
        return MelAudioDataset(rows, data.mels, data.segment_length, seed=data.seed) if rows else None

    return TrainingTask(name="WaveGlow", model=model, criterion=lambda out, _: loss(out),
                        batch_to_device=batch_to_device, train_set=dataset(data.train_rows),
                        collate_fn=collate_mel_audio, val_set=dataset(data.val_rows), items_name="samples",
                        validation_media=validation_media(data))


RECIPE = ModelRecipe(name="WaveGlow", defaults=DEFAULTS, make_config=make_config, make_model=WaveGlow,
                     make_task=make_task, load_pretrained=load_waveglow, require_text=False)
