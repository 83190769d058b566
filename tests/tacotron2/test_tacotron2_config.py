"""Tacotron2Config: NVIDIA field names, hub defaults, validation."""
import dataclasses

import pytest

from tacotron2 import Tacotron2Config
from tacotron2.config import MAX_FRAMES_PER_STEP

# The hub model's hyperparameters, as listed by NVIDIA's DLE README / torch.hub entrypoint.
HUB = dict(mask_padding=True, n_mel_channels=80, n_symbols=148, symbols_embedding_dim=512, encoder_kernel_size=5,
           encoder_n_convolutions=3, encoder_embedding_dim=512, attention_rnn_dim=1024, attention_dim=128,
           attention_location_n_filters=32, attention_location_kernel_size=31, n_frames_per_step=1,
           decoder_rnn_dim=1024, prenet_dim=256, max_decoder_steps=1000, gate_threshold=0.5,
           p_attention_dropout=0.1, p_decoder_dropout=0.1, postnet_embedding_dim=512, postnet_kernel_size=5,
           postnet_n_convolutions=5, decoder_no_early_stopping=False)


def test_defaults_are_the_hub_hyperparameters():
    assert Tacotron2Config().to_dict() == HUB


def test_to_dict_has_exactly_the_keys_of_an_nvidia_checkpoint_config(golden_config):
    assert set(Tacotron2Config().to_dict()) == set(golden_config)
    assert len(Tacotron2Config().to_dict()) == 22


def test_from_dict_round_trip(golden_config):
    config = Tacotron2Config.from_dict(golden_config)
    assert config.to_dict() == golden_config
    assert Tacotron2Config.from_dict(config.to_dict()) == config


def test_from_dict_rejects_unknown_keys_naming_them():
    with pytest.raises(ValueError, match="n_flows"):
        Tacotron2Config.from_dict({"n_flows": 12, "n_mel_channels": 80})


def test_from_dict_rejects_non_mapping():
    with pytest.raises(TypeError, match="list"):
        Tacotron2Config.from_dict([("n_mel_channels", 80)])


def test_frozen_and_replace():
    config = Tacotron2Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.n_mel_channels = 10
    assert config.replace(max_decoder_steps=7).max_decoder_steps == 7
    assert config.max_decoder_steps == 1000


@pytest.mark.parametrize("field, value", [
    ("n_mel_channels", 0), ("n_symbols", -1), ("prenet_dim", 2.5), ("attention_dim", True),
    ("encoder_kernel_size", 4), ("postnet_kernel_size", 2), ("attention_location_kernel_size", 30),
    ("p_attention_dropout", 1.0), ("p_decoder_dropout", -0.1), ("gate_threshold", 1.5),
    ("mask_padding", 1), ("decoder_no_early_stopping", "no"), ("max_decoder_steps", 0),
    ("postnet_n_convolutions", 1),
])
def test_invalid_field_raises_value_error_naming_it(field, value):
    with pytest.raises(ValueError, match=field):
        Tacotron2Config(**{field: value})


def test_too_many_frames_per_step_are_rejected_clearly():
    assert Tacotron2Config(n_frames_per_step=MAX_FRAMES_PER_STEP).n_frames_per_step == MAX_FRAMES_PER_STEP
    with pytest.raises(ValueError, match=f"n_frames_per_step={MAX_FRAMES_PER_STEP + 1}"):
        Tacotron2Config(n_frames_per_step=MAX_FRAMES_PER_STEP + 1)


def test_embedding_sizes_must_agree():
    with pytest.raises(ValueError, match="encoder_embedding_dim"):
        Tacotron2Config(encoder_embedding_dim=256)


def test_differences_lists_changed_fields():
    a, b = Tacotron2Config(), Tacotron2Config(n_mel_channels=40, gate_threshold=0.6)
    assert a.differences(b) == {"n_mel_channels": (80, 40), "gate_threshold": (0.5, 0.6)}
