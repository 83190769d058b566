"""The pretrained registry: entries are consistent and lookups fail helpfully."""
from __future__ import annotations

from urllib.parse import urlparse

import pytest

from checkpoints.registry import PRETRAINED_FILES, PretrainedFile, get_pretrained_file, hub_file_name


@pytest.mark.parametrize("name", sorted(PRETRAINED_FILES))
def test_entries_are_well_formed(name):
    entry = PRETRAINED_FILES[name]
    assert entry.name == name
    assert urlparse(entry.url).scheme == "https"
    assert entry.layout in ("hub", "nvidia_repo", "glow_pickle")
    assert "/" not in entry.filename and entry.filename
    # files that store no config need one here, except Tacotron 2 whose defaults are the published ones
    if entry.layout == "glow_pickle":
        assert entry.config is not None and entry.config["n_mel_channels"] == 80
    if not entry.direct:
        assert entry.page


def test_cache_file_names_are_unique():
    names = [e.filename for e in PRETRAINED_FILES.values()]
    assert len(names) == len(set(names))


def test_dle_hub_files_match_nvidia_entry_points():
    # the NGC file names DLE's torch.hub entry points download (basename of their URL)
    for model in ("tacotron2", "waveglow"):
        for math in ("fp32", "fp16"):
            entry = get_pretrained_file(hub_file_name(model, math))
            assert entry.url.rsplit("/", 1)[1] == entry.filename
            assert entry.filename == f"nvidia_{model}pyt_{math}_20190427"


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ValueError, match="tacotron2-dle-fp32"):
        get_pretrained_file("nope")
    with pytest.raises(ValueError, match="fp64"):
        hub_file_name("tacotron2", "fp64")


def test_entry_validation():
    with pytest.raises(ValueError, match="model"):
        PretrainedFile("x", "wavenet", "https://x", "x.pt", "hub")
    with pytest.raises(ValueError, match="sha256"):
        PretrainedFile("x", "waveglow", "https://x", "x.pt", "hub", sha256="abc")
    assert "unknown" in PretrainedFile("x", "waveglow", "https://x", "x.pt", "hub").checks
