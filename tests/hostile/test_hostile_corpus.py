"""Every hostile file through every entry point, in a subprocess with a memory ceiling and a timeout.

The corpus (:mod:`hostile_files`) is built here; :mod:`hostile_driver` runs all
attempts in one process limited to :data:`MEMORY_BYTES` of address space
(``RLIMIT_AS``) so that a memory bomb shows as a failure instead of taking
the machine, and gives each attempt :data:`SECONDS_PER_ATTEMPT`. Asserted: a
clean one-line refusal everywhere, the expected reason from the loaders, no
payload marker file.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
import soundfile

from hostile_files import build_corpus

ENTRY_POINTS = ("load_tacotron2", "load_waveglow", "inspect", "convert", "tts --tacotron2", "tts --waveglow",
                "tacotron2-train --resume", "tacotron2-train --warm-start", "waveglow-train --warm-start")
MEMORY_BYTES = 3 << 30
SECONDS_PER_ATTEMPT = 120  # generous: a shared, loaded CI machine; only a blocked read comes near it
PROCESSES = 2
DRIVER = Path(__file__).with_name("hostile_driver.py")

TACOTRON2_TINY = dict(n_mel_channels=8, symbols_embedding_dim=32, encoder_embedding_dim=32, attention_rnn_dim=48,
                      attention_dim=16, attention_location_n_filters=4, decoder_rnn_dim=40, prenet_dim=24,
                      postnet_embedding_dim=24, max_decoder_steps=40)
WAVEGLOW_TINY = dict(n_mel_channels=8, n_flows=4, n_early_every=2, n_early_size=2,
                     WN_config=dict(n_layers=2, n_channels=16, kernel_size=3))


def _dataset(root: Path) -> Path:
    rng = np.random.default_rng(0)
    lines = []
    for i in range(2):
        soundfile.write(str(root / f"utt{i}.wav"), (0.1 * rng.standard_normal(8000)).astype(np.float32), 22050,
                        subtype="PCM_16")
        lines.append(f"utt{i}.wav|hello world.")
    listing = root / "train.txt"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return listing


pytestmark = pytest.mark.slow  # one corpus build and ~500 attempts, shared by the tests below (~30 s on 2 cores)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory, golden_dir):
    root = tmp_path_factory.mktemp("hostile")
    corpus = build_corpus(root / "corpus", golden_dir)
    data = root / "data"
    data.mkdir()
    plan = {
        "memory_bytes": MEMORY_BYTES, "seconds_per_attempt": SECONDS_PER_ATTEMPT, "work": str(root / "work"),
        "good_tacotron2": str(golden_dir / "tacotron2_tiny_ngc.pt"), "good_waveglow": str(golden_dir / "waveglow_tiny_ngc.pt"),
        "dataset": str(data), "listing": str(_dataset(data)),
        "tacotron2_config": TACOTRON2_TINY, "waveglow_config": WAVEGLOW_TINY,
        "attempts": [{"entry": entry, "name": name, "file": str(item.path)}
                     for name, item in corpus.items() for entry in ENTRY_POINTS],
    }
    processes = []
    for part in range(PROCESSES):  # the attempts split over the two cores CI has
        plan_path = root / f"plan{part}.json"
        plan_path.write_text(json.dumps({**plan, "attempts": plan["attempts"][part::PROCESSES]}), encoding="utf-8")
        processes.append(subprocess.Popen([sys.executable, str(DRIVER), str(plan_path)], stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True, cwd=root))
    results, errors = [], []
    limit = 120 + SECONDS_PER_ATTEMPT * 2 + 2 * len(plan["attempts"])
    for process in processes:
        try:
            out, err = process.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        results += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        errors.append(err[-3000:])
    assert len(results) == len(plan["attempts"]), f"a driver stopped early: {errors}"
    return corpus, results, root


def test_every_entry_point_refuses_every_file_in_one_line(outcome):
    corpus, results, _ = outcome
    failures = [f"{r['entry']} x {r['name']}: {r['detail']}" for r in results if not r["ok"]]
    assert not failures, "\n".join(failures)


def test_loaders_name_the_reason(outcome):
    corpus, results, _ = outcome
    by_name: Dict[str, List[str]] = {}
    for r in results:
        if r["entry"] in ("load_tacotron2", "load_waveglow"):
            by_name.setdefault(r["name"], []).append(r["detail"])
    wrong = {name: details for name, details in by_name.items()
             if not any(re.search(corpus[name].expect, d) for d in details)}
    assert not wrong, json.dumps(wrong, indent=1)
    for r in results:  # a refused global is never called damage, and torch's advice is never quoted
        if r["name"].startswith("global-"):
            assert "truncated" not in r["detail"], r
            assert "asks to run code" in r["detail"], r


def test_no_payload_ran(outcome):
    corpus, _, root = outcome
    markers = [item.marker for item in corpus.values() if item.marker is not None]
    assert len(markers) >= 20
    assert not [m for m in markers if m.exists()]
    assert not list((root / "work").rglob("converted.pt"))
