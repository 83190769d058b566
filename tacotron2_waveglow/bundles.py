"""Named voices: each carries its text processor, Tacotron 2, vocoder, sample rate and hop length.

Modelled on torchaudio's TTS bundles::

    from tacotron2_waveglow.bundles import get_voice

    voice = get_voice("ljspeech")              # NVIDIA's DLE weights (downloaded once)
    processor = voice.get_text_processor()
    tacotron2 = voice.get_tacotron2()
    vocoder = voice.get_vocoder()              # WaveGlow (+ denoiser), or Griffin-Lim for 'builtin'
    tokens, lengths = processor("Hello world.")
    mel, mel_lengths, _ = tacotron2.infer(tokens, lengths)
    audio = vocoder(mel, mel_lengths.tolist())[0]   # (mel_lengths[0] * voice.hop_length,) at voice.sample_rate

:func:`list_voices` gives every name; ``tacotron2-tts --list-voices`` prints
them with what is already in the download cache. The pipeline
(:meth:`tacotron2_waveglow.synthesis.Synthesizer.from_voice`), the CLI and the
benchmarks take the text cleaners, end punctuation, sample rate and hop
length from here and nowhere else.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple, Union

from checkpoints.registry import PretrainedFile, get_pretrained_file

if TYPE_CHECKING:  # annotations only: importing the module does not import torch
    import torch

PathLike = Union[str, "os.PathLike[str]"]

SAMPLE_RATE = 22050
"""Sample rate of every voice here (NVIDIA's LJ Speech models and the built-in voice)."""
HOP_LENGTH = 256
"""Audio samples per mel frame of every voice here."""


@dataclass(frozen=True)
class TextProcessor:
    """Text -> symbol ids as a voice was trained: the cleaners, then optional end punctuation.

    Attributes:
        cleaners: names of :mod:`text.cleaners` functions applied in order.
        end_punctuation: when set, a piece of text that does not end a
            sentence gets this mark (the built-in voice needs ``"."``: it was
            trained only on sentences ending in ``. ! ?``); ``None`` speaks the
            text as given, as NVIDIA's code does.
        arpabet: when true, each word of the cleaned text that the CMU
            dictionary knows is read as its first pronunciation (``{ARPAbet}``,
            :func:`text.to_arpabet`), for a voice trained on phonemes; other
            words stay letters. The dictionary loads on first use (about a
            second) and stays with this processor. NVIDIA's voices read letters.
    """

    cleaners: Tuple[str, ...] = ("english_cleaners",)
    end_punctuation: Optional[str] = None
    arpabet: bool = False

    def to_dict(self) -> Dict[str, object]:
        """JSON-ready settings (what a voice file or an ONNX manifest records)."""
        return {"cleaners": list(self.cleaners), "end_punctuation": self.end_punctuation, "arpabet": self.arpabet}

    @classmethod
    def from_dict(cls, data: object, where: str = "text processor settings") -> "TextProcessor":
        """The processor :meth:`to_dict` described; ``ValueError`` naming ``where`` for anything malformed."""
        from text.cleaners import CLEANERS

        if not isinstance(data, dict) or not set(data) <= {"cleaners", "end_punctuation", "arpabet"}:
            raise ValueError(f"{where}: expected a dict with cleaners, end_punctuation and arpabet, got {data!r:.200}")
        cleaners = data.get("cleaners", list(cls.cleaners))
        end = data.get("end_punctuation")
        arpabet = data.get("arpabet", False)
        if (not isinstance(cleaners, (list, tuple)) or not all(isinstance(c, str) and c in CLEANERS for c in cleaners)
                or not (end is None or isinstance(end, str)) or not isinstance(arpabet, bool)):
            raise ValueError(f"{where}: cleaners must be names from text.cleaners ({', '.join(CLEANERS)}), "
                             f"end_punctuation a string or null, arpabet true or false; got {data!r:.200}")
        return cls(tuple(cleaners), end, arpabet)

    @cached_property
    def _dictionary(self):
        from text import CMUDict

        return CMUDict()

    def spelled(self, piece: str) -> str:
        """``piece`` as the model reads it: with ``{ARPAbet}`` words when :attr:`arpabet` is set, else as given."""
        if not self.arpabet:
            return piece
        from text import to_arpabet

        return to_arpabet(piece, self._dictionary, self.cleaners)

    def finish(self, piece: str) -> str:
        """``piece`` with :attr:`end_punctuation` added when it does not end a sentence."""
        if not self.end_punctuation:
            return piece
        from .synthesis.split import ensure_sentence_end

        return ensure_sentence_end(piece, self.end_punctuation)

    def encode(self, piece: str) -> torch.Tensor:
        """Symbol ids ``(N,)`` (int64) of one piece of text, as given (no end punctuation added)."""
        import torch  # imported where used: `tacotron2-tts --help` loads this module without torch
        from text import text_to_sequence

        return torch.tensor(text_to_sequence(self.spelled(piece), list(self.cleaners)), dtype=torch.long)

    def __call__(self, texts: Union[str, Sequence[str]]) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(tokens (B, N_max) int64, lengths (B,) int64)`` for one text or a batch, zero-padded.

        Each text gets :meth:`finish` first; the batch keeps the given order
        (``Tacotron2.infer`` accepts unsorted batches).
        """
        import torch

        texts = [texts] if isinstance(texts, str) else list(texts)
        if not texts:
            raise ValueError("no text given: pass a string or a non-empty list of strings")
        sequences = [self.encode(self.finish(t)) for t in texts]
        lengths = torch.tensor([len(s) for s in sequences], dtype=torch.long)
        tokens = torch.zeros(len(sequences), int(lengths.max()), dtype=torch.long)
        for row, seq in enumerate(sequences):
            tokens[row, :len(seq)] = seq
        return tokens, lengths


NVIDIA_TEXT = TextProcessor()
"""NVIDIA's text front end: ``english_cleaners``, text spoken as given."""


@dataclass(frozen=True)
class Voice:
    """One named voice (a torchaudio-style bundle).

    Attributes:
        name: the name users type (``--pretrained NAME``).
        description: one line for listings.
        tacotron2_file: the published Tacotron 2 file, or ``None`` for the
            checkpoint shipped in the package.
        waveglow_file: the published WaveGlow file, or ``None`` when the voice
            has none (it is vocoded by Griffin-Lim).
        text_processor: how its text is turned into symbol ids.
        sample_rate: audio samples per second.
        hop_length: audio samples per mel frame.
    """

    name: str
    description: str
    tacotron2_file: Optional[PretrainedFile]
    waveglow_file: Optional[PretrainedFile]
    text_processor: TextProcessor = NVIDIA_TEXT
    sample_rate: int = SAMPLE_RATE
    hop_length: int = HOP_LENGTH

    @property
    def vocoder_name(self) -> str:
        """``"waveglow"`` when the voice has a WaveGlow, else ``"griffin-lim"``."""
        return "waveglow" if self.waveglow_file is not None else "griffin-lim"

    @property
    def files(self) -> List[PretrainedFile]:
        """The files it downloads (none for the built-in voice)."""
        return [f for f in (self.tacotron2_file, self.waveglow_file) if f is not None]

    def is_cached(self, cache_dir: Optional[PathLike] = None) -> bool:
        """Whether using it needs no download (every file already in the cache)."""
        from checkpoints.download import cached_path

        if self.tacotron2_file is None:
            from .builtin_voice import BUILTIN_DIR, BUILTIN_VOICE_NAME

            if not (BUILTIN_DIR / BUILTIN_VOICE_NAME).is_file():
                return False
        return all(cached_path(f, cache_dir).is_file() for f in self.files)

    def get_text_processor(self) -> TextProcessor:
        """The :class:`TextProcessor` its Tacotron 2 was trained with.

        For the built-in voice, the one its shipped file records (a phoneme voice reads ``{ARPAbet}``),
        else :attr:`text_processor`.
        """
        if self.tacotron2_file is None:
            from .builtin_voice import builtin_text_processor

            return builtin_text_processor(self.text_processor)
        return self.text_processor

    def get_tacotron2(self, *, cache_dir: Optional[PathLike] = None, progress: bool = True,
                      force_download: bool = False, map_location: Union[str, torch.device] = "cpu"):
        """Its :class:`tacotron2.Tacotron2` in eval mode (downloaded once into ``cache_dir``)."""
        if self.tacotron2_file is None:
            from .builtin_voice import load_builtin_voice

            return load_builtin_voice(map_location)
        return load_pretrained(self.tacotron2_file, cache_dir, progress=progress, force_download=force_download,
                               map_location=map_location)

    def get_waveglow(self, *, cache_dir: Optional[PathLike] = None, progress: bool = True,
                     force_download: bool = False, map_location: Union[str, torch.device] = "cpu"):
        """Its :class:`waveglow.WaveGlow` in eval mode; ``ValueError`` for a voice without one."""
        if self.waveglow_file is None:
            raise ValueError(f"the {self.name} voice has no WaveGlow: use the griffin-lim vocoder "
                             "or give a WaveGlow checkpoint")
        return load_pretrained(self.waveglow_file, cache_dir, progress=progress, force_download=force_download,
                               map_location=map_location)

    def get_vocoder(self, *, cache_dir: Optional[PathLike] = None, progress: bool = True,
                    griffin_lim_iters: int = 60, n_mel_channels: int = 80):
        """The vocoder the voice is meant for: a ``WaveGlowVocoder`` (with its denoiser) or a ``GriffinLimVocoder``.

        Both are called as ``vocoder(mel (B, n_mels, T), lengths, sigma=..., denoise=...)`` and
        return one float32 waveform ``(lengths[b] * hop_length,)`` per item.
        """
        from .synthesis.vocoders import GriffinLimVocoder, WaveGlowVocoder

        if self.waveglow_file is None:
            return GriffinLimVocoder(n_mel_channels=n_mel_channels, n_iters=griffin_lim_iters)
        return WaveGlowVocoder(self.get_waveglow(cache_dir=cache_dir, progress=progress))


def load_pretrained(entry: Union[str, PretrainedFile], cache_dir: Optional[PathLike] = None, *,
                    progress: bool = True, force_download: bool = False,
                    map_location: Union[str, torch.device] = "cpu") -> torch.nn.Module:
    """Download (once) and load the published file ``entry`` as a model in eval mode.

    Raises ``checkpoints.download.DownloadError`` when the file cannot be
    fetched and ``CheckpointError`` when it does not load.
    """
    from checkpoints import load_tacotron2, load_waveglow
    from checkpoints.download import download_file

    entry = get_pretrained_file(entry) if isinstance(entry, str) else entry
    path = download_file(entry, cache_dir, force=force_download, progress=progress)
    loader = load_tacotron2 if entry.model == "tacotron2" else load_waveglow
    config = dict(entry.config) if entry.config is not None else None
    return loader(path, config=config, map_location=map_location)


def _voices() -> Dict[str, Voice]:
    file = get_pretrained_file
    return {v.name: v for v in (
        Voice("ljspeech", "NVIDIA's DLE torch.hub Tacotron 2 + WaveGlow, LJ Speech, fp32 (downloaded once)",
              file("tacotron2-dle-fp32"), file("waveglow-dle-fp32")),
        Voice("ljspeech-fp16", "NVIDIA's DLE torch.hub Tacotron 2 + WaveGlow, LJ Speech, AMP-trained fp16 files",
              file("tacotron2-dle-fp16"), file("waveglow-dle-fp16")),
        Voice("ljspeech-nvidia", "NVIDIA/tacotron2's published model + the 256-channel WaveGlow of its README "
              "(fetched by hand from Google Drive)", file("tacotron2-nvidia"), file("waveglow-nvidia-universe")),
        Voice("builtin", "small Tacotron 2 trained with this library, shipped in the package (no download), "
              "Griffin-Lim vocoder", None, None, TextProcessor(end_punctuation=".")),
    )}


VOICES: Dict[str, Voice] = _voices()
"""Every named voice, by name."""
DEFAULT_VOICE = "ljspeech"
"""NVIDIA's voice: the default when its files are in the download cache."""
BUILTIN_VOICE = "builtin"
"""The voice shipped in the package: the default when NVIDIA's files are not downloaded."""


def list_voices() -> List[str]:
    """The names of every voice."""
    return list(VOICES)


def get_voice(name: Union[str, Voice]) -> Voice:
    """The voice called ``name``; ``ValueError`` listing the known names otherwise."""
    if isinstance(name, Voice):
        return name
    try:
        return VOICES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown voice {name!r}; known: {', '.join(VOICES)}") from None


def default_voice(cache_dir: Optional[PathLike] = None) -> str:
    """The voice used when no weights are named.

    :data:`DEFAULT_VOICE` (NVIDIA's) when its files are already in the
    download cache, else :data:`BUILTIN_VOICE` when the package ships it (no
    network needed), else :data:`DEFAULT_VOICE` (downloaded on first use).
    """
    if VOICES[DEFAULT_VOICE].is_cached(cache_dir):
        return DEFAULT_VOICE
    if VOICES[BUILTIN_VOICE].is_cached(cache_dir):
        return BUILTIN_VOICE
    return DEFAULT_VOICE


__all__ = ["TextProcessor", "Voice", "VOICES", "DEFAULT_VOICE", "BUILTIN_VOICE", "SAMPLE_RATE", "HOP_LENGTH",
           "NVIDIA_TEXT", "list_voices", "get_voice", "default_voice", "load_pretrained"]
