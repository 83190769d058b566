"""load_tacotron2 / tacotron2_state_dict: every NVIDIA layout, and clear errors for everything else."""
import pickle
from collections import OrderedDict

import pytest
import torch

from checkpoints import CheckpointError, UnsafeCheckpointError, load_tacotron2
from checkpoints.tacotron2 import tacotron2_state_dict
from tacotron2 import Tacotron2, Tacotron2Config


def _read(golden_dir, name):
    return torch.load(golden_dir / name, weights_only=True)


@pytest.fixture(scope="module")
def ngc(golden_dir):
    return _read(golden_dir, "tacotron2_tiny_ngc.pt")


@pytest.fixture(scope="module")
def reference_state(ngc):
    return {k[len("module."):]: v for k, v in ngc["state_dict"].items()}


def _assert_weights(model, reference_state):
    state = model.state_dict()
    assert set(state) == set(reference_state)
    for key, value in reference_state.items():
        assert torch.equal(state[key], value.to(state[key].dtype)), key


@pytest.mark.parametrize("name", ["tacotron2_tiny_ngc.pt", "tacotron2_tiny_dle_train.pt"])
def test_layouts_with_config(golden_dir, name, reference_state):
    model = load_tacotron2(golden_dir / name)
    assert isinstance(model, Tacotron2) and not model.training
    assert model.config.n_mel_channels == 8
    _assert_weights(model, reference_state)


def test_fp16_hub_file_loads_into_fp32_model(golden_dir, reference_state):
    model = load_tacotron2(golden_dir / "tacotron2_tiny_ngc_fp16.pt")
    assert all(p.dtype == torch.float32 for p in model.parameters())
    for key, value in model.state_dict().items():
        if value.is_floating_point():
            assert torch.equal(value, reference_state[key].half().float()), key


@pytest.mark.parametrize("as_dict", [True, False])
def test_nvidia_repo_layout_with_given_config(golden_dir, ngc, reference_state, as_dict):
    config = ngc["config"] if as_dict else Tacotron2Config.from_dict(ngc["config"])
    model = load_tacotron2(golden_dir / "tacotron2_tiny_nvidia_repo.pt", config=config)
    assert model.config == Tacotron2Config.from_dict(ngc["config"])
    _assert_weights(model, reference_state)


def test_in_memory_dict_module_1_prefix_and_bare_state_dict(ngc, reference_state):
    prefixed = {"state_dict": {"module.1." + k: v for k, v in reference_state.items()}, "config": ngc["config"]}
    _assert_weights(load_tacotron2(prefixed), reference_state)
    bare = OrderedDict(reference_state)
    _assert_weights(load_tacotron2(bare, config=ngc["config"]), reference_state)


def test_given_config_wins_with_a_warning(ngc):
    config = dict(ngc["config"], gate_threshold=0.7, max_decoder_steps=12)
    expected = r"max_decoder_steps: file 40 -> given 12, gate_threshold: file 0\.5 -> given 0\.7"
    with pytest.warns(UserWarning, match=expected) as record:
        model = load_tacotron2(ngc, config=config)
    assert record[0].filename == __file__  # points at the caller
    with pytest.warns(UserWarning, match=expected) as record:
        tacotron2_state_dict(ngc, config=config)
    assert record[0].filename == __file__
    assert model.config.gate_threshold == 0.7 and model.config.max_decoder_steps == 12


def test_state_dict_helper_gives_canonical_keys_and_stored_dtype(golden_dir, reference_state):
    state, config = tacotron2_state_dict(golden_dir / "tacotron2_tiny_ngc_fp16.pt")
    assert set(state) == set(reference_state)
    assert state["embedding.weight"].dtype == torch.float16
    assert config.prenet_dim == 24


def test_loaded_model_round_trips_through_save(tmp_path, golden_dir, reference_state):
    from checkpoints import save_checkpoint
    model = load_tacotron2(golden_dir / "tacotron2_tiny_nvidia_repo.pt",
                           config=_read(golden_dir, "tacotron2_tiny_ngc.pt")["config"])
    path = save_checkpoint(model, tmp_path / "t2.pt")
    _assert_weights(load_tacotron2(path), reference_state)


def test_map_location_type_is_checked(ngc):
    with pytest.raises(TypeError, match="map_location"):
        load_tacotron2(ngc, map_location={"cuda:0": "cpu"})


def test_config_type_is_checked(ngc):
    with pytest.raises(TypeError, match="config"):
        load_tacotron2(ngc, config=42)


# ---- errors: each names the keys and the likely cause ----

def test_wrong_symbol_count(golden_dir, ngc):
    checkpoint = _read(golden_dir, "tacotron2_tiny_nvidia_repo.pt")
    checkpoint["state_dict"]["embedding.weight"] = torch.zeros(149, 32)
    with pytest.raises(CheckpointError) as info:
        load_tacotron2(checkpoint, config=ngc["config"])
    message = str(info.value)
    assert "mis-shaped keys (1): embedding.weight: checkpoint (149, 32) vs model (148, 32)" in message
    assert "likely cause" in message and "different symbol set" in message and "n_symbols=149" in message


def test_waveglow_file(golden_dir):
    with pytest.raises(CheckpointError) as info:
        load_tacotron2(golden_dir / "waveglow_tiny_ngc.pt")
    message = str(info.value)
    assert "missing keys" in message and "embedding.weight" in message
    assert "unexpected keys" in message and "WN.0." in message
    assert "likely cause: this is a WaveGlow checkpoint" in message and "load_waveglow" in message


def test_shapes_of_another_config(golden_dir):
    with pytest.raises(CheckpointError) as info:
        load_tacotron2(golden_dir / "tacotron2_tiny_nvidia_repo.pt")  # no config: hub defaults assumed
    message = str(info.value)
    assert "mis-shaped keys" in message and "embedding.weight: checkpoint (148, 32) vs model (148, 512)" in message
    assert "likely cause: the tensor shapes fit a different configuration" in message
    assert "n_mel_channels=8 (config: 80)" in message and "encoder_embedding_dim=32 (config: 512)" in message


def test_missing_and_unexpected_tensors_are_listed(ngc):
    state = dict(ngc["state_dict"])
    del state["module.decoder.gate_layer.linear_layer.bias"]
    state["module.decoder.extra.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError, match=r"missing keys \(1\): decoder\.gate_layer\.linear_layer\.bias"
                                              r"[\s\S]*unexpected keys \(1\): decoder\.extra\.weight"):
        load_tacotron2({"state_dict": state, "config": ngc["config"]})


def test_no_state_dict(tmp_path):
    path = tmp_path / "no_state.pt"
    torch.save({"iteration": 3, "optimizer": {"lr": 1e-3}}, path)
    with pytest.raises(CheckpointError, match=r"no 'state_dict' entry \(top-level keys: \['iteration', "
                                              r"'optimizer'\]\); likely cause: it is not a Tacotron 2"):
        load_tacotron2(path)


def test_state_dict_of_non_tensors():
    with pytest.raises(CheckpointError, match="not all tensors"):
        load_tacotron2({"state_dict": {"embedding.weight": [1, 2]}})


def test_invalid_config_in_file(ngc):
    with pytest.raises(CheckpointError, match="not a valid Tacotron 2 config.*bogus"):
        load_tacotron2({"state_dict": ngc["state_dict"], "config": dict(ngc["config"], bogus=1)})


def test_truncated_file(tmp_path, golden_dir):
    data = (golden_dir / "tacotron2_tiny_ngc.pt").read_bytes()
    path = tmp_path / "truncated.pt"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or not a PyTorch checkpoint"):
        load_tacotron2(path)


class _Arbitrary:
    """A class a safe loader must refuse to rebuild."""


def test_non_checkpoint_pickle_is_refused(tmp_path):
    path = tmp_path / "object.pt"
    with open(path, "wb") as handle:
        pickle.dump({"state_dict": _Arbitrary()}, handle, protocol=2)
    with pytest.raises(UnsafeCheckpointError, match=r"refused to unpickle test_load_tacotron2._Arbitrary: this file asks to run code"):
        load_tacotron2(path)


def test_pickled_waveglow_module_is_refused(golden_dir):
    with pytest.raises(UnsafeCheckpointError, match=r"glow\.WaveGlow[\s\S]*likely cause: this is an original "
                                                    r"NVIDIA/waveglow file[\s\S]*load_waveglow"):
        load_tacotron2(golden_dir / "waveglow_tiny_glow_pickle.pt")


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_tacotron2(tmp_path / "absent.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_tacotron2(tmp_path / "empty.pt")
