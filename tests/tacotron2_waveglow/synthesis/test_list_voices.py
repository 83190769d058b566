"""``tacotron2-tts --list-voices``: every named voice, its vocoder, and whether it needs a download."""
import io

from checkpoints.download import cached_path
from tacotron2_waveglow.bundles import VOICES, get_voice
from tacotron2_waveglow.synthesis.cli import main


def _listing(capsys, cache):
    status = main(["--list-voices", "--cache-dir", str(cache)], stdin=io.StringIO(""))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return {line.split()[0]: line.split()[1:3] for line in captured.out.splitlines()}


def test_lists_every_voice_with_its_vocoder_and_cache_state(capsys, tmp_path):
    rows = _listing(capsys, tmp_path)
    assert set(rows) == set(VOICES)
    assert rows["ljspeech"] == ["waveglow", "not"]          # "not downloaded"
    assert rows["builtin"] == ["griffin-lim", "shipped"]


def test_a_voice_whose_files_are_in_the_cache_is_listed_as_cached(capsys, tmp_path):
    for entry in get_voice("ljspeech-fp16").files:
        cached_path(entry, tmp_path).write_bytes(b"x")
    rows = _listing(capsys, tmp_path)
    assert rows["ljspeech-fp16"] == ["waveglow", "cached"]
    assert rows["ljspeech"] == ["waveglow", "not"]
