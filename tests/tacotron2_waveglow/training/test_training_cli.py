"""``tacotron2-train`` / ``waveglow-train``: one-line user errors, their own help, --max-iterations, TensorBoard."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tacotron2_waveglow.training.checkpointing import LATEST_NAME, load_training_checkpoint
from tacotron2_waveglow.training.cli import main
from training_data import write_dataset

REPO = Path(__file__).resolve().parents[3]
TACOTRON2_TINY = dict(n_mel_channels=8, symbols_embedding_dim=16, encoder_embedding_dim=16, attention_rnn_dim=16,
                      attention_dim=8, attention_location_n_filters=2, decoder_rnn_dim=16, prenet_dim=8,
                      postnet_embedding_dim=8, max_decoder_steps=20)
WAVEGLOW_TINY = dict(n_mel_channels=8, n_flows=2, n_early_every=2, n_early_size=2,
                     WN_config=dict(n_layers=1, n_channels=8, kernel_size=3))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    return root, write_dataset(root, seconds=(0.3, 0.4, 0.35, 0.45))


def _one_line_error(capsys, status, prog, *fragments):
    captured = capsys.readouterr()
    assert status == 2, captured.err
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"{prog}: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("model", ["tacotron2", "waveglow"])
def test_user_errors_are_one_line_with_the_real_program_name(capsys, tmp_path, dataset, model):
    root, listing = dataset
    prog = f"{model}-train"
    base = ["-o", str(tmp_path / "o"), "-d", str(root), "--no-progress"]
    _one_line_error(capsys, main(base + ["--training-files", str(tmp_path / "missing.txt")], model=model), prog,
                    "--training-files", "missing.txt")
    _one_line_error(capsys, main(base + ["--training-files", str(listing), "--resume", str(tmp_path / "missing.pt")],
                                 model=model), prog, "--resume", "missing.pt")
    _one_line_error(capsys, main(base + ["--training-files", str(listing), "--max-iterations", "0"], model=model),
                    prog, "--max-iterations")
    _one_line_error(capsys, main(base + ["--training-files", str(listing), "--config-overrides", "{bad"],
                                 model=model), prog, "--config-overrides", "JSON")
    _one_line_error(capsys, main(base + ["--training-files", str(listing), "--bogus"], model=model), prog, "--bogus")
    other = "--segment-length" if model == "tacotron2" else "--text-cleaners"
    _one_line_error(capsys, main(base + ["--training-files", str(listing), other, "1"], model=model), prog, other)
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


@pytest.mark.parametrize("option, value", [("--learning-rate", "nan"), ("--grad-clip-thresh", "inf"),
                                           ("--weight-decay", "-1"), ("--seed", str(10 ** 24)), ("--seed", "-1"),
                                           ("--scheduled-sampling", "1.5"), ("--scheduled-sampling", "nan")])
def test_numeric_options_are_checked_before_any_data_is_read(capsys, tmp_path, dataset, option, value):
    root, listing = dataset
    argv = ["-o", str(tmp_path / "o"), "-d", str(root), "--no-progress", "--training-files", str(listing),
            option, value]
    _one_line_error(capsys, main(argv, model="tacotron2"), "tacotron2-train", option)
    assert not (tmp_path / "o").exists()


def test_a_checkpoint_that_is_not_one_is_a_one_line_error(capsys, tmp_path, dataset):
    root, listing = dataset
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    status = main(["-o", str(tmp_path / "o"), "-d", str(root), "--training-files", str(listing), "--resume",
                   str(junk), "--config-overrides", json.dumps(TACOTRON2_TINY), "-bs", "2", "--no-progress",
                   "--no-tensorboard"], model="tacotron2")
    _one_line_error(capsys, status, "tacotron2-train", "junk.pt")


@pytest.mark.parametrize("model,own,foreign", [
    ("tacotron2", ["--text-cleaners", "--guided-attention-weight", "--max-iterations"], ["--segment-length", "--sigma"]),
    ("waveglow", ["--segment-length", "--sigma", "--max-iterations"], ["--text-cleaners", "--guided-attention-weight",
                                                                      "--load-mel-from-disk"]),
])
def test_help_is_plain_text_with_only_the_models_options(capsys, model, own, foreign):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"], model=model)
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: {model}-train")
    assert "``" not in text and "python -m" not in text
    for option in own:
        assert option in text
    for option in foreign:
        assert option not in text


def test_module_run_reports_its_own_name_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tacotron2_waveglow.training", "--model", "tacotron2", "-o",
                           str(tmp_path / "o"), "--training-files", str(tmp_path / "none.txt")],
                          capture_output=True, text=True, timeout=300, env={"PYTHONPATH": str(REPO),
                                                                          "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m tacotron2_waveglow.training: error: --training-files")


def test_sigterm_stops_like_ctrl_c_and_keeps_the_checkpoint(tmp_path, dataset):
    """A background job, a scheduler or ``timeout`` ends training with SIGTERM: one line, status 143."""
    root, listing = dataset
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "tacotron2_waveglow.training", "--model", "tacotron2",
                             "-o", str(out), "-d", str(root), "--training-files", str(listing),
                             "--config-overrides", json.dumps(TACOTRON2_TINY), "-bs", "2", "--epochs", "100000",
                             "--epochs-per-checkpoint", "1",  # the first epoch's checkpoint, not the 50th's:
                             "--no-progress", "--no-tensorboard", "--log-level", "WARNING"],  # fast on a loaded CI
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    try:
        deadline = time.monotonic() + 240
        while not (out / LATEST_NAME).exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (out / LATEST_NAME).exists(), f"no checkpoint was written (exit status {proc.poll()})"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "terminated (SIGTERM)" in lines[0] and "--resume auto" in lines[0], err
    assert load_training_checkpoint(out / LATEST_NAME)["iteration"] >= 1


def test_max_iterations_stops_and_checkpoints(tmp_path, dataset):
    root, listing = dataset
    out = tmp_path / "o"
    # 4 items, batch 2: 2 steps per epoch; 3 steps end in the second epoch (epoch 1), which counts as done
    assert main(["-o", str(out), "-d", str(root), "--training-files", str(listing), "--config-overrides",
                 json.dumps(TACOTRON2_TINY), "-bs", "2", "--epochs", "50", "--max-iterations", "3",
                 "--no-progress", "--no-tensorboard"], model="tacotron2") == 0
    checkpoint = load_training_checkpoint(out / LATEST_NAME)
    assert (checkpoint["iteration"], checkpoint["epoch"]) == (3, 1)
    assert sorted(p.name for p in out.glob("checkpoint_*.pt")) == ["checkpoint_Tacotron2_1.pt", LATEST_NAME]


def test_scheduled_sampling_reaches_the_training_steps(tmp_path, dataset):
    root, listing = dataset
    weights = {}
    for p in ("0", "1"):
        out = tmp_path / f"ss{p}"
        assert main(["-o", str(out), "-d", str(root), "--training-files", str(listing), "--config-overrides",
                     json.dumps(TACOTRON2_TINY), "-bs", "2", "--epochs", "1", "--max-iterations", "1",
                     "--no-progress", "--no-tensorboard", "--scheduled-sampling", p], model="tacotron2") == 0
        weights[p] = load_training_checkpoint(out / LATEST_NAME)["state_dict"]
    # same seed, data and first batch: only what the decoder was fed differs
    changed = [k for k in weights["0"] if not torch.equal(weights["0"][k], weights["1"][k])]
    assert any("decoder" in k for k in changed)


def _events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"images": 0, "audio": 0, "scalars": 0})
    accumulator.Reload()
    return accumulator


@pytest.mark.slow
def test_tensorboard_gets_learning_rate_grad_norm_alignment_and_audio(tmp_path, dataset):
    pytest.importorskip("tensorboard")
    root, listing = dataset
    for model, config, media in (("tacotron2", TACOTRON2_TINY, ["val/alignment"]),
                                 ("waveglow", WAVEGLOW_TINY, [])):
        out = tmp_path / model
        argv = ["-o", str(out), "-d", str(root), "--training-files", str(listing), "--validation-files",
                str(listing), "--config-overrides", json.dumps(config), "-bs", "2", "--epochs", "1", "-lr", "0.002",
                "--no-progress"] + (["--segment-length", "1024"] if model == "waveglow" else [])
        assert main(argv, model=model) == 0
        events = _events(out)
        tags = events.Tags()
        assert {"train/loss", "train/learning_rate", "train/grad_norm", "val/loss"} <= set(tags["scalars"])
        assert [e.value for e in events.Scalars("train/learning_rate")] == pytest.approx([0.002, 0.002])
        norms = [e.value for e in events.Scalars("train/grad_norm")]
        assert len(norms) == 2 and all(n > 0 and torch.isfinite(torch.tensor(n)) for n in norms)
        assert set(media) <= set(tags["images"])
        audio_tags = tags["audio"]
        assert len(audio_tags) == 1
        clip = events.Audio(audio_tags[0])[0]
        assert clip.sample_rate == 22050 and clip.length_frames > 0


def test_a_signal_inside_torch_save_counts_as_the_interruption(tmp_path):
    """SIGTERM landing inside ``torch.save`` surfaces as the zip writer's RuntimeError; it is still a SIGTERM."""
    from tacotron2_waveglow.training.cli import Terminated, interruption

    def save_interrupted():
        with open(tmp_path / "f", "wb") as handle:
            try:
                raise Terminated()
            finally:
                handle.close()
                raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 100736 vs 100632")

    with pytest.raises(RuntimeError) as info:
        save_interrupted()
    assert isinstance(interruption(info.value), Terminated)
    assert interruption(RuntimeError("a real failure")) is None
    try:
        raise KeyboardInterrupt()
    except KeyboardInterrupt as exc:
        assert interruption(exc) is exc
