"""audio.atomic: complete-or-nothing files, the umask's permissions, full disks, leftovers of killed writers."""
from __future__ import annotations

import errno
import os
import subprocess
import sys
import time

import pytest
import torch

from audio.atomic import (STALE_SECONDS, WriteError, atomic_copy, atomic_torch_save, atomic_write,
                          atomic_write_text, remove_stale_temporaries, remove_stale_temporaries_in)


class _FullDisk:
    """A real file handle whose writes fail with ENOSPC after ``room`` bytes, as on a full file system."""

    def __init__(self, handle, room: int) -> None:
        self._handle, self._room = handle, room

    def write(self, data) -> int:
        data = bytes(data)
        if len(data) > self._room:
            self._handle.write(data[: self._room])
            self._room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()


@pytest.fixture
def full_disk(monkeypatch):
    """Make every file opened by ``os.fdopen`` (how atomic_write opens its temporary) hold only 4 KiB."""
    real = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _FullDisk(real(fd, *a, **k), 4096))


def _others(folder, keep):
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_files_get_the_umask_permissions(tmp_path, umask):
    old = os.umask(umask)
    try:
        path = atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # what open(path, "w") would give


@pytest.mark.parametrize("save", ["torch", "bytes"])
def test_full_disk_keeps_the_old_file_and_says_so_in_one_line(tmp_path, full_disk, save):
    target = tmp_path / "model.pt"
    target.write_bytes(b"previous, complete file")
    with pytest.raises(WriteError) as info:
        if save == "torch":  # torch.save turns the write failure into "unexpected pos"; we name the cause
            atomic_torch_save({"w": torch.zeros(100_000)}, target)
        else:
            atomic_write(target, lambda handle: handle.write(b"x" * 100_000))
    assert str(info.value) == f"no space left on device writing {target}; free space or choose another folder"
    assert isinstance(info.value, OSError) and info.value.errno == errno.ENOSPC
    assert target.read_bytes() == b"previous, complete file"
    assert _others(tmp_path, {"model.pt"}) == []  # no partial temporary left


def test_exception_in_writer_passes_through_and_leaves_nothing(tmp_path):
    def fail(handle):
        handle.write(b"half")
        raise KeyError("caller's own error")
    with pytest.raises(KeyError):
        atomic_write(tmp_path / "out.bin", fail)
    assert list(tmp_path.iterdir()) == []


def test_verify_refuses_before_the_rename(tmp_path):
    (tmp_path / "f").write_bytes(b"old")

    def verify(tmp):
        assert tmp.read_bytes() == b"new" and tmp.parent == tmp_path
        raise ValueError("not what we wanted")
    with pytest.raises(ValueError):
        atomic_write(tmp_path / "f", lambda h: h.write(b"new"), verify=verify)
    assert (tmp_path / "f").read_bytes() == b"old" and _others(tmp_path, {"f"}) == []


def test_no_overwrite_is_enforced_when_the_file_appears(tmp_path):
    target = tmp_path / "w.bin"

    def racing_writer(handle):  # another process creates the name while this one is writing
        target.write_bytes(b"theirs")
        handle.write(b"mine")
    with pytest.raises(FileExistsError):
        atomic_write(target, racing_writer, overwrite=False)
    assert target.read_bytes() == b"theirs" and _others(tmp_path, {"w.bin"}) == []


def test_leftovers_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    target = tmp_path / "checkpoint_latest.pt"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    dead_tmp = tmp_path / f".checkpoint_latest.pt.{dead_pid}-abc123_x.tmp"
    live_tmp = tmp_path / f".checkpoint_latest.pt.{os.getppid()}-def456.tmp"  # a running process: maybe writing
    old_style = tmp_path / ".checkpoint_latest.pt.k2j3h4.tmp"
    young_style = tmp_path / ".checkpoint_latest.pt.zz9yy8.tmp"
    other = tmp_path / ".checkpoint_latest.pt.copy.x1.tmp"  # belongs to another name (".copy" has a dot)
    for path in (dead_tmp, live_tmp, old_style, young_style, other):
        path.write_bytes(b"partial")
    stale = time.time() - STALE_SECONDS - 10
    os.utime(old_style, (stale, stale))
    atomic_torch_save({"epoch": 1}, target)
    assert not dead_tmp.exists() and not old_style.exists()
    assert live_tmp.exists() and young_style.exists() and other.exists()
    assert torch.load(target)["epoch"] == 1
    assert remove_stale_temporaries(target) == 0


def test_atomic_copy(tmp_path):
    source = tmp_path / "src.bin"
    source.write_bytes(os.urandom(3 << 20))
    assert atomic_copy(source, tmp_path / "dst.bin").read_bytes() == source.read_bytes()


def test_unwritable_folder_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(WriteError, match=r"^cannot write .*file/out.txt: "):
        atomic_write_text(blocker / "out.txt", "x")


def test_folder_wide_cleanup_for_writers_of_many_files(tmp_path):
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)
    leftovers = [tmp_path / f".LJ001-000{i}.pt.{dead}-q{i}w.tmp" for i in range(3)]
    for path in leftovers:
        path.write_bytes(b"partial mel")
    (tmp_path / "LJ001-0001.pt").write_bytes(b"a finished mel")
    assert remove_stale_temporaries_in(tmp_path) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["LJ001-0001.pt"]
