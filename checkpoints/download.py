"""Download published checkpoints once into a local cache, completely or not at all.

The cache folder is, in order of precedence: the ``cache_dir`` argument, the
``TACOTRON2_CHECKPOINT_DIR`` environment variable, ``torch.hub.get_dir()/checkpoints``
(the folder NVIDIA's own hub entry points use, so files already fetched by
``torch.hub.load('NVIDIA/DeepLearningExamples:torchhub', ...)`` are reused).

Air-gapped sites can set ``TACOTRON2_CHECKPOINT_MIRROR`` to a base URL
(``https://``, ``http://`` or ``file://``) that serves the files under their
cache names; it replaces NVIDIA's URLs.

A download is written to a temporary file next to its final name and renamed
only after it is complete (as many bytes as the server announced, and as the
registry's size when known), its SHA-256 matches when the registry knows it,
and it reads as a whole PyTorch checkpoint (:func:`checkpoints.verify.check_complete`:
a server that closes early without a ``Content-Length``, or announces too
few bytes, is caught here). An interrupted or refused download leaves
nothing under the final name. A cached file that turns out damaged is
reported with the command that replaces it (``python -m checkpoints download NAME --force``).
"""
from __future__ import annotations

import hashlib
import http.client
import os
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO, Optional, Union

import torch
from tqdm import tqdm

from audio.atomic import atomic_write
from .errors import CheckpointError
from .registry import PretrainedFile, get_pretrained_file
from .verify import check_complete

CACHE_ENV_VAR = "TACOTRON2_CHECKPOINT_DIR"
MIRROR_ENV_VAR = "TACOTRON2_CHECKPOINT_MIRROR"
CHUNK_BYTES = 1 << 20


class DownloadError(OSError):
    """A checkpoint could not be downloaded; the message says where to put it by hand."""


def default_cache_dir() -> Path:
    """``$TACOTRON2_CHECKPOINT_DIR`` if set, else ``torch.hub.get_dir()/checkpoints``."""
    env = os.environ.get(CACHE_ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_path(entry: Union[str, PretrainedFile], cache_dir: Optional[Union[str, os.PathLike]] = None) -> Path:
    """Where ``entry`` (a registry name or entry) lives in the cache, downloaded or not."""
    entry = get_pretrained_file(entry) if isinstance(entry, str) else entry
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return folder / entry.filename


def source_url(entry: PretrainedFile) -> str:
    """``entry.url``, or ``$TACOTRON2_CHECKPOINT_MIRROR/<filename>`` when the mirror variable is set."""
    mirror = os.environ.get(MIRROR_ENV_VAR)
    return f"{mirror.rstrip('/')}/{entry.filename}" if mirror else entry.url


def _manual_hint(entry: PretrainedFile, path: Path) -> str:
    where = entry.page or source_url(entry)
    flag = "--tacotron2" if entry.model == "tacotron2" else "--waveglow"
    return (f"download it by hand from {where} and place it at {path}, "
            f"or pass a local file with {flag} PATH")


def _fail(entry: PretrainedFile, path: Path, reason: str) -> DownloadError:
    return DownloadError(f"could not download {entry.name} from {source_url(entry)}: {reason}; "
                         f"{_manual_hint(entry, path)}")


def _copy_stream(response: BinaryIO, handle: BinaryIO, total: Optional[int], label: str,
                 progress: bool) -> "tuple[int, str]":
    """Copy ``response`` into ``handle``; returns ``(bytes written, sha256 hex)``."""
    digest = hashlib.sha256()
    written = 0
    with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label,
              disable=not progress, leave=False) as bar:
        while True:
            chunk = response.read(CHUNK_BYTES)
            if not chunk:
                break
            handle.write(chunk)
            digest.update(chunk)
            written += len(chunk)
            bar.update(len(chunk))
    return written, digest.hexdigest()


def _announced_length(response) -> Optional[int]:
    """The server's ``Content-Length``; ``None`` when absent. Unparsable or negative: ``-1`` (never trusted)."""
    value = response.headers.get("Content-Length") if getattr(response, "headers", None) else None
    if value is None:
        return None
    try:
        length = int(value)
    except ValueError:
        return -1
    return length if length >= 0 else -1


def _check_complete(entry: PretrainedFile, response, written: int, digest: str) -> Optional[str]:
    """Why the received bytes are not the file, or ``None`` when they are."""
    content_type = (response.headers.get("Content-Type") or "") if getattr(response, "headers", None) else ""
    if content_type.startswith("text/html"):
        return "the server sent a web page instead of the file (it may need a browser to confirm the download)"
    announced = _announced_length(response)
    if announced == -1:
        return f"the server sent an invalid Content-Length ({response.headers.get('Content-Length')!r})"
    if announced is not None and written != announced:
        return f"transfer interrupted after {written} of {announced} bytes"
    if written == 0:
        return "the server sent an empty file"
    if entry.size is not None and written != entry.size:
        return f"received {written} bytes but the published file has {entry.size}"
    if entry.sha256 is not None and digest != entry.sha256.lower():
        return f"sha256 mismatch: got {digest}, expected {entry.sha256}"
    return None


def download_file(entry: Union[str, PretrainedFile], cache_dir: Optional[Union[str, os.PathLike]] = None, *,
                  force: bool = False, progress: bool = True, timeout: float = 60.0) -> Path:
    """Return the cached path of ``entry``, downloading it first if it is not there.

    Args:
        entry: a registry name (see ``PRETRAINED_FILES``) or a :class:`PretrainedFile`.
        cache_dir: cache folder; default :func:`default_cache_dir`.
        force: download again even when the file is cached.
        progress: show a tqdm progress bar on stderr.
        timeout: seconds to wait for the server on connect and on each read.

    Raises:
        DownloadError: offline, HTTP error, interrupted transfer, web page instead
            of the file, or size/hash mismatch. The message names the URL, the
            exact cache path to place the file at, and the ``--tacotron2``/``--waveglow``
            alternative. No partial file is left at that path.
    """
    entry = get_pretrained_file(entry) if isinstance(entry, str) else entry
    path = cached_path(entry, cache_dir)
    if os.path.lexists(path) and not force:
        check_cached(entry, path, cache_dir)
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(entry, path, f"cannot create the cache folder ({exc})") from exc

    def fetch(handle: BinaryIO) -> None:
        try:
            with urllib.request.urlopen(source_url(entry), timeout=timeout) as response:
                announced = _announced_length(response)
                written, digest = _copy_stream(response, handle, announced if announced != -1 else None,
                                               entry.filename, progress)
                problem = _check_complete(entry, response, written, digest)
        except urllib.error.HTTPError as exc:
            raise _fail(entry, path, f"HTTP {exc.code} {exc.reason}") from exc
        except urllib.error.URLError as exc:
            raise _fail(entry, path, f"network unreachable or offline ({exc.reason})") from exc
        except (http.client.HTTPException, socket.timeout, ConnectionError) as exc:
            raise _fail(entry, path, f"transfer interrupted ({type(exc).__name__}: {exc})") from exc
        if problem is not None:
            raise _fail(entry, path, problem)

    def verify(tmp: Path) -> None:
        try:
            check_complete(tmp, thorough=True)
        except CheckpointError as exc:
            reason = str(exc).replace(repr(str(tmp)), "the received file")
            raise _fail(entry, path, f"the received file is not a complete checkpoint ({reason})") from None

    atomic_write(path, fetch, verify=verify)  # renamed into place only if complete: no partial file, ever
    return path


def fix_command(entry: PretrainedFile, cache_dir: Optional[Union[str, os.PathLike]] = None) -> str:
    """The command that downloads ``entry`` again over a damaged cached copy."""
    where = f" --cache-dir {cache_dir}" if cache_dir is not None else ""
    return f"python -m checkpoints download {entry.name} --force{where}"


def check_cached(entry: PretrainedFile, path: Path, cache_dir: Optional[Union[str, os.PathLike]] = None) -> None:
    """Raise :class:`DownloadError` naming :func:`fix_command` when the cached ``path`` is not a whole checkpoint."""
    try:
        check_complete(path)
        size = path.stat().st_size
        problem = (f"it has {size} bytes but {entry.name} has {entry.size}"
                   if entry.size is not None and size != entry.size else None)
    except CheckpointError as exc:
        problem = str(exc).replace(repr(str(path)), "it")
    if problem is not None:
        raise DownloadError(f"cached {path} is damaged ({problem}); download it again with: "
                            f"{fix_command(entry, cache_dir)} (or {_manual_hint(entry, path)})")


__all__ = ["DownloadError", "CACHE_ENV_VAR", "MIRROR_ENV_VAR", "source_url", "default_cache_dir", "cached_path",
           "download_file", "check_cached", "fix_command"]
