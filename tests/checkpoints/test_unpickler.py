"""The restricted unpickler: known WaveGlow pickles load, anything else is refused without running."""
import os
import pickle

import pytest
import torch

from checkpoints import CheckpointError, load_waveglow, restricted_load
from checkpoints.unpickler import PickledModule


class _OpenPayload:
    """Unpickling this with a normal unpickler would create ``target``."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


class _SystemPayload:
    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def _save(obj, path, legacy):
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    return path


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("payload,needle", [(_OpenPayload, "open"), (_SystemPayload, "system")])
def test_payload_is_refused_and_never_runs(tmp_path, legacy, payload, needle):
    target = tmp_path / "pwned"
    path = _save({"model": payload(target), "w": torch.ones(3)}, tmp_path / "evil.pt", legacy)
    for load in (restricted_load, load_waveglow):
        with pytest.raises(CheckpointError, match=needle) as info:
            load(path)
        assert "refused to unpickle" in str(info.value) and "asks to run code" in str(info.value)
    assert not target.exists()


def test_raw_pickle_inside_a_torch_zip_is_refused(tmp_path):
    """A hand-made archive whose data.pkl is a plain pickle with a payload."""
    import zipfile
    target = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("evil/data.pkl", pickle.dumps({"model": _OpenPayload(target)}, protocol=2))
        archive.writestr("evil/version", "3\n")
    with pytest.raises(CheckpointError, match="open"):
        restricted_load(path)
    assert not target.exists()


def test_unknown_class_is_refused(tmp_path):
    path = _save({"x": torch.nn.Linear(2, 2)}, tmp_path / "linear.pt", legacy=False)
    with pytest.raises(CheckpointError, match="torch.nn.modules.linear.Linear"):
        restricted_load(path)


@pytest.mark.parametrize("name", ["waveglow_tiny_glow_pickle.pt", "waveglow_tiny_glow_pickle_legacy.pt"])
def test_pickled_module_becomes_inert_record(golden_dir, name):
    checkpoint = restricted_load(golden_dir / name)
    model = checkpoint["model"]
    assert isinstance(model, PickledModule) and model.qualname == "glow.WaveGlow"
    assert (model.get("n_flows"), model.get("n_group"), model.get("n_early_every")) == (12, 8, 4)
    state = model.state_dict()
    assert state["upsample.weight"].shape == (8, 8, 1024)
    assert state["WN.0.cond_layer.weight_v"].shape == (3 * 2 * 16, 8 * 8, 1)


def test_zip_and_legacy_give_identical_tensors(golden_dir):
    a = restricted_load(golden_dir / "waveglow_tiny_glow_old_pickle.pt")["model"].state_dict()
    b = restricted_load(golden_dir / "waveglow_tiny_glow_old_pickle_legacy.pt")["model"].state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_plain_tensors_round_trip(tmp_path):
    """Views and shared storages come back as torch.load gives them."""
    base = torch.arange(12, dtype=torch.float32)
    obj = {"a": base, "view": base[2:8].view(2, 3), "t": base.view(3, 4).t(), "h": torch.ones(2).half()}
    for legacy in (False, True):
        loaded = restricted_load(_save(obj, tmp_path / f"plain{legacy}.pt", legacy))
        for key, value in obj.items():
            assert torch.equal(loaded[key], value) and loaded[key].dtype == value.dtype


@pytest.mark.parametrize("name", ["waveglow_tiny_glow_pickle.pt", "waveglow_tiny_glow_pickle_legacy.pt"])
@pytest.mark.parametrize("fraction", [0.3, 0.97])
def test_truncated_files_give_clear_errors(golden_dir, tmp_path, name, fraction):
    data = (golden_dir / name).read_bytes()
    path = tmp_path / name
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(CheckpointError, match="truncated|damaged|not a PyTorch checkpoint|incomplete"):
        load_waveglow(path)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        restricted_load(tmp_path / "nope.pt")
