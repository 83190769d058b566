"""WAV I/O: scaling against the stored integers, round trips, every error path."""
import warnings
import wave

import numpy as np
import pytest
import soundfile
import torch
from scipy.io import wavfile

from audio import load_wav, save_wav

RATE = 22050


def _ramp_int(dtype, n: int = 64) -> np.ndarray:
    """Integers spanning the full range of ``dtype``, both extremes included."""
    info = np.iinfo(dtype)
    return np.linspace(info.min, info.max, n).round().astype(dtype)


@pytest.mark.parametrize("dtype,full_scale", [(np.int16, 32768.0), (np.int32, 2.0 ** 31)])
def test_integer_pcm_scaling(tmp_path, dtype, full_scale):
    data = _ramp_int(dtype)
    path = tmp_path / "pcm.wav"
    wavfile.write(path, RATE, data)
    audio = load_wav(path)
    assert audio.dtype == torch.float32 and audio.shape == (data.size,)
    np.testing.assert_allclose(audio.numpy(), (data.astype(np.float64) / full_scale).astype(np.float32), rtol=0,
                               atol=0)
    assert audio.min() == -1.0 and audio.max() <= 1.0


def test_uint8_pcm_scaling(tmp_path):
    data = np.array([0, 64, 128, 200, 255], dtype=np.uint8)
    path = tmp_path / "u8.wav"
    wavfile.write(path, RATE, data)
    np.testing.assert_allclose(load_wav(path).numpy(), (data.astype(np.float32) - 128) / 128, rtol=0, atol=0)


def test_24bit_pcm_via_soundfile(tmp_path):
    path = tmp_path / "pcm24.wav"
    values = np.array([-(2 ** 23), -1, 0, 1, 2 ** 23 - 1], dtype=np.int32)
    soundfile.write(path, values.astype(np.float64) / 2 ** 23, RATE, subtype="PCM_24")
    np.testing.assert_allclose(load_wav(path).numpy(), values / 2.0 ** 23, rtol=0, atol=1e-7)


@pytest.mark.parametrize("subtype", ["FLOAT", "DOUBLE"])
def test_float_wav_roundtrip(tmp_path, subtype):
    data = np.random.default_rng(0).uniform(-1, 1, 500)
    path = tmp_path / "float.wav"
    soundfile.write(path, data, RATE, subtype=subtype)
    np.testing.assert_allclose(load_wav(path).numpy(), data.astype(np.float32), rtol=0, atol=0)


def test_float_wav_out_of_range_warns(tmp_path):
    path = tmp_path / "loud.wav"
    wavfile.write(path, RATE, np.array([0.0, 1.5, -2.0, 0.5], dtype=np.float32))
    with pytest.warns(UserWarning, match=r"2 float samples.*peak 2"):
        audio = load_wav(path)
    assert audio.tolist() == [0.0, 1.5, -2.0, 0.5]


def test_save_writes_int16_scaled_by_32767(tmp_path):
    audio = torch.tensor([0.0, 0.5, -0.5, 1.0, -1.0, 0.25 / 32767, 1e-6])
    path = save_wav(tmp_path / "out.wav", audio)
    rate, data = wavfile.read(path)
    assert rate == RATE and data.dtype == np.int16
    np.testing.assert_array_equal(data, np.round(audio.double().numpy() * 32767).astype(np.int16))


@pytest.mark.parametrize("rate,n", [(22050, 0), (22050, 1), (16000, 301), (44100, 5000)])
def test_save_writes_the_bytes_scipy_writes(tmp_path, rate, n):
    """The standard-library writer gives scipy.io.wavfile.write's file byte for byte (an odd sample count too)."""
    audio = torch.linspace(-1, 1, max(n, 1))[:n] if n else torch.zeros(1)
    path = save_wav(tmp_path / "ours.wav", audio, sampling_rate=rate)
    pcm = np.round(audio.double().numpy() * 32767).astype(np.int16)
    wavfile.write(tmp_path / "scipy.wav", rate, pcm)
    assert path.read_bytes() == (tmp_path / "scipy.wav").read_bytes()


@pytest.mark.parametrize("shape", [(300,), (1, 300)])
def test_save_load_roundtrip(tmp_path, shape):
    audio = torch.rand(shape) * 1.8 - 0.9
    path = save_wav(tmp_path / "rt.wav", audio, sampling_rate=16000)
    loaded = load_wav(path, expected_sampling_rate=16000)
    expected = np.round(audio.reshape(-1).double().numpy() * 32767) / 32768
    np.testing.assert_allclose(loaded.numpy(), expected.astype(np.float32), rtol=0, atol=0)
    assert (loaded - audio.reshape(-1)).abs().max() < 1e-4


def test_save_accepts_numpy(tmp_path):
    path = save_wav(tmp_path / "np.wav", np.array([0.1, -0.2], dtype=np.float32))
    assert wavfile.read(path)[1].tolist() == [round(0.1 * 32767), round(-0.2 * 32767)]


def test_save_clips_and_warns_with_count_and_peak(tmp_path):
    audio = torch.tensor([0.0, 1.25, -3.0, 0.5, 1.0])
    with pytest.warns(UserWarning, match=r"2 of 5 samples.*peak 3"):
        path = save_wav(tmp_path / "clip.wav", audio)
    assert wavfile.read(path)[1].tolist() == [0, 32767, -32767, 16384, 32767]


def test_save_in_range_does_not_warn(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        save_wav(tmp_path / "ok.wav", torch.tensor([1.0, -1.0, 0.0]))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_save_rejects_non_finite(tmp_path, bad):
    path = tmp_path / "bad.wav"
    with pytest.raises(ValueError, match="1 NaN/Inf"):
        save_wav(path, torch.tensor([0.0, bad, 0.1]))
    assert not path.exists()


@pytest.mark.parametrize("audio,error,match", [
    (torch.zeros(2, 10), ValueError, r"\(2, 10\)"),
    (torch.zeros(0), ValueError, "zero samples"),
    (torch.zeros(5, dtype=torch.int16), TypeError, "int16"),
    (np.zeros(5, dtype=np.int32), TypeError, "int32"),
    ([0.0, 0.1], TypeError, "list"),
])
def test_save_rejects_bad_audio(tmp_path, audio, error, match):
    with pytest.raises(error, match=match):
        save_wav(tmp_path / "x.wav", audio)


@pytest.mark.parametrize("rate", [0, -8000, 22050.5, True])
def test_save_rejects_bad_rate(tmp_path, rate):
    with pytest.raises(ValueError, match="sampling_rate"):
        save_wav(tmp_path / "x.wav", torch.zeros(4), sampling_rate=rate)


def test_wrong_sampling_rate(tmp_path):
    path = tmp_path / "sr.wav"
    wavfile.write(path, 44100, np.zeros(10, np.int16))
    with pytest.raises(ValueError, match=r"44100 Hz.*22050 Hz.*resample"):
        load_wav(path)
    assert load_wav(path, expected_sampling_rate=None).shape == (10,)
    assert load_wav(path, expected_sampling_rate=44100).shape == (10,)


def test_stereo_is_rejected(tmp_path):
    path = tmp_path / "stereo.wav"
    wavfile.write(path, RATE, np.zeros((10, 3), np.int16))
    with pytest.raises(ValueError, match="3 channels"):
        load_wav(path)


def test_zero_samples_is_rejected(tmp_path):
    path = tmp_path / "zero.wav"
    wavfile.write(path, RATE, np.zeros(0, np.int16))
    with pytest.raises(ValueError, match=r"zero\.wav.*zero samples"):
        load_wav(path)


def test_empty_file_is_rejected(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.wav.*empty"):
        load_wav(path)


def test_not_a_wav_is_rejected(tmp_path):
    path = tmp_path / "text.wav"
    path.write_text("this is plain text, not audio " * 4)
    with pytest.raises(ValueError, match=r"text\.wav.*not a readable WAV"):
        load_wav(path)


def test_truncated_data_is_rejected(tmp_path):
    path = tmp_path / "cut.wav"
    wavfile.write(path, RATE, np.arange(1000, dtype=np.int16))
    path.write_bytes(path.read_bytes()[:-300])
    with pytest.raises(ValueError, match=r"cut\.wav.*truncated"):
        load_wav(path)


def test_truncated_header_is_rejected(tmp_path):
    path = tmp_path / "hdr.wav"
    wavfile.write(path, RATE, np.arange(100, dtype=np.int16))
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(ValueError, match=r"hdr\.wav"):
        load_wav(path)


def test_nan_float_wav_is_rejected(tmp_path):
    path = tmp_path / "nan.wav"
    wavfile.write(path, RATE, np.array([0.0, np.nan, 0.2], dtype=np.float32))
    with pytest.raises(ValueError, match=r"nan\.wav.*1 NaN/Inf"):
        load_wav(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        load_wav(tmp_path / "missing.wav")


def _wav_bytes(channels=1, bits=16, rate=RATE, data=b"\x00\x00" * 10, declared=None, with_data=True, extra=b""):
    """A hand-made PCM WAV (independent of scipy's writer), with the header fields the test chooses."""
    import struct

    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra
    if with_data:
        body += b"data" + struct.pack("<I", len(data) if declared is None else declared) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_hand_made_header_reads(tmp_path):
    path = tmp_path / "ok.wav"
    path.write_bytes(_wav_bytes(data=np.array([0, 16384, -32768], dtype="<i2").tobytes()))
    assert load_wav(path).tolist() == [0.0, 0.5, -1.0]


@pytest.mark.parametrize("name,fields,match", [
    ("ch0", dict(channels=0), "0 channels"),
    ("bits0", dict(bits=0), "0 bits per sample"),
    ("rate0", dict(rate=0), "0 sampling rate"),
    ("nodata", dict(with_data=False), "no data chunk"),
    ("nodata_list", dict(with_data=False, extra=b"LIST\x04\x00\x00\x00INFO"), "no data chunk"),
    ("partial", dict(declared=10 ** 6), "truncated"),  # scipy alone returns the 10 samples present
])
def test_corrupt_headers_raise_value_error_only(tmp_path, name, fields, match):
    path = tmp_path / f"{name}.wav"
    path.write_bytes(_wav_bytes(**fields))
    with pytest.raises(ValueError, match=rf"{name}\.wav.*{match}"):
        load_wav(path, expected_sampling_rate=None)


def test_directory_is_a_value_error(tmp_path):
    folder = tmp_path / "folder.wav"
    folder.mkdir()
    with pytest.raises(ValueError, match=r"folder\.wav.*not a regular file"):
        load_wav(folder)


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    path = save_wav(tmp_path / "keep.wav", torch.zeros(100))
    before = path.read_bytes()

    def broken_writeframes(writer, data):
        writer._file.write(b"RIFF partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wave.Wave_write, "writeframes", broken_writeframes)  # a full disk in the middle
    with pytest.raises(OSError, match="(?i)no space left on device"):
        save_wav(path, torch.ones(100) * 0.5)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.wav"]  # no temporary file left


def test_save_without_overwrite_refuses_an_existing_file(tmp_path):
    path = save_wav(tmp_path / "mine.wav", torch.zeros(10))
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="mine.wav"):
        save_wav(path, torch.ones(10) * 0.5, overwrite=False)
    assert path.read_bytes() == before
    save_wav(tmp_path / "new.wav", torch.zeros(10), overwrite=False)
    assert (tmp_path / "new.wav").exists()
