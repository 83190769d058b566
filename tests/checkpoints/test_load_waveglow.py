"""load_waveglow over every layout, key conversion, errors, and conversion to the hub layout."""
import pytest
import torch

from checkpoints import CheckpointError, convert_checkpoint, load_waveglow, save_checkpoint, to_hub_layout
from checkpoints.waveglow import infer_config, split_fused_cond, to_hub_keys
from tests.waveglow.tiny import no_onednn  # noqa: F401  (autouse fixture)
from waveglow import WaveGlowConfig, WNConfig

SMALL_WRONG = WaveGlowConfig(n_mel_channels=8, WN_config=WNConfig(n_layers=3, kernel_size=3, n_channels=32))


@pytest.fixture(scope="module")
def hub(golden_dir):
    return torch.load(golden_dir / "waveglow_tiny_ngc.pt", weights_only=True)


@pytest.fixture(scope="module")
def reference(golden_dir):
    """Outputs of the hub file with fixed latent noise: every layout of the same weights must match."""
    model = load_waveglow(golden_dir / "waveglow_tiny_ngc.pt")
    mel = torch.randn(1, 8, 2, generator=torch.Generator().manual_seed(0))
    z = torch.randn(1, 8, 64, generator=torch.Generator().manual_seed(1))
    return mel, z, model.infer(mel, sigma=0.8, z=z), model.state_dict()


def _check(model, reference, atol=1e-6):
    mel, z, audio, _ = reference
    assert not model.training
    torch.testing.assert_close(model.infer(mel, sigma=0.8, z=z), audio, atol=atol, rtol=0)


def _plain(state):
    return {k[len("module."):]: v for k, v in state.items()}


def test_dle_training_checkpoint(hub, reference):
    checkpoint = {"epoch": 3, "config": hub["config"], "state_dict": _plain(hub["state_dict"]),
                  "optimizer": {"state": {}, "param_groups": []}, "scaler": {"scale": 1.0},
                  "random_rng_state": torch.get_rng_state()}
    _check(load_waveglow(checkpoint), reference)


def test_parametrization_keys(hub, reference):
    renamed = {k.replace(".weight_g", ".parametrizations.weight.original0")
               .replace(".weight_v", ".parametrizations.weight.original1"): v
               for k, v in _plain(hub["state_dict"]).items()}
    _check(load_waveglow({"state_dict": renamed, "config": hub["config"]}), reference)


def test_folded_weights_without_config(hub, reference):
    model = load_waveglow(hub).remove_weightnorm()
    folded = model.state_dict()
    assert not any(k.endswith("weight_g") for k in folded)
    loaded = load_waveglow({"state_dict": folded})
    _check(loaded, reference, atol=1e-5)


def test_fused_cond_layer_split_is_exact(reference):
    _, _, _, state = reference
    fused = dict(state)
    for name in ("weight_g", "weight_v", "bias"):
        parts = [fused.pop(f"WN.0.cond_layers.{i}.{name}") for i in range(3)]
        fused[f"WN.0.cond_layer.{name}"] = torch.cat(parts, 0)
    split = split_fused_cond(fused)
    assert all(torch.equal(split[k], state[k]) for k in state)


def test_config_inferred_from_shapes(reference):
    config = infer_config(to_hub_keys(reference[3]))
    assert config.to_dict() == {"n_mel_channels": 8, "n_flows": 12, "n_group": 8, "n_early_every": 4,
                                "n_early_size": 2, "WN_config": {"n_layers": 3, "kernel_size": 3, "n_channels": 16}}


def test_tacotron2_file_is_named(golden_dir):
    with pytest.raises(CheckpointError, match="Tacotron 2"):
        load_waveglow(golden_dir / "tacotron2_tiny_ngc.pt")
    with pytest.raises(CheckpointError, match="load_tacotron2"):
        load_waveglow(golden_dir / "tacotron2_tiny_ngc.pt", config=SMALL_WRONG)


def test_wrong_config_lists_mis_shaped_keys(hub):
    with pytest.raises(CheckpointError, match="mis-shaped keys.*WN.0") as info:
        load_waveglow(hub, config=SMALL_WRONG)
    assert "config=None" in str(info.value)


def test_missing_tensor_is_listed(hub):
    state = dict(hub["state_dict"])
    del state["module.WN.3.end.bias"]
    with pytest.raises(CheckpointError, match="WN.3.end.bias"):
        load_waveglow({"state_dict": state, "config": hub["config"]})


def test_map_location_and_dtype_of_fp16_file(golden_dir):
    model = load_waveglow(golden_dir / "waveglow_tiny_ngc_fp16.pt", map_location="cpu")
    assert all(p.dtype == torch.float32 and p.device.type == "cpu" for p in model.parameters())


@pytest.mark.parametrize("name", ["waveglow_tiny_ngc.pt", "waveglow_tiny_glow_pickle_legacy.pt"])
def test_convert_to_hub_layout_round_trip(golden_dir, tmp_path, hub, reference, name):
    out = convert_checkpoint(golden_dir / name, tmp_path / "hub.pt")
    converted = torch.load(out, weights_only=True)
    assert converted["config"] == hub["config"]
    assert set(converted["state_dict"]) == set(_plain(hub["state_dict"]))  # DLE's strict key set
    mel, z = reference[0], reference[1]
    direct = load_waveglow(golden_dir / name).infer(mel, sigma=0.8, z=z)
    torch.testing.assert_close(load_waveglow(out).infer(mel, sigma=0.8, z=z), direct, atol=0, rtol=0)


def test_convert_fp16_and_glow_old_flag(golden_dir):
    converted = to_hub_layout(golden_dir / "waveglow_tiny_glow_old_pickle.pt", dtype=torch.float16)
    assert converted["config"]["alternate_halves"] is True
    assert all(v.dtype == torch.float16 for v in converted["state_dict"].values())
    assert load_waveglow(converted).config.alternate_halves


def test_save_checkpoint_loads_back(tmp_path, reference, hub):
    model = load_waveglow(hub)
    path = save_checkpoint(model, tmp_path / "saved.pt")
    _check(load_waveglow(path), reference)
