"""Up-front checks of every dataset row, so bad data is reported before training starts."""
from __future__ import annotations

import warnings
from typing import Callable, List, Optional, Sequence, Tuple

import soundfile

from .bad_rows import BadRow
from .filelist import Utterance

#: ``encode(text) -> ids``; raises ``ValueError`` for text it cannot encode.
TextEncoder = Callable[[str], Sequence[int]]

MISSING_FILE = "missing file"
UNREADABLE_AUDIO = "unreadable audio"
WRONG_SAMPLE_RATE = "wrong sample rate"
STEREO = "stereo"
EMPTY_AUDIO = "empty audio"
EMPTY_TEXT = "empty text"
UNENCODABLE_TEXT = "un-encodable text"
TOO_LONG = "too long"


def check_audio(path: str, sampling_rate: int, max_seconds: Optional[float]) -> Optional[str]:
    """Why the WAV at ``path`` cannot be used (``None`` if it can); reads the header only."""
    try:
        info = soundfile.info(path)
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        return f"{UNREADABLE_AUDIO} ({exc})"
    if info.samplerate != sampling_rate:
        return f"{WRONG_SAMPLE_RATE} ({info.samplerate} Hz, expected {sampling_rate} Hz)"
    if info.channels != 1:
        return f"{STEREO} ({info.channels} channels, expected mono)"
    if info.frames == 0:
        return EMPTY_AUDIO
    if max_seconds is not None and info.frames > max_seconds * sampling_rate:
        return f"{TOO_LONG} ({info.frames / sampling_rate:.2f} s > limit {max_seconds:g} s)"
    return None


def check_text(text: str, encode: Optional[TextEncoder]) -> Optional[str]:
    """Why ``text`` cannot be used (``None`` if it can)."""
    if not text.strip():
        return EMPTY_TEXT
    if encode is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # dropped characters are the text package's warning
            ids = encode(text)
    except (ValueError, KeyError) as exc:
        return f"{UNENCODABLE_TEXT} ({exc})"
    return None if len(ids) else UNENCODABLE_TEXT


def validate_utterances(rows: Sequence[Utterance], sampling_rate: int = 22050, max_seconds: Optional[float] = None,
                        encode: Optional[TextEncoder] = None, require_text: bool = True,
                        audio_files: bool = True) -> Tuple[List[Utterance], List[BadRow]]:
    """Split ``rows`` into usable ones and :class:`BadRow` s with the reason for each.

    Checks that the file exists; for audio (``audio_files``) its sample rate,
    channel count, length and ``max_seconds``; for text (``require_text``)
    that it is non-empty and that ``encode`` accepts it.
    """
    good, bad = [], []
    for row in rows:
        reason = _check_row(row, sampling_rate, max_seconds, encode, require_text, audio_files)
        if reason is None:
            good.append(row)
        else:
            bad.append(BadRow(row.source, row.line, str(row.path), reason))
    return good, bad


def _check_row(row: Utterance, sampling_rate: int, max_seconds: Optional[float], encode: Optional[TextEncoder],
               require_text: bool, audio_files: bool) -> Optional[str]:
    if not row.path.is_file():
        return MISSING_FILE
    if require_text:
        reason = check_text(row.text, encode)
        if reason:
            return reason
    if audio_files:
        return check_audio(str(row.path), sampling_rate, max_seconds)
    return None
