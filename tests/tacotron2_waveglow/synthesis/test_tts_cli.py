"""``tacotron2-tts`` end to end on the golden tiny checkpoints and a random model saved by the test."""
from __future__ import annotations

import socket
import subprocess
import sys

import numpy as np
import pytest
import soundfile
import torch

from text import text_to_sequence

HOP = 256


def _wav(path):
    data, rate = soundfile.read(str(path), dtype="int16")
    info = soundfile.info(str(path))
    assert rate == 22050 and info.channels == 1 and info.subtype == "PCM_16"
    return data


@pytest.fixture
def model_args(tiny_tacotron2_path, tiny_waveglow_path):
    return ["--tacotron2", str(tiny_tacotron2_path), "--waveglow", str(tiny_waveglow_path), "--denoise", "0"]


def test_text_to_wav_length_and_samples_match_manual_chain(cli, tmp_path, model_args, tiny_models):
    out = tmp_path / "hello.wav"
    status, stdout, stderr = cli(["Hello world.", "-o", str(out), "--seed", "11", "--sigma", "0.5"] + model_args)
    assert status == 0, stderr
    assert stdout == ""
    assert "tacotron2_tiny_ngc.pt" in stderr  # which weights were used, on stderr
    # independent expectation: NVIDIA-style calls with the same seed
    taco, glow = tiny_models
    ids = torch.tensor([text_to_sequence("Hello world.", ["english_cleaners"])])
    torch.manual_seed(11)
    with torch.no_grad():
        mel, lengths, _ = taco.infer(ids, torch.tensor([ids.shape[1]]))
        audio = glow.infer(mel, sigma=0.5)[0, :int(lengths[0]) * HOP].numpy()
    data = _wav(out)
    assert len(data) == int(lengths[0]) * HOP
    expected = np.clip(np.round(audio * 32768), -32768, 32767)
    assert np.abs(data.astype(np.float64) - expected).max() <= 1


def test_int8_says_it_prepares_waveglow_and_matches_the_int8_chain(cli, tmp_path, model_args, tiny_models):
    out = tmp_path / "int8.wav"
    argv = ["Hello world.", "-o", str(out), "--seed", "4", "--precision", "int8", "--force",
            "--cache-dir", str(tmp_path / "cache")] + model_args
    status, _, stderr = cli(argv)
    assert status == 0, stderr
    assert "precision int8: preparing WaveGlow" in stderr and str(tmp_path / "cache" / "prepared") in stderr
    cached = list((tmp_path / "cache" / "prepared").glob("waveglow-int8-*.pt"))
    assert len(cached) == 1
    first = out.read_bytes()
    assert "int8 WaveGlow form built and kept in" in stderr
    status, _, stderr = cli(argv)  # the second run reads the kept form: the same file, byte for byte
    assert status == 0, stderr
    assert f"int8 WaveGlow form read from {cached[0]}" in stderr
    assert out.read_bytes() == first and list((tmp_path / "cache" / "prepared").iterdir()) == cached
    taco, glow = tiny_models
    ids = torch.tensor([text_to_sequence("Hello world.", ["english_cleaners"])])
    torch.manual_seed(4)
    mel, lengths, _ = taco.infer(ids, torch.tensor([ids.shape[1]]), precision="int8")
    audio = glow.infer(mel, sigma=0.6, precision="int8")[0, :int(lengths[0]) * HOP].numpy()
    expected = np.clip(np.round(audio * 32768), -32768, 32767)
    assert np.abs(_wav(out).astype(np.float64) - expected).max() <= 1


def test_input_file_one_wav_per_line_and_seed_reproducible(cli, tmp_path, model_args):
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("First phrase.\n\nSecond phrase.\nThird.\n", encoding="utf-8")  # each fits one piece
    for name in ("a", "b"):
        status, _, stderr = cli(["-i", str(phrases), "-o", str(tmp_path / name), "--seed", "2", "-q"] + model_args)
        assert status == 0, stderr
        assert "wrote" not in stderr and "Tacotron 2:" not in stderr  # -q: no information lines (warnings stay)
    wavs = sorted(p.name for p in (tmp_path / "a").glob("*.wav"))
    assert wavs == ["audio_1.wav", "audio_3.wav", "audio_4.wav"]  # file line numbers (line 2 is empty)
    for name in wavs:
        assert len(_wav(tmp_path / "a" / name)) % HOP == 0
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_stdin_and_force(cli, tmp_path, model_args):
    out = tmp_path / "stdin.wav"
    assert cli(["-o", str(out), "-q"] + model_args, "Read from stdin.")[0] == 0
    first = out.read_bytes()
    assert cli(["-o", str(out), "-q", "--force", "--seed", "9"] + model_args, "Read from stdin.")[0] == 0
    assert out.read_bytes() != first


def test_griffin_lim_with_a_random_model_and_plot(cli, tmp_path):
    from checkpoints import save_checkpoint
    from tacotron2 import Tacotron2, Tacotron2Config

    torch.manual_seed(0)
    config = Tacotron2Config(n_mel_channels=8, symbols_embedding_dim=16, encoder_embedding_dim=16,
                             attention_rnn_dim=16, attention_dim=8, attention_location_n_filters=2,
                             decoder_rnn_dim=16, prenet_dim=8, postnet_embedding_dim=8, max_decoder_steps=12)
    ckpt = save_checkpoint(Tacotron2(config), tmp_path / "random_t2.pt")
    out = tmp_path / "gl.wav"
    status, _, stderr = cli(["Hi.", "--tacotron2", str(ckpt), "--vocoder", "griffin-lim", "--plot", "-o", str(out),
                             "--seed", "0"])
    assert status == 0, stderr
    assert "Griffin-Lim" in stderr
    data = _wav(out)
    assert 0 < len(data) <= 12 * HOP and len(data) % HOP == 0
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_checkpoint_is_one_line(cli, one_line_error, tmp_path, tiny_waveglow_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x80\x02garbage")
    one_line_error(cli(["Hi.", "--tacotron2", str(junk), "--vocoder", "griffin-lim", "-o", str(tmp_path / "a.wav")]),
                   "junk.pt")
    # a WaveGlow file given as the Tacotron 2
    one_line_error(cli(["Hi.", "--tacotron2", str(tiny_waveglow_path), "--vocoder", "griffin-lim",
                        "-o", str(tmp_path / "b.wav")]))


def test_download_failure_is_one_line(cli, one_line_error, tmp_path, monkeypatch):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    monkeypatch.setenv("TACOTRON2_CHECKPOINT_MIRROR", f"http://127.0.0.1:{port}")
    cache = tmp_path / "cache"
    one_line_error(cli(["Hi.", "--pretrained", "ljspeech", "--cache-dir", str(cache), "-q",
                        "-o", str(tmp_path / "a.wav")]),
                   f"127.0.0.1:{port}", str(cache / "nvidia_tacotron2pyt_fp32_20190427"), "--tacotron2")
    assert not (tmp_path / "a.wav").exists()


def test_runs_as_python_module():
    proc = subprocess.run([sys.executable, "-m", "tacotron2_waveglow.synthesis", "--vocoder", "nope"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tacotron2-tts: error:") and "nope" in lines[0]


def test_malloc_choice_is_accepted_and_leaves_the_audio_alone(cli, tmp_path, model_args):
    outs = []
    for choice in ("system", "keep"):
        out = tmp_path / f"{choice}.wav"
        status, _, stderr = cli(["Hello.", "-o", str(out), "--seed", "3", "--malloc", choice] + model_args)
        assert status == 0, stderr
        outs.append(_wav(out))
    np.testing.assert_array_equal(outs[0], outs[1])
    status, _, stderr = cli(["Hello.", "-o", str(tmp_path / "x.wav"), "--malloc", "tcmalloc"] + model_args)
    assert status == 2 and "--malloc" in stderr and "keep" in stderr
