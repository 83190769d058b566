"""``tacotron2-tts -i``: failures per line, short pieces, options checked before loading, write-time
no-overwrite, resume after an interruption, the manifest, concurrent runs and torchrun sharding."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile
import torch

REPO = Path(__file__).resolve().parents[3]
HOP = 256
LINES = "Hello world.\n\nA second line.\nThird one here.\nAnd a fourth.\n"  # lines 1, 3, 4, 5


@pytest.fixture
def glow_args(tiny_tacotron2_path, tiny_waveglow_path):
    return ["--tacotron2", str(tiny_tacotron2_path), "--waveglow", str(tiny_waveglow_path), "--denoise", "0", "-q"]


@pytest.fixture
def gl_args(tiny_tacotron2_path):
    return ["--tacotron2", str(tiny_tacotron2_path), "--vocoder", "griffin-lim", "-q"]


def _lines(tmp_path, text=LINES):
    path = tmp_path / "lines.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _wavs(folder):
    return {p.name: p.read_bytes() for p in sorted(Path(folder).glob("*.wav"))}


def _manifest(folder):
    return [json.loads(line) for line in (Path(folder) / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]


def test_failed_line_is_reported_by_number_and_the_others_are_written(cli, tmp_path, glow_args):
    out = tmp_path / "out"
    status, stdout, stderr = cli(["-i", _lines(tmp_path, "Hello world, this is fine.\n!!!\n"), "-o", str(out),
                                  "--seed", "1"] + glow_args)
    assert status == 1, stderr
    assert stdout == ""
    assert "Traceback" not in stderr
    assert [l for l in stderr.splitlines() if "error: line 2:" in l and "no letters" in l], stderr
    assert sorted(_wavs(out)) == ["audio_1.wav"]
    assert [e["line"] for e in _manifest(out)] == [1]


def test_one_frame_pieces_with_waveglow_and_denoiser_are_written(cli, tmp_path, tiny_tacotron2_path,
                                                                tiny_waveglow_path):
    out = tmp_path / "out"
    argv = ["-i", _lines(tmp_path, "Hello world.\nYes.\n"), "-o", str(out), "--max-decoder-steps", "1",
            "--tacotron2", str(tiny_tacotron2_path), "--waveglow", str(tiny_waveglow_path), "--denoise", "0.05"]
    status, _, stderr = cli(argv)
    assert status == 0, stderr
    assert "mel frame" in stderr  # the short-piece warning
    for name in ("audio_1.wav", "audio_2.wav"):
        data, rate = soundfile.read(str(out / name), dtype="int16")
        assert rate == 22050 and len(data) == HOP
    assert [(e["line"], e["frames"], e["reached_limit"]) for e in _manifest(out)] == [(1, 1, True), (2, 1, True)]


def test_each_line_equals_a_single_run_with_seed_plus_line_number(cli, tmp_path, glow_args):
    out = tmp_path / "out"
    assert cli(["-i", _lines(tmp_path), "-o", str(out), "--seed", "7"] + glow_args)[0] == 0
    single = tmp_path / "single.wav"
    assert cli(["Third one here.", "-o", str(single), "--seed", str(7 + 4)] + glow_args)[0] == 0
    assert (out / "audio_4.wav").read_bytes() == single.read_bytes()
    entries = _manifest(out)
    assert [(e["line"], e["text"], e["file"]) for e in entries] == [
        (1, "Hello world.", "audio_1.wav"), (3, "A second line.", "audio_3.wav"),
        (4, "Third one here.", "audio_4.wav"), (5, "And a fourth.", "audio_5.wav")]
    for entry in entries:
        info = soundfile.info(str(out / entry["file"]))
        assert entry["duration"] == pytest.approx(info.frames / info.samplerate)
        assert entry["frames"] * HOP == info.frames  # one piece per line: no pauses
        assert entry["reached_limit"] in (True, False)


OPTION_ERRORS = [
    (["--sigma", "nan"], "--sigma must be a finite number"),
    (["--denoise", "inf"], "--denoise must be a finite number"),
    (["--seed", "-1"], "--seed must be in [0, 2**63)"),
    (["--seed", str(10 ** 24)], "--seed must be in [0, 2**63)"),
    (["--max-decoder-steps", str(10 ** 9)], "above the limit"),
]
if not torch.cuda.is_available():
    OPTION_ERRORS += [(["--device", "cuda"], "device 'cuda' requested but"),
                      (["--precision", "fp16"], "fp16")]


@pytest.mark.parametrize("extra,fragment", OPTION_ERRORS)
def test_option_errors_come_before_any_model_is_loaded(cli, one_line_error, tmp_path, glow_args, monkeypatch,
                                                       extra, fragment):
    from tacotron2_waveglow.synthesis import models

    calls = []
    monkeypatch.setattr(models, "load_models", lambda *a, **k: calls.append(a))
    one_line_error(cli(["-i", _lines(tmp_path), "-o", str(tmp_path / "out")] + glow_args + extra), fragment)
    assert calls == []
    assert not list(tmp_path.glob("out/*.wav"))


def test_a_file_that_appears_during_synthesis_is_kept(cli, tmp_path, gl_args, monkeypatch):
    """The no-overwrite rule holds at write time: another run's WAV that lands meanwhile is not replaced."""
    from tacotron2_waveglow.synthesis.pipeline import Synthesizer

    out = tmp_path / "out"
    original = Synthesizer.synthesize

    def other_run_writes_first(self, texts, **kwargs):
        if texts == ["A second line."]:
            (out / "audio_3.wav").write_bytes(b"the other run's file")
        return original(self, texts, **kwargs)

    monkeypatch.setattr(Synthesizer, "synthesize", other_run_writes_first)
    status, _, stderr = cli(["-i", _lines(tmp_path), "-o", str(out), "--seed", "1"] + gl_args[:-1])
    assert status == 0, stderr
    assert (out / "audio_3.wav").read_bytes() == b"the other run's file"
    assert "audio_3.wav was written by another run meanwhile; kept it" in stderr
    assert sorted(_wavs(out)) == ["audio_1.wav", "audio_3.wav", "audio_4.wav", "audio_5.wav"]


def test_interrupted_run_resumes_without_redoing_finished_lines(cli, tmp_path, gl_args, monkeypatch):
    import audio

    reference = tmp_path / "reference"
    assert cli(["-i", _lines(tmp_path), "-o", str(reference), "--seed", "3"] + gl_args)[0] == 0

    out = tmp_path / "out"
    real_save = audio.save_wav
    saved = []

    def interrupt_at_third(path, *args, **kwargs):
        if len(saved) == 2:
            raise KeyboardInterrupt
        saved.append(Path(path).name)
        return real_save(path, *args, **kwargs)

    monkeypatch.setattr(audio, "save_wav", interrupt_at_third)
    status, _, stderr = cli(["-i", _lines(tmp_path), "-o", str(out), "--seed", "3"] + gl_args)
    assert status == 130 and "interrupted" in stderr
    assert sorted(_wavs(out)) == saved == ["audio_1.wav", "audio_3.wav"]
    finished = {name: os.stat(out / name) for name in saved}
    monkeypatch.setattr(audio, "save_wav", real_save)

    status, _, stderr = cli(["-i", _lines(tmp_path), "-o", str(out), "--seed", "3"] + gl_args[:-1])
    assert status == 0, stderr
    assert "skipping 2 of 4 line(s)" in stderr
    for name, before in finished.items():  # not rewritten
        after = os.stat(out / name)
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert _wavs(out) == _wavs(reference)
    assert [e["line"] for e in _manifest(out)] == [1, 3, 4, 5]
    assert _manifest(out) == _manifest(reference)


def _subprocess_env():
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "TORCHELASTIC_RUN_ID"):
        env.pop(name, None)
    return env


@pytest.mark.slow
def test_two_concurrent_runs_into_one_folder_never_overwrite_each_other(cli, tmp_path, gl_args):
    torch.set_num_threads(1)  # the in-process references compute as the OMP_NUM_THREADS=1 subprocesses do
    lines = _lines(tmp_path, "".join(f"Sentence number {n} is here.\n" for n in range(1, 7)))
    out = tmp_path / "shared"
    expected = {}
    procs = []
    for seed in ("11", "12"):
        argv = [sys.executable, "-m", "tacotron2_waveglow.synthesis", "-i", lines, "-o", str(out), "--seed", seed]
        procs.append(subprocess.Popen(argv + gl_args[:-1], env=_subprocess_env(), stderr=subprocess.PIPE, text=True))
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    for seed in ("11", "12"):  # what each run writes when alone
        alone = tmp_path / f"alone_{seed}"
        assert cli(["-i", lines, "-o", str(alone), "--seed", seed] + gl_args)[0] == 0
        expected[seed] = _wavs(alone)
    writers = {}
    for seed, (status, stderr) in zip(("11", "12"), results):
        assert status == 0, stderr
        for line in stderr.splitlines():
            if ": wrote " in line and line.endswith(" s)"):
                name = Path(line.split(": wrote ")[1].rsplit(" (", 1)[0]).name
                assert name not in writers, f"{name} written by both runs"
                writers[name] = seed
    written = _wavs(out)
    assert sorted(written) == sorted(writers) == [f"audio_{n}.wav" for n in range(1, 7)]
    for name, data in written.items():
        assert data == expected[writers[name]][name]
    assert len(_manifest(out)) == 6


@pytest.mark.slow
def test_torchrun_two_processes_equal_one_process_file_by_file(cli, tmp_path, glow_args):
    torch.set_num_threads(1)  # the in-process reference computes as the OMP_NUM_THREADS=1 ranks do
    lines = _lines(tmp_path)
    single, sharded = tmp_path / "single", tmp_path / "sharded"
    common = ["-i", lines, "--seed", "5"] + glow_args[:-1]
    assert cli(["-o", str(single)] + common)[0] == 0
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "tacotron2_waveglow.synthesis", "-o", str(sharded)] + common,
                          env=_subprocess_env(), capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(rank 0/2): line 1: wrote" in proc.stderr and "(rank 1/2): line 3: wrote" in proc.stderr
    assert _wavs(sharded) == _wavs(single)
    assert sorted(_wavs(single)) == ["audio_1.wav", "audio_3.wav", "audio_4.wav", "audio_5.wav"]
    assert _manifest(sharded) == _manifest(single)
    assert not list(sharded.glob(".manifest.*.done"))
