"""Is a file a complete PyTorch checkpoint? Checked without unpickling it (for the download cache)."""
from __future__ import annotations

import os
import zipfile
from typing import Union

from .errors import CheckpointError
from .limits import check_regular_file, check_zip_entries
from .unpickler import one_line, scan_legacy_storages


def check_complete(path: Union[str, os.PathLike], thorough: bool = False) -> None:
    """Raise a one-line :class:`CheckpointError` unless ``path`` is a whole zip or legacy torch checkpoint.

    A zip archive needs its central directory (which a truncated download
    lacks), a ``data.pkl`` and sane declared sizes; ``thorough`` also reads
    every entry against its CRC (in chunks, so memory stays small). A legacy
    file must hold every storage its pickle declares. Nothing is unpickled
    beyond the legacy storage scan, which builds no objects and runs no code.
    """
    path = check_regular_file(path)
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                check_zip_entries(archive, path)
                if not any(name.endswith("data.pkl") for name in archive.namelist()):
                    raise CheckpointError(f"{str(path)!r} is a zip archive without data.pkl: not a PyTorch checkpoint")
                damaged = archive.testzip() if thorough else None
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise CheckpointError(f"{str(path)!r} is a damaged zip archive ({one_line(exc)})") from exc
        if damaged is not None:
            raise CheckpointError(f"{str(path)!r} is damaged: zip entry {damaged} fails its CRC check")
        return
    if not scan_legacy_storages(path):
        raise CheckpointError(f"{str(path)!r} is truncated or not a PyTorch checkpoint (neither a complete zip "
                              "archive nor a complete legacy file)")
