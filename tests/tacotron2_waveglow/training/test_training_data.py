"""Dataset lists, up-front validation of bad rows, and collation."""
import pytest
import torch

from tacotron2_waveglow.training.data.bad_rows import BadRow, handle_bad_rows
from tacotron2_waveglow.training.data.collate import TextMelCollate, collate_mel_audio
from tacotron2_waveglow.training.data.filelist import read_filelist, read_ljspeech_metadata, read_utterances
from tacotron2_waveglow.training.data.validate import validate_utterances
from training_data import write_dataset, write_wav


def test_filelist_paths_are_relative_to_dataset_path(tmp_path):
    listing = write_dataset(tmp_path)
    rows, bad = read_filelist(listing, tmp_path)
    assert not bad and len(rows) == 4
    assert rows[1].path == tmp_path / "wavs" / "utt1.wav"
    assert rows[1].text == "the quick brown fox." and rows[1].line == 2 and rows[1].source == str(listing)


def test_ljspeech_metadata_uses_normalized_text(tmp_path):
    meta = tmp_path / "metadata.csv"
    meta.write_text("LJ001-0001|Dr. Smith, 1st|Doctor Smith, first\nLJ001-0002|plain|\n", encoding="utf-8")
    rows, bad = read_utterances(meta)
    assert not bad
    assert rows[0].path == tmp_path / "wavs" / "LJ001-0001.wav"
    assert [r.text for r in rows] == ["Doctor Smith, first", "plain"]
    raw, _ = read_ljspeech_metadata(meta, normalized=False)
    assert raw[0].text == "Dr. Smith, 1st"


def _encode(text):
    ids = [ord(c) for c in text if c.isalpha() or c in " .,"]
    if not ids:
        raise ValueError(f"text {text!r} cleans to nothing")
    return ids


def test_every_bad_row_kind_is_reported_by_name(tmp_path):
    write_wav(tmp_path / "ok.wav", 0.5, 0)
    write_wav(tmp_path / "rate.wav", 0.5, 1, sr=16000)
    write_wav(tmp_path / "stereo.wav", 0.5, 2, channels=2)
    write_wav(tmp_path / "long.wav", 1.0, 3)
    (tmp_path / "broken.wav").write_bytes(b"RIFF not really")
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join([
        "ok.wav|fine text.",
        "missing.wav|no file.",
        "rate.wav|wrong rate.",
        "stereo.wav|two channels.",
        "ok.wav|   ",
        "ok.wav|@@@###",
        "long.wav|too long a clip.",
        "broken.wav|corrupt file.",
        "just-a-path.wav",
    ]) + "\n", encoding="utf-8")
    rows, bad = read_filelist(listing, tmp_path)
    good, more = validate_utterances(rows, sampling_rate=22050, max_seconds=0.8, encode=_encode)
    bad += more
    assert [r.line for r in good] == [1]
    reasons = {row.line: row.reason for row in bad}
    assert reasons[2] == "missing file"
    assert reasons[3].startswith("wrong sample rate (16000 Hz")
    assert reasons[4].startswith("stereo")
    assert reasons[5] == "empty text"
    assert reasons[6].startswith("un-encodable text")
    assert reasons[7].startswith("too long")
    assert reasons[8].startswith("unreadable audio")
    assert reasons[9].startswith("malformed row")
    with pytest.raises(ValueError) as info:
        handle_bad_rows(bad, "stop")
    message = str(info.value)
    for row in bad:
        assert f"{listing}:{row.line}: {row.path}: " in message
    with pytest.warns(UserWarning, match="missing file"):
        handle_bad_rows(bad, "skip")
    handle_bad_rows([], "stop")
    with pytest.raises(ValueError, match="ignore"):
        handle_bad_rows(bad, "ignore")


def test_waveglow_lists_may_hold_paths_only(tmp_path):
    write_wav(tmp_path / "a.wav", 0.3, 0)
    listing = tmp_path / "wg.txt"
    listing.write_text("a.wav\n", encoding="utf-8")
    rows, bad = read_filelist(listing, tmp_path, require_text=False)
    good, more = validate_utterances(rows, require_text=False)
    assert not bad and not more and len(good) == 1


@pytest.mark.parametrize("n_frames_per_step", [1, 3])
def test_text_mel_collate_pads_sorts_and_gates(n_frames_per_step):
    items = [(torch.tensor([1, 2]), torch.ones(3, 4), 2),
             (torch.tensor([5, 6, 7, 8]), 2 * torch.ones(3, 7), 4),
             (torch.tensor([9, 9, 9]), 3 * torch.ones(3, 5), 3)]
    text, in_lens, mel, gate, out_lens, n_chars = TextMelCollate(n_frames_per_step)(items)
    assert in_lens.tolist() == [4, 3, 2]
    assert text.tolist()[0] == [5, 6, 7, 8] and text.tolist()[2] == [1, 2, 0, 0]
    assert out_lens.tolist() == [7, 5, 4]
    assert mel.shape[-1] % n_frames_per_step == 0 and mel.shape[-1] >= 7
    assert torch.all(mel[1, :, :5] == 3) and torch.all(mel[1, :, 5:] == 0)
    for row, length in enumerate(out_lens.tolist()):
        assert torch.all(gate[row, :length - 1] == 0) and torch.all(gate[row, length - 1:] == 1)
    assert n_chars.sum().item() == 9


def test_mel_audio_collate_stacks():
    items = [(torch.randn(8, 5), torch.randn(1280), 1280) for _ in range(3)]
    mel, audio, lengths = collate_mel_audio(items)
    assert mel.shape == (3, 8, 5) and audio.shape == (3, 1280) and lengths.tolist() == [1280] * 3
    with pytest.raises(ValueError):
        collate_mel_audio([])


def test_bad_row_formats_file_line_path_reason():
    assert str(BadRow("l.txt", 3, "a.wav", "missing file")) == "l.txt:3: a.wav: missing file"
