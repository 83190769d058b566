"""checkpoints.limits: sizes, views and configs checked before anything large is allocated."""
from __future__ import annotations

import io
import os
import pickle
import zipfile

import pytest
import torch

from checkpoints import CheckpointError, load_tacotron2, load_waveglow, restricted_load
from checkpoints.__main__ import main
from checkpoints.convert import convert_checkpoint
from checkpoints.limits import (WAVEGLOW_LIMITS, ZIP_EXPANSION_LIMIT, check_config_bounds, check_regular_file,
                                check_tensor_views)
from checkpoints.read import read_checkpoint


def _hub(golden_dir, name="waveglow_tiny_ngc.pt"):
    return torch.load(golden_dir / name, weights_only=True)


# --- what a path names ---------------------------------------------------------------------------------

def test_non_regular_files_get_their_own_message(tmp_path):
    os.mkfifo(tmp_path / "pipe.pt")
    (tmp_path / "zero.pt").symlink_to("/dev/zero")
    (tmp_path / "dangling.pt").symlink_to(tmp_path / "nowhere.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    cases = {tmp_path: "is a directory", tmp_path / "pipe.pt": "is a FIFO",
             tmp_path / "zero.pt": r"is a device \(through a symbolic link\)",
             tmp_path / "dangling.pt": "broken symbolic link", tmp_path / "empty.pt": "is empty",
             tmp_path / "missing.pt": "not found"}
    for path, message in cases.items():  # a FIFO is never opened (this would block), /dev/zero never read
        for check in (check_regular_file, read_checkpoint, restricted_load, load_waveglow, load_tacotron2):
            with pytest.raises(CheckpointError, match=message):
                check(path)


# --- zip archives ----------------------------------------------------------------------------------------

def test_zip_bomb_is_refused_from_the_declared_sizes(tmp_path, golden_dir, monkeypatch):
    buffer = io.BytesIO()
    torch.save({**_hub(golden_dir), "padding": torch.zeros(4 << 20)}, buffer)
    bomb = tmp_path / "bomb.pt"
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info.filename, source.read(info))
    declared = max(info.file_size for info in zipfile.ZipFile(bomb).infolist())
    assert declared > ZIP_EXPANSION_LIMIT * bomb.stat().st_size  # the file really is a bomb by the rule

    def never(*args, **kwargs):
        raise AssertionError("an entry was decompressed before the sizes were checked")
    monkeypatch.setattr(zipfile.ZipFile, "open", never)
    monkeypatch.setattr(zipfile.ZipFile, "read", never)
    for load in (read_checkpoint, restricted_load, load_waveglow):
        with pytest.raises(CheckpointError, match="zip bomb"):
            load(bomb)


def test_storage_entry_of_the_wrong_declared_size_is_refused_before_reading(tmp_path, golden_dir):
    buffer = io.BytesIO()
    torch.save({"model": torch.ones(10)}, buffer)
    damaged = tmp_path / "short.pt"
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(damaged, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            out.writestr(info.filename, data[:8] if "/data/" in info.filename else data)
    with pytest.raises(CheckpointError, match=r"declares 8 bytes, expected 40"):
        restricted_load(damaged)


# --- views -----------------------------------------------------------------------------------------------

def test_stride0_view_is_refused_in_every_reader(tmp_path, golden_dir):
    hub = _hub(golden_dir, "tacotron2_tiny_ngc.pt")
    key = next(k for k in hub["state_dict"] if k.endswith("embedding.weight"))
    hub["state_dict"][key] = torch.zeros(1, 64).expand(20_000_000, 64)  # 5 GB claimed from 256 bytes
    hub["config"] = {**hub["config"], "n_symbols": 20_000_000, "symbols_embedding_dim": 64}
    for legacy in (False, True):
        path = tmp_path / f"stride0-{legacy}.pt"
        torch.save(hub, path, _use_new_zipfile_serialization=not legacy)
        for load in (read_checkpoint, restricted_load, load_tacotron2):
            with pytest.raises(CheckpointError, match="stride-0 or overlapping view"):
                load(path)
    with pytest.raises(CheckpointError, match="stride-0"):
        load_tacotron2(hub)  # an in-memory dict is checked too


def test_views_within_their_storage_pass_and_sharing_is_bounded():
    base = torch.arange(12.0)
    check_tensor_views({"a": base, "b": base[2:6], "c": base.view(3, 4).t()}, "test")
    with pytest.raises(CheckpointError, match="views of shared storage"):
        check_tensor_views({f"t{i}": base for i in range(200_000)}, "test")


# --- legacy files ----------------------------------------------------------------------------------------

def _without_storage_data(path, padding: int) -> None:
    """Cut a legacy file after its pickle, list no storages, append ``padding`` bytes."""
    data = path.read_bytes()
    stream = io.BytesIO(data)
    for _ in range(3):
        pickle.load(stream)

    class Walk(pickle.Unpickler):
        def find_class(self, module, name):
            return lambda *a, **k: None

        def persistent_load(self, pid):
            return None
    Walk(stream).load()
    path.write_bytes(data[: stream.tell()] + pickle.dumps([], protocol=2) + b"\0" * padding)


@pytest.mark.parametrize("padding", [0, 1 << 16])
def test_legacy_storages_never_filled_are_refused(tmp_path, padding):
    path = tmp_path / "unfilled.pt"
    torch.save({"state_dict": {"w": torch.ones(1000)}}, path, _use_new_zipfile_serialization=False)
    _without_storage_data(path, padding)
    for load in (read_checkpoint, restricted_load):
        with pytest.raises(CheckpointError, match="never contains|more than the file holds"):
            load(path)


# --- configs ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change,message", [
    ({"n_group": 60000}, "n_group=60000 is outside"), ({"n_mel_channels": "80"}, "not a number"),
    ({"WN_config": {"n_layers": 2, "kernel_size": 3, "n_channels": 10 ** 7}}, "n_channels=10000000"),
])
def test_waveglow_config_out_of_bounds_is_refused_before_building(golden_dir, change, message):
    hub = _hub(golden_dir)
    with pytest.raises(CheckpointError, match=message):
        load_waveglow({**hub, "config": {**hub["config"], **change}})
    with pytest.raises(CheckpointError, match=message):
        load_waveglow(hub, config={**hub["config"], **change})


def test_config_bounds_accept_nvidia_values():
    check_config_bounds({"n_mel_channels": 80, "n_flows": 12, "n_group": 8, "n_early_every": 4, "n_early_size": 2,
                         "WN_config": {"n_layers": 8, "kernel_size": 3, "n_channels": 512}}, WAVEGLOW_LIMITS, "WaveGlow")


# --- messages of the command line ----------------------------------------------------------------------

class _Eval:
    def __reduce__(self):
        return eval, ("1 + 1",)


def test_inspect_prints_the_size_and_fails_on_a_refused_global(tmp_path, golden_dir, capsys):
    assert main(["inspect", str(golden_dir / "waveglow_tiny_ngc.pt")]) == 0
    size = (golden_dir / "waveglow_tiny_ngc.pt").stat().st_size
    assert f"size:        {size} bytes" in capsys.readouterr().out
    evil = tmp_path / "eval.pt"
    with open(evil, "wb") as handle:
        pickle.dump({"model": _Eval()}, handle, protocol=2)
    assert main(["inspect", str(evil)]) == 2
    captured = capsys.readouterr()
    assert "original NVIDIA/waveglow" not in captured.out
    assert captured.err.count("\n") == 1 and "refused to unpickle builtins.eval: this file asks to run code" in captured.err


def test_convert_never_replaces_a_file_that_appears_meanwhile(tmp_path, golden_dir, monkeypatch):
    target = tmp_path / "out.pt"
    import checkpoints.convert as convert

    real = convert.to_hub_layout

    def slow_conversion(*args, **kwargs):  # another process writes the output while we convert
        result = real(*args, **kwargs)
        target.write_bytes(b"someone else's")
        return result
    monkeypatch.setattr(convert, "to_hub_layout", slow_conversion)
    with pytest.raises(FileExistsError):
        convert_checkpoint(golden_dir / "waveglow_tiny_ngc.pt", target, overwrite=False)
    assert target.read_bytes() == b"someone else's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.pt"]
