"""Download cache against a local HTTP server on 127.0.0.1 (never the network)."""
from __future__ import annotations

import hashlib
import http.server
import io
import os
import socket
import threading
from pathlib import Path
from typing import Dict, Optional, Tuple

import pytest
import torch

from checkpoints.__main__ import main
from checkpoints.download import CACHE_ENV_VAR, DownloadError, cached_path, default_cache_dir, download_file
from checkpoints.registry import PretrainedFile


def _checkpoint_bytes() -> bytes:
    buffer = io.BytesIO()
    torch.save({"state_dict": {"w": torch.arange(262144, dtype=torch.float32)}}, buffer)  # 1 MiB of data
    return buffer.getvalue()


PAYLOAD = _checkpoint_bytes()
HALF = PAYLOAD[: len(PAYLOAD) // 2]


class _Handler(http.server.BaseHTTPRequestHandler):
    """Routes: /ok full file, /short announces more than it sends, /html a web page, /no-length half a file
    without Content-Length then close, /small-length and /bad-length a Content-Length that is too small or
    unparsable, /junk a complete non-checkpoint, else 404."""

    routes: Dict[str, Tuple[int, bytes, Optional[str], str]] = {
        "/ok": (200, PAYLOAD, str(len(PAYLOAD)), "application/octet-stream"),
        "/short": (200, PAYLOAD[:1000], str(len(PAYLOAD)), "application/octet-stream"),
        "/html": (200, b"<html>confirm</html>", "20", "text/html; charset=utf-8"),
        "/no-length": (200, HALF, None, "application/octet-stream"),
        "/small-length": (200, PAYLOAD, str(len(HALF)), "application/octet-stream"),
        "/bad-length": (200, HALF, "12abc", "application/octet-stream"),
        "/junk": (200, bytes(range(256)) * 64, str(256 * 64), "application/octet-stream"),
    }

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        if self.path not in self.routes:
            self.send_error(404)
            return
        status, body, length, ctype = self.routes[self.path]
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", length)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _entry(url: str, **kw) -> PretrainedFile:
    return PretrainedFile("test-file", "waveglow", url, "test_file.pt", "hub", **kw)


def _no_partials(folder: Path) -> bool:
    return [p.name for p in folder.iterdir() if p.name != "test_file.pt"] == [] if folder.exists() else True


def test_success_with_size_and_hash(server, tmp_path):
    entry = _entry(server + "/ok", size=len(PAYLOAD), sha256=hashlib.sha256(PAYLOAD).hexdigest())
    path = download_file(entry, tmp_path, progress=False)
    assert path == tmp_path / "test_file.pt"
    assert path.read_bytes() == PAYLOAD
    assert _no_partials(tmp_path)


def test_cached_file_is_reused_without_network(tmp_path):
    entry = _entry("http://127.0.0.1:9/never-contacted")
    (tmp_path / "test_file.pt").write_bytes(PAYLOAD)
    assert download_file(entry, tmp_path, progress=False).read_bytes() == PAYLOAD


@pytest.mark.parametrize("route", ["/no-length", "/small-length", "/bad-length", "/junk"])
def test_incomplete_or_mislabelled_download_is_never_cached(server, tmp_path, route):
    """Half a file with no Content-Length, a too-small or unparsable Content-Length, a non-checkpoint."""
    with pytest.raises(DownloadError) as info:
        download_file(_entry(server + route), tmp_path, progress=False)
    message = str(info.value)
    assert "\n" not in message and ("not a complete checkpoint" in message or "Content-Length" in message)
    assert not (tmp_path / "test_file.pt").exists()
    assert _no_partials(tmp_path)


def test_damaged_cached_file_names_the_fixing_command(server, tmp_path, capsys):
    (tmp_path / "test_file.pt").write_bytes(HALF)  # what an earlier, unverified download could leave
    entry = _entry(server + "/ok")
    with pytest.raises(DownloadError) as info:
        download_file(entry, tmp_path, progress=False)
    assert f"python -m checkpoints download test-file --force --cache-dir {tmp_path}" in str(info.value)
    assert download_file(entry, tmp_path, force=True, progress=False).read_bytes() == PAYLOAD


def test_cli_download_force_refetches(server, tmp_path, monkeypatch, capsys):
    from checkpoints import registry
    from checkpoints.download import MIRROR_ENV_VAR

    name = "waveglow-dle-fp32"
    filename = registry.PRETRAINED_FILES[name].filename
    monkeypatch.setenv(MIRROR_ENV_VAR, server)
    monkeypatch.setitem(_Handler.routes, f"/{filename}", _Handler.routes["/ok"])
    (tmp_path / filename).write_bytes(HALF)
    assert main(["download", name, "--cache-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"download {name} --force" in err
    assert main(["download", name, "--cache-dir", str(tmp_path), "--force"]) == 0
    assert (tmp_path / filename).read_bytes() == PAYLOAD


def test_cached_file_gets_the_umask_permissions(server, tmp_path):
    old = os.umask(0o022)
    try:
        path = download_file(_entry(server + "/ok"), tmp_path, progress=False)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644  # readable by other users of a shared cache, as open() makes it


def test_interrupted_transfer_leaves_no_file(server, tmp_path):
    with pytest.raises(DownloadError) as info:
        download_file(_entry(server + "/short"), tmp_path, progress=False)
    message = str(info.value)
    assert "interrupted" in message and str(tmp_path / "test_file.pt") in message
    assert not (tmp_path / "test_file.pt").exists()
    assert _no_partials(tmp_path)


def test_hash_mismatch_refused(server, tmp_path):
    entry = _entry(server + "/ok", sha256="0" * 64)
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        download_file(entry, tmp_path, progress=False)
    assert not (tmp_path / "test_file.pt").exists()
    assert _no_partials(tmp_path)


def test_size_mismatch_refused(server, tmp_path):
    with pytest.raises(DownloadError, match="published file has"):
        download_file(_entry(server + "/ok", size=123), tmp_path, progress=False)
    assert not (tmp_path / "test_file.pt").exists()


def test_web_page_instead_of_file_refused(server, tmp_path):
    entry = _entry(server + "/html", page="https://example.invalid/page")
    with pytest.raises(DownloadError, match="web page") as info:
        download_file(entry, tmp_path, progress=False)
    assert "https://example.invalid/page" in str(info.value)
    assert not (tmp_path / "test_file.pt").exists()


def test_http_error(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_file(_entry(server + "/missing"), tmp_path, progress=False)


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_offline_message_names_url_cache_path_and_alternative(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/nvidia_waveglowpyt_fp32"
    with pytest.raises(DownloadError) as info:
        download_file(_entry(url), tmp_path / "cache", progress=False, timeout=5)
    message = str(info.value)
    assert url in message
    assert str(tmp_path / "cache" / "test_file.pt") in message
    assert "--waveglow" in message
    assert not (tmp_path / "cache" / "test_file.pt").exists()


def test_file_url(tmp_path):
    source = tmp_path / "source.pt"
    source.write_bytes(PAYLOAD)
    path = download_file(_entry(source.as_uri()), tmp_path / "cache", progress=False)
    assert path.read_bytes() == PAYLOAD


def test_force_downloads_again(server, tmp_path):
    (tmp_path / "test_file.pt").write_bytes(HALF)
    assert download_file(_entry(server + "/ok"), tmp_path, force=True, progress=False).read_bytes() == PAYLOAD


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "env"))
    assert default_cache_dir() == tmp_path / "env"
    assert cached_path(_entry("x"), tmp_path / "arg") == tmp_path / "arg" / "test_file.pt"
    monkeypatch.delenv(CACHE_ENV_VAR)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert default_cache_dir() == tmp_path / "torch" / "hub" / "checkpoints"


def test_mirror_replaces_nvidia_url(server, tmp_path, monkeypatch):
    from checkpoints.download import MIRROR_ENV_VAR

    monkeypatch.setenv(MIRROR_ENV_VAR, server + "/")
    entry = PretrainedFile("test-file", "waveglow", "https://example.invalid/x", "ok", "hub")
    assert download_file(entry, tmp_path, progress=False).read_bytes() == PAYLOAD
