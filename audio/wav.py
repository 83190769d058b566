"""WAV reading and writing with validation (float32 audio in ``[-1, 1]``)."""
from __future__ import annotations

import logging
import os
import struct
import warnings
import wave
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch

from .atomic import atomic_write

_LOG = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]

# Full-scale divisor per integer PCM dtype as scipy returns it (24-bit PCM comes
# back left-justified in int32, so it shares the int32 scale).
_INT_FULL_SCALE = {np.dtype(np.int16): 32768.0, np.dtype(np.int32): 2.0 ** 31, np.dtype(np.int64): 2.0 ** 63}
_INT16_SAVE_SCALE = 32767.0


def _check_header(path: Path) -> None:
    """Validate the RIFF/WAVE chunk layout that scipy trusts blindly; ``ValueError`` naming ``path``.

    Checks what makes ``scipy.io.wavfile.read`` divide by zero, fail with an
    ``UnboundLocalError`` or silently return part of the samples: a ``fmt ``
    chunk with at least one channel, a positive sampling rate, bits per
    sample and block size, a ``data`` chunk, and a declared data size that
    the file actually holds. RF64 files are left to scipy.
    """
    with open(path, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            if head[:4] == b"RF64":
                return
            raise ValueError(f"{path}: not a readable WAV file (no RIFF/WAVE header)")
        order = "<" if head[:4] == b"RIFF" else ">"
        size = path.stat().st_size
        fmt_seen = False
        while True:
            chunk = handle.read(8)
            if len(chunk) < 8:
                raise ValueError(f"{path}: the WAV file has no data chunk (truncated or corrupt)")
            name, length = chunk[:4], struct.unpack(order + "I", chunk[4:])[0]
            start = handle.tell()
            if name == b"fmt ":
                fields = handle.read(16)
                if length < 16 or len(fields) < 16:
                    raise ValueError(f"{path}: the WAV format chunk is truncated")
                _, channels, rate, _, block_align, bits = struct.unpack(order + "HHIIHH", fields)
                for what, value in (("channels", channels), ("sampling rate", rate), ("bits per sample", bits),
                                    ("block size", block_align)):
                    if value == 0:
                        raise ValueError(f"{path}: the WAV header gives 0 {what}; the file is corrupt")
                fmt_seen = True
            elif name == b"data":
                if not fmt_seen:
                    raise ValueError(f"{path}: the WAV data chunk comes before its format chunk (corrupt file)")
                if start + length > size:
                    raise ValueError(f"{path}: the WAV file is truncated: its data chunk declares {length} bytes "
                                     f"but only {size - start} follow")
                return
            handle.seek(start + length + (length & 1))


def _read_raw(path: Path) -> tuple[int, np.ndarray]:
    """``scipy.io.wavfile.read`` with every failure turned into ``ValueError`` naming ``path``."""
    if not path.is_file():
        raise ValueError(f"{path}: is not a regular file (a directory or device?), not a WAV file")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: the file is empty (0 bytes), not a WAV file")
    _check_header(path)
    from scipy.io import wavfile  # imported here: scipy costs ~0.3 s at start-up

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", wavfile.WavFileWarning)
        try:
            rate, data = wavfile.read(path)
        except OSError:
            raise
        except Exception as err:  # scipy raises many types on corrupt input (ValueError, struct.error, ...)
            raise ValueError(f"{path}: not a readable WAV file ({type(err).__name__}: {err})") from err
    for warning in caught:
        message = str(warning.message)
        if "EOF" in message or "prematurely" in message:
            raise ValueError(f"{path}: the WAV file is truncated or corrupt ({message})")
        if "non-data" in message:
            # Metadata chunks (LIST, PEAK, ...) that scipy skips carry no samples.
            _LOG.debug("%s: %s", path, message)
            continue
        warnings.warn(f"{path}: {message}", warning.category, stacklevel=3)
    return rate, data


def _to_float(data: np.ndarray, path: Path) -> np.ndarray:
    """PCM samples of any WAV dtype -> float32 in ``[-1, 1]``."""
    if data.dtype == np.uint8:
        return ((data.astype(np.float32) - 128.0) / 128.0).astype(np.float32)
    if data.dtype in _INT_FULL_SCALE:
        return (data.astype(np.float64) / _INT_FULL_SCALE[data.dtype]).astype(np.float32)
    if data.dtype.kind == "f":
        samples = data.astype(np.float32)
        if not np.isfinite(samples).all():
            raise ValueError(f"{path}: float WAV holds {int((~np.isfinite(samples)).sum())} NaN/Inf samples")
        outside = int((np.abs(samples) > 1).sum())
        if outside:
            warnings.warn(f"{path}: {outside} float samples lie outside [-1, 1] (peak "
                          f"{float(np.abs(samples).max()):.6g}); they are returned unchanged", stacklevel=3)
        return samples
    raise ValueError(f"{path}: unsupported WAV sample type {data.dtype}; use 8/16/24/32-bit PCM or float")


def load_wav(path: PathLike, expected_sampling_rate: Optional[int] = 22050) -> torch.Tensor:
    """Read a mono WAV file as float32 audio ``(T,)`` in ``[-1, 1]``.

    Integer PCM is divided by its full scale: int16 by 32768, int32 (and
    24-bit) by ``2**31``; unsigned 8-bit is ``(x - 128) / 128``; float WAV is
    returned as stored (a warning counts samples outside ``[-1, 1]``).

    Args:
        path: file to read.
        expected_sampling_rate: required rate in Hz; ``None`` accepts any rate.

    Raises:
        ValueError: wrong sampling rate, more than one channel, no samples,
            NaN/Inf samples, or a file that is empty, not a regular file (a
            directory), not a WAV, truncated or corrupt (a header with 0
            channels, 0 bits per sample, no data chunk, ...).  The message
            names the file and the problem.
        FileNotFoundError: ``path`` does not exist.
        PermissionError: ``path`` cannot be read.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"WAV file not found: {path}")
    rate, data = _read_raw(path)
    if expected_sampling_rate is not None and rate != expected_sampling_rate:
        raise ValueError(
            f"{path}: sampling rate is {rate} Hz but {expected_sampling_rate} Hz is expected; resample it first "
            f"(e.g. librosa.resample(y, orig_sr={rate}, target_sr={expected_sampling_rate}) or "
            f"`sox in.wav -r {expected_sampling_rate} out.wav`), or pass expected_sampling_rate=None")
    if data.ndim != 1:
        raise ValueError(
            f"{path}: has {data.shape[1]} channels but mono audio is required; mix down first "
            f"(e.g. average the channels)")
    if data.size == 0:
        raise ValueError(f"{path}: the WAV file holds zero samples")
    return torch.from_numpy(np.ascontiguousarray(_to_float(data, path)))


def _as_mono_float(audio: Union[torch.Tensor, np.ndarray]) -> np.ndarray:
    """``(T,)`` or ``(1, T)`` float tensor/array -> float64 ``(T,)`` numpy, validated."""
    if isinstance(audio, torch.Tensor):
        if not audio.is_floating_point():
            raise TypeError(f"save_wav expects float audio in [-1, 1], got a {audio.dtype} tensor")
        array = audio.detach().to("cpu", torch.float64).numpy()
    elif isinstance(audio, np.ndarray):
        if audio.dtype.kind != "f":
            raise TypeError(f"save_wav expects float audio in [-1, 1], got a {audio.dtype} array")
        array = audio.astype(np.float64)
    else:
        raise TypeError(f"save_wav expects a torch.Tensor or numpy.ndarray, got {type(audio).__name__}")
    if array.ndim == 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 1:
        raise ValueError(f"save_wav expects audio of shape (T,) or (1, T), got {tuple(array.shape)}")
    if array.size == 0:
        raise ValueError("save_wav got zero samples; nothing to write")
    bad = int((~np.isfinite(array)).sum())
    if bad:
        raise ValueError(f"audio contains {bad} NaN/Inf samples; refusing to write a corrupt WAV file")
    return array


def save_wav(path: PathLike, audio: Union[torch.Tensor, np.ndarray], sampling_rate: int = 22050, *,
             overwrite: bool = True) -> Path:
    """Write float audio ``(T,)`` or ``(1, T)`` as a mono 16-bit PCM WAV file, atomically.

    The file is written beside ``path`` and moved into place (see
    :func:`audio.atomic.atomic_write`): a crash or a full disk leaves any
    previous file intact and no partial WAV. ``overwrite=False`` refuses an
    existing ``path`` at the moment the file would appear, so two writers
    racing for one name never replace each other's file.

    Samples are scaled by 32767 and rounded to the nearest integer (ties to
    even, as ``np.round``), so 1.0 maps to 32767 and -1.0 to -32767
    (:func:`load_wav` divides by 32768, as NVIDIA's loader).  Samples beyond ``[-1, 1]`` are clipped and a warning
    reports how many there were and the peak absolute value.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        ValueError: NaN/Inf samples, no samples, a bad shape or a non-positive
            sampling rate.
        TypeError: integer audio, or neither a tensor nor an array.
        FileExistsError: ``overwrite=False`` and ``path`` exists.
        OSError: the file cannot be written (the old one, if any, is kept).
    """
    if isinstance(sampling_rate, bool) or not isinstance(sampling_rate, (int, np.integer)) or sampling_rate <= 0:
        raise ValueError(f"sampling_rate must be a positive integer (Hz), got {sampling_rate!r}")
    samples = _as_mono_float(audio)
    clipped = int((np.abs(samples) > 1.0).sum())
    if clipped:
        warnings.warn(
            f"save_wav: {clipped} of {samples.size} samples lie outside [-1, 1] (peak "
            f"{float(np.abs(samples).max()):.6g}) and were clipped; normalise the audio to avoid distortion",
            stacklevel=2)
        samples = np.clip(samples, -1.0, 1.0)
    pcm = np.round(samples * _INT16_SAVE_SCALE).astype("<i2")
    return atomic_write(path, lambda handle: _write_pcm16(handle, int(sampling_rate), pcm), overwrite=overwrite)


def _write_pcm16(handle, sampling_rate: int, pcm: np.ndarray) -> None:
    """Mono little-endian 16-bit PCM ``pcm`` as a canonical 44-byte-header WAV, byte for byte what
    ``scipy.io.wavfile.write`` writes (the tests compare them); the standard library's ``wave``
    instead of scipy, whose import costs about 0.3 s of every ``tacotron2-tts`` run."""
    with wave.open(handle, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(sampling_rate)
        writer.setnframes(pcm.size)
        writer.writeframes(pcm.tobytes())
