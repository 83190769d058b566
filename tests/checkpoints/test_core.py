"""Safe reading, key clean-up, checked state-dict loading and atomic saving."""
import os
import pickle

import pytest
import torch

from audio.atomic import atomic_torch_save
from checkpoints.errors import CheckpointError, UnsafeCheckpointError
from checkpoints.read import read_checkpoint
from checkpoints.state_dict import compare_state_dict, load_state_dict_checked, strip_prefixes


class _Toy(torch.nn.Module):
    def __init__(self, n_in=3, n_out=2):
        super().__init__()
        self.linear = torch.nn.Linear(n_in, n_out)
        self.norm = torch.nn.BatchNorm1d(n_out)


class _Payload:
    """Unpickling this would create a file: the safe reader must refuse it."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_read_checkpoint_returns_mapping_and_passes_dicts_through(tmp_path):
    sd = {"state_dict": {"w": torch.ones(2)}}
    path = tmp_path / "ok.pt"
    torch.save(sd, path)
    loaded = read_checkpoint(path)
    assert torch.equal(loaded["state_dict"]["w"], torch.ones(2))
    assert read_checkpoint(sd) is sd


@pytest.mark.parametrize("make,needle", [
    (lambda p: None, "not found"),
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_bytes(b"this is not a checkpoint"), "not a PyTorch checkpoint"),
])
def test_read_checkpoint_errors(tmp_path, make, needle):
    path = tmp_path / "bad.pt"
    make(path)
    with pytest.raises(CheckpointError, match=needle):
        read_checkpoint(path)


def test_read_checkpoint_truncated(tmp_path):
    good = tmp_path / "good.pt"
    torch.save({"state_dict": {"w": torch.randn(100, 100)}}, good)
    data = good.read_bytes()
    bad = tmp_path / "truncated.pt"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        read_checkpoint(bad)


def test_read_checkpoint_refuses_code_and_runs_none(tmp_path):
    target = tmp_path / "pwned.txt"
    path = tmp_path / "evil.pt"
    torch.save({"x": _Payload(str(target))}, path, pickle_module=pickle)
    assert not target.exists()
    with pytest.raises(UnsafeCheckpointError, match="io.open") as info:
        read_checkpoint(path)
    assert info.value.global_name == "io.open"
    assert not target.exists()


def test_read_checkpoint_rejects_non_mapping(tmp_path):
    path = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), path)
    with pytest.raises(CheckpointError, match="Tensor"):
        read_checkpoint(path)


@pytest.mark.parametrize("prefix", ["module.", "module.1."])
def test_strip_prefixes(prefix):
    sd = {prefix + "a.weight": torch.zeros(1), prefix + "b.bias": torch.zeros(1)}
    assert set(strip_prefixes(sd)) == {"a.weight", "b.bias"}


def test_strip_prefixes_leaves_mixed_keys_alone():
    sd = {"module.a": torch.zeros(1), "b": torch.zeros(1)}
    assert strip_prefixes(sd) == sd


def test_load_checked_casts_fp16_and_tolerates_num_batches_tracked():
    src = _Toy()
    sd = {k: v.half() if v.is_floating_point() else v for k, v in src.state_dict().items()}
    del sd["norm.num_batches_tracked"]
    dst = load_state_dict_checked(_Toy(), sd, "Toy")
    assert dst.linear.weight.dtype == torch.float32
    assert torch.equal(dst.linear.weight, src.linear.weight.half().float())


def test_load_checked_lists_every_problem_and_the_hint():
    sd = dict(_Toy(n_in=4).state_dict())
    sd["extra.weight"] = torch.zeros(1)
    del sd["norm.bias"]

    def hint(mismatch, given):
        return "input width differs" if any(k == "linear.weight" for k, *_ in mismatch.mis_shaped) else None

    with pytest.raises(CheckpointError) as info:
        load_state_dict_checked(_Toy(n_in=3), sd, "Toy", hints=[lambda m, g: None, hint])
    message = str(info.value)
    assert "missing keys (1): norm.bias" in message
    assert "unexpected keys (1): extra.weight" in message
    assert "linear.weight: checkpoint (2, 4) vs model (2, 3)" in message
    assert "likely cause: input width differs" in message


def test_compare_state_dict_is_empty_for_identical():
    sd = _Toy().state_dict()
    assert not compare_state_dict(sd, sd)


def test_atomic_save_replaces_whole_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "sub" / "ckpt.pt"
    atomic_torch_save({"v": torch.ones(1)}, path)
    atomic_torch_save({"v": torch.full((1,), 2.0)}, path)
    assert torch.load(path, weights_only=True)["v"].item() == 2.0
    assert os.listdir(path.parent) == ["ckpt.pt"]


def test_atomic_save_failure_keeps_old_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    atomic_torch_save({"v": torch.ones(1)}, path)

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("cannot pickle")

    with pytest.raises(RuntimeError):
        atomic_torch_save({"v": Unpicklable()}, path)
    assert torch.load(path, weights_only=True)["v"].item() == 1.0
    assert os.listdir(tmp_path) == ["ckpt.pt"]


def test_atomic_write_text_round_trips_unicode(tmp_path):
    from audio.atomic import atomic_write_text

    path = atomic_write_text(tmp_path / "a.txt", "naïve — ok\n")
    assert path.read_text(encoding="utf-8") == "naïve — ok\n"
