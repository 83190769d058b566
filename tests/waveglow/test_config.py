"""WaveGlowConfig: NVIDIA field names, dict round trip, validation."""
import pytest

from waveglow import WaveGlowConfig, WNConfig

HUB_DEFAULTS = {"n_mel_channels": 80, "n_flows": 12, "n_group": 8, "n_early_every": 4, "n_early_size": 2,
                "WN_config": {"n_layers": 8, "kernel_size": 3, "n_channels": 512}}


def test_defaults_are_the_hub_model():
    assert WaveGlowConfig().to_dict() == HUB_DEFAULTS


def test_original_repo_preset_has_256_channels():
    assert WaveGlowConfig.original_256().WN_config == WNConfig(8, 3, 256)


def test_from_dict_round_trip_and_nested_wn():
    config = WaveGlowConfig.from_dict(HUB_DEFAULTS)
    assert isinstance(config.WN_config, WNConfig)
    assert WaveGlowConfig.from_dict(config.to_dict()) == config


def test_alternate_halves_only_written_when_set():
    config = WaveGlowConfig(alternate_halves=True)
    assert config.to_dict()["alternate_halves"] is True
    assert WaveGlowConfig.from_dict(config.to_dict()) == config


def test_remaining_channels_match_reference_construction():
    config = WaveGlowConfig()
    assert [config.flow_channels(k) for k in range(12)] == [8] * 4 + [6] * 4 + [4] * 4
    assert config.n_remaining_channels == 4


@pytest.mark.parametrize("changes,field", [
    ({"n_group": 7}, "n_group"),
    ({"n_early_size": 3}, "n_early_size"),
    ({"n_flows": 0}, "n_flows"),
    ({"n_group": 4, "n_early_every": 1}, "n_group"),
])
def test_invalid_values_name_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        WaveGlowConfig(**changes)


def test_wn_validation_and_unknown_keys():
    with pytest.raises(ValueError, match="kernel_size"):
        WNConfig(kernel_size=2)
    with pytest.raises(ValueError, match="n_channels"):
        WNConfig(n_channels=5)
    with pytest.raises(TypeError, match="n_layers"):
        WNConfig(n_layers=2.0)
    with pytest.raises(ValueError, match="bogus"):
        WaveGlowConfig.from_dict({**HUB_DEFAULTS, "bogus": 1})
    with pytest.raises(ValueError, match="dilation"):
        WaveGlowConfig.from_dict({**HUB_DEFAULTS, "WN_config": {"n_layers": 2, "dilation": 2}})
