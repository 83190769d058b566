"""``tacotron2-tts`` picks the built-in voice when NVIDIA's weights are not downloaded, and says so."""
import io
import shutil

import pytest
import soundfile

import tacotron2_waveglow.builtin_voice as builtin_voice
from checkpoints.download import cached_path
from tacotron2_waveglow.bundles import BUILTIN_VOICE, DEFAULT_VOICE, default_voice, get_voice
from tacotron2_waveglow.synthesis.cli import main
from tacotron2_waveglow.synthesis.models import load_models

SHIPPED = builtin_voice.BUILTIN_DIR / builtin_voice.BUILTIN_VOICE_NAME


def _run(capsys, argv):
    status = main(list(argv), stdin=io.StringIO(""))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """An empty download cache and a mirror that is a missing local folder: any download attempt fails."""
    monkeypatch.setenv("TACOTRON2_CHECKPOINT_MIRROR", (tmp_path / "no-mirror").as_uri())
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("TACOTRON2_CHECKPOINT_DIR", str(cache))
    return cache


@pytest.fixture
def tiny_builtin(monkeypatch, tmp_path, golden_dir):
    """The golden tiny Tacotron 2 (8 mels) standing in as the shipped voice."""
    folder = tmp_path / "builtin"
    folder.mkdir()
    shutil.copy(golden_dir / "tacotron2_tiny_ngc.pt", folder / builtin_voice.BUILTIN_VOICE_NAME)
    monkeypatch.setattr(builtin_voice, "BUILTIN_DIR", folder)
    return folder


def test_cached_nvidia_voice_wins(offline, tiny_builtin):
    assert default_voice() == BUILTIN_VOICE
    for entry in get_voice(DEFAULT_VOICE).files:
        cached_path(entry).write_bytes(b"x")
    assert default_voice() == DEFAULT_VOICE


def test_no_builtin_file_keeps_nvidia_default(offline, monkeypatch, tmp_path):
    monkeypatch.setattr(builtin_voice, "BUILTIN_DIR", tmp_path / "nowhere")
    assert default_voice() == DEFAULT_VOICE


def test_builtin_voice_has_no_waveglow(tiny_builtin):
    with pytest.raises(ValueError, match="griffin-lim"):
        load_models(voice=BUILTIN_VOICE, need_waveglow=True)
    models = load_models(voice=BUILTIN_VOICE, need_waveglow=False)
    assert models.waveglow is None and "builtin" in models.tacotron2_source
    assert models.text_processor.end_punctuation == "."


def test_no_flags_speaks_offline_with_the_builtin_voice(capsys, offline, tiny_builtin, tmp_path):
    out = tmp_path / "hello.wav"
    status, stdout, err = _run(capsys, ["Hello world.", "-o", str(out), "--seed", "0"])
    assert status == 0, err
    assert stdout == ""
    assert "voice: builtin" in err and "shipped in the package" in err and "Griffin-Lim" in err
    assert soundfile.info(str(out)).frames > 0


def test_waveglow_options_without_waveglow_are_refused(capsys, offline, tiny_builtin, tmp_path):
    status, _, err = _run(capsys, ["Hi.", "--pretrained", BUILTIN_VOICE, "--sigma", "0.5",
                                   "-o", str(tmp_path / "a.wav")])
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and "--sigma applies to WaveGlow" in err


@pytest.mark.skipif(not SHIPPED.is_file(), reason="no built-in voice shipped in tacotron2_waveglow/data/")
def test_shipped_voice_is_the_offline_default(capsys, offline, tmp_path):
    out = tmp_path / "hello.wav"
    status, _, err = _run(capsys, ["Hello world", "-o", str(out), "--seed", "0"])  # the example, no "."
    assert status == 0, err
    assert "voice: builtin" in err
    assert "max_decoder_steps" not in err  # it stopped by itself
    seconds = soundfile.info(str(out)).frames / 22050
    assert 0.4 < seconds < 3.0  # espeak-ng says "Hello world." in about 1 s
