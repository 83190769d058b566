"""Evaluate a voice checkpoint on held-out sentences: the checks, and intelligibility beside its teacher's.

``python -m recipes.builtin_voice.report --checkpoint RUN/checkpoint_latest.pt --out REPORT``
speaks the held-out sentences (:mod:`recipes.builtin_voice.heldout`, none in
any corpus) with the teacher (``--teacher``, default :data:`DEFAULT_TEACHER`)
into ``REPORT/teacher/`` and with the voice (vocoded with the built-in voice's
Griffin-Lim setting, :func:`builtin_vocoder`) into ``REPORT/voice/``, then writes

* ``REPORT/eval_heldout.json``: the per-sentence checks (stops by itself,
  monotonic, reaches the end, duration within 20 % of the teacher's) and MCD
  against the teacher;
* the WER row: PocketSphinx's bundled en-us model on both folders (16 kHz,
  ``scipy.signal.resample_poly``), word error rate of the voice and of the
  teacher on the same sentences, the recogniser's version and the sentence set
  (with ``--runs K``, the voice's WER over K runs with other dropout seeds);
* ``wer_teacher_forced``, a diagnostic: the voice's WER when each step is fed
  the teacher's previous frame (teacher forcing, as in training; WAVs in
  ``REPORT/teacher_forced/``). The distance from it to the free-running WER
  is the exposure gap; it does not count towards ``ship``;
* ``REPORT/summary.json`` with all of these and ``ship``: whether every held-out
  sentence passes every check and the voice's WER is within
  :data:`MAX_WER_GAP` points of the teacher's (the bar for replacing the shipped voice);
* ``REPORT/alignment.png``: the first sentence's inference alignment.

With ``--corpus DATA`` it also evaluates the first ``--n`` sentences of the
corpus's ``filelist_val.txt`` (``eval_trained.json``) and, unless
``--no-baseline``, an untrained model of the same size (``eval_untrained.json``),
and adds ``teacher_forced_on_corpus``, a diagnostic of generalization: the
teacher-forced WER row on the first ``--n`` training sentences (``seen``) and
validation sentences (``unseen``), each beside the WER of the corpus's own
teacher WAVs of them (WAVs in ``REPORT/teacher_forced_seen/`` and
``REPORT/teacher_forced_unseen/``). A voice that is close to its teacher on
``seen`` but not on ``unseen`` or the held-out sentences has memorized its
corpus rather than learned to read.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch

from audio import TacotronSTFT, load_wav, save_wav
from checkpoints import load_tacotron2
from tacotron2 import Tacotron2
from text.cleaners import english_cleaners
from tacotron2_waveglow.builtin_voice import recorded_text_processor
from tacotron2_waveglow.bundles import BUILTIN_VOICE, NVIDIA_TEXT, TextProcessor, get_voice
from tacotron2_waveglow.training.plots import save_alignment_png
from tacotron2_waveglow.synthesis.vocoders import GriffinLimVocoder
from recipes.builtin_voice.corpus import TRAIN_FILELIST, VAL_FILELIST
from recipes.builtin_voice.evaluate import VoiceEvaluation, evaluate_voice
from recipes.builtin_voice.files import atomic_write_text
from recipes.builtin_voice.heldout import HELDOUT_NAME, HELDOUT_SENTENCES
from recipes.builtin_voice.recognizer import PocketSphinxRecognizer
from recipes.builtin_voice.teacher import DEFAULT_TEACHER, Teacher, get_teacher, is_complete_wav
from recipes.builtin_voice.wer import word_error_rate

logger = logging.getLogger(__name__)
PathLike = Union[str, "os.PathLike[str]"]
MAX_WER_GAP = 10.0
"""Most WER points the voice may trail its teacher by and still be shipped."""
SEED_STRIDE = 1000
"""Run ``k`` of ``--runs`` speaks sentence ``i`` after ``torch.manual_seed(k * SEED_STRIDE + i)``."""


def corpus_pairs(corpus: PathLike, filelist: str, n: int = 20) -> List[Tuple[str, Path]]:
    """The first ``n`` ``(text, wav_path)`` rows of ``corpus/filelist`` (a corpus's train or val list)."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    root = Path(corpus)
    lines = (root / filelist).read_text(encoding="utf-8").splitlines()
    pairs = [(text, root / wav) for wav, text in (line.split("|", 1) for line in lines if line.strip())]
    if len(pairs) < n:
        raise ValueError(f"{root / filelist} has {len(pairs)} sentence(s), fewer than n={n}")
    return pairs[:n]


def validation_pairs(corpus: PathLike, n: int = 20) -> List[Tuple[str, Path]]:
    """The first ``n`` ``(text, wav_path)`` rows of ``corpus/filelist_val.txt``."""
    return corpus_pairs(corpus, VAL_FILELIST, n)


def untrained_like(model: Tacotron2, seed: int = 0) -> Tacotron2:
    """A freshly initialised :class:`Tacotron2` with ``model``'s config (the baseline)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Tacotron2(model.config).eval()


def builtin_vocoder(n_mel_channels: int = 80) -> GriffinLimVocoder:
    """The Griffin-Lim vocoder the ``builtin`` voice ships with (its bundle's settings)."""
    return get_voice(BUILTIN_VOICE).get_vocoder(n_mel_channels=n_mel_channels)


def evaluate_model(model: Tacotron2, pairs: Sequence[Tuple[str, PathLike]], json_path: Optional[PathLike] = None,
                   vocoder: Optional[GriffinLimVocoder] = None, audio_dir: Optional[PathLike] = None,
                   text_processor: TextProcessor = NVIDIA_TEXT, seed: int = 0) -> VoiceEvaluation:
    """:func:`recipes.builtin_voice.evaluate.evaluate_voice` with a Griffin-Lim vocoder (default :func:`builtin_vocoder`)."""
    n_mels = model.config.n_mel_channels
    vocoder = vocoder if vocoder is not None else builtin_vocoder(n_mels)
    return evaluate_voice(model.eval(), vocoder.waveform, pairs, taco_stft=TacotronSTFT(n_mel_channels=n_mels),
                          json_path=json_path, audio_dir=audio_dir, text_processor=text_processor, seed=seed)


def teacher_references(teacher: Teacher, sentences: Sequence[str], out_dir: PathLike,
                       sampling_rate: int = 22050) -> List[Tuple[str, Path]]:
    """``(sentence, wav)`` pairs of the teacher speaking ``sentences`` into ``out_dir/01.wav`` ...; kept WAVs reused."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    pairs = []
    for i, sentence in enumerate(sentences):
        path = folder / f"{i + 1:02d}.wav"
        if not is_complete_wav(path, sampling_rate):
            teacher.synthesize(english_cleaners(sentence), path, sampling_rate)
        pairs.append((sentence, path))
    return pairs


def wer_row(recognizer: PocketSphinxRecognizer, sentences: Sequence[str], voice_wavs: Sequence[PathLike],
            teacher_wavs: Sequence[PathLike], sentence_set: str = HELDOUT_NAME) -> Dict[str, Any]:
    """The report's intelligibility row: WER (percent) of the voice and of its teacher on the same sentences.

    Args:
        recognizer: transcribes each WAV.
        sentences: what was said (references).
        voice_wavs, teacher_wavs: one WAV per sentence from each system.
        sentence_set: name recorded with the numbers.

    Returns:
        ``{'sentence_set', 'n_sentences', 'recognizer', 'voice', 'teacher', 'gap', 'transcripts'}``
        where ``gap = voice - teacher`` and ``transcripts`` lists every sentence's two hypotheses.
    """
    if not (len(sentences) == len(voice_wavs) == len(teacher_wavs)) or not sentences:
        raise ValueError(f"give one voice WAV and one teacher WAV per sentence, got {len(sentences)} sentences, "
                         f"{len(voice_wavs)} and {len(teacher_wavs)} WAVs")
    voice = [recognizer.transcribe_file(path) for path in voice_wavs]
    teacher = [recognizer.transcribe_file(path) for path in teacher_wavs]
    voice_wer, teacher_wer = word_error_rate(sentences, voice), word_error_rate(sentences, teacher)
    return {"sentence_set": sentence_set, "n_sentences": len(sentences), "recognizer": recognizer.describe(),
            "voice": round(voice_wer, 2), "teacher": round(teacher_wer, 2), "gap": round(voice_wer - teacher_wer, 2),
            "transcripts": [{"text": s, "voice": v, "teacher": t} for s, v, t in zip(sentences, voice, teacher)]}


def pool_runs(wer: Dict[str, Any], sentences: Sequence[str], hypotheses: Sequence[Sequence[str]],
              checks: Sequence[Dict[str, float]]) -> Dict[str, Any]:
    """:func:`wer_row`'s result for run 0, widened by the runs with other seeds: each a list of one
    transcript per sentence, and the checks' summary of each.

    ``voice`` becomes the WER over every run's words (the mean of ``voice_runs``, the runs' WERs), ``gap``
    follows it, each transcript gains ``voice_other_runs``, and ``checks_passed_runs`` lists every run's
    share of sentences that passed every check. With no other runs the row is returned as it was.
    """
    if not hypotheses:
        return wer
    runs = [[t["voice"] for t in wer["transcripts"]], *[list(h) for h in hypotheses]]
    if any(len(h) != len(sentences) for h in runs):
        raise ValueError(f"give one transcript per sentence for every run ({len(sentences)} sentences)")
    per_run = [round(word_error_rate(sentences, h), 2) for h in runs]
    pooled = word_error_rate(list(sentences) * len(runs), [t for h in runs for t in h])
    out = dict(wer, runs=len(runs), voice_runs=per_run, voice=round(pooled, 2),
               gap=round(pooled - wer["teacher"], 2), checks_passed_runs=[c["passed"] for c in checks])
    out["transcripts"] = [dict(t, voice_other_runs=[h[i] for h in runs[1:]]) for i, t in enumerate(wer["transcripts"])]
    return out


def teacher_forced_wavs(model: Tacotron2, sentences: Sequence[str], teacher_wavs: Sequence[PathLike],
                        out_dir: PathLike, vocoder: GriffinLimVocoder, seed: int = 0,
                        text_processor: TextProcessor = NVIDIA_TEXT) -> List[Path]:
    """Each sentence spoken with teacher forcing on its teacher WAV's mel: ``out_dir/01.wav`` ...

    The decoder reads the teacher's previous frame at every step (prenet
    dropout on, as in training; seeded with ``seed + i``), so each result has
    exactly the teacher's frame count. What the network makes of the teacher
    when it never runs on its own outputs.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    n_mels = model.config.n_mel_channels
    stft = TacotronSTFT(n_mel_channels=n_mels)
    paths = []
    for i, (sentence, wav) in enumerate(zip(sentences, teacher_wavs)):
        ids = text_processor.encode(sentence)[None]
        target = stft.mel_spectrogram(load_wav(wav, stft.sampling_rate)[None])
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed + i)
            mel = model.eval()(ids, torch.tensor([ids.size(1)]), target, torch.tensor([target.size(2)])).mel_postnet
        audio = vocoder.waveform(mel)[0].clamp(-1.0, 1.0)  # as the voice's own WAVs (evaluate_sentence)
        paths.append(save_wav(folder / f"{i + 1:02d}.wav", audio, stft.sampling_rate))
    return paths


def is_shippable(checks: Dict[str, float], wer: Dict[str, Any], max_gap: float = MAX_WER_GAP) -> bool:
    """Every held-out sentence passes every check (in every run, when the row pooled several) and the voice
    trails its teacher by at most ``max_gap`` WER points."""
    passed = [checks["passed"], *wer.get("checks_passed_runs", [])]
    return all(p == 1.0 for p in passed) and wer["gap"] <= max_gap


def save_sentence_alignment(model: Tacotron2, text: str, path: PathLike, seed: int = 0,
                            text_processor: TextProcessor = NVIDIA_TEXT) -> Optional[Path]:
    """Plot the inference alignment ``(decoder steps, encoder steps)`` of ``text`` to ``path``."""
    ids = text_processor.encode(text)[None]
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)
        _, lengths, alignments = model.infer(ids, torch.tensor([ids.shape[1]]))
    frames = max(1, int(lengths[0]))
    return save_alignment_png(alignments[0, :frames], path, title=f"inference alignment: {text}")


def build_report(checkpoint: PathLike, out: PathLike, *, teacher: Union[str, Teacher] = DEFAULT_TEACHER,
                 sentences: Sequence[str] = HELDOUT_SENTENCES, sentence_set: str = HELDOUT_NAME,
                 corpus: Optional[PathLike] = None, n: int = 20, baseline: bool = True,
                 recognizer: Optional[PocketSphinxRecognizer] = None,
                 phonemes: Optional[bool] = None, runs: int = 1) -> Dict[str, Any]:
    """Evaluate ``checkpoint`` and write the files listed in the module docstring; returns the summary.

    ``phonemes``: whether the voice reads ``{ARPAbet}`` words (:mod:`recipes.builtin_voice.phonemes`), so
    that its text is given to it that way (``TextProcessor(arpabet=True)``); ``None``: as the checkpoint
    records (a progress or voice file saved with its text processor), else letters. The teacher and the
    recogniser's reference transcripts always get the plain sentences.

    ``runs``: how many times the voice speaks the held-out sentences, each run with other seeds of the
    prenet's dropout (:data:`SEED_STRIDE`; WAVs of run ``k`` in ``REPORT/voice_run{k}/``). One run's WER on
    20 sentences moves by several points from seed to seed; the WER row then pools every run's words and
    ``ship`` needs every run to pass every check (:func:`pool_runs`).
    """
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    if phonemes is None:
        phonemes = recorded_text_processor(checkpoint, NVIDIA_TEXT).arpabet
    processor = TextProcessor(arpabet=phonemes)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    teacher = get_teacher(teacher)
    recognizer = recognizer if recognizer is not None else PocketSphinxRecognizer()
    model = load_tacotron2(checkpoint)
    vocoder = builtin_vocoder(model.config.n_mel_channels)
    pairs = teacher_references(teacher, sentences, out_dir / "teacher")
    heldout = evaluate_model(model, pairs, out_dir / "eval_heldout.json", vocoder, audio_dir=out_dir / "voice",
                             text_processor=processor)
    checks = heldout.summary()
    wer = wer_row(recognizer, sentences, [s.audio_path for s in heldout.sentences], [wav for _, wav in pairs],
                  sentence_set)
    other_runs = [evaluate_model(model, pairs, out_dir / f"eval_heldout_run{k}.json", vocoder,
                                 audio_dir=out_dir / f"voice_run{k}", text_processor=processor, seed=k * SEED_STRIDE)
                  for k in range(1, runs)]
    wer = pool_runs(wer, sentences, [[recognizer.transcribe_file(s.audio_path) for s in run.sentences]
                                     for run in other_runs], [run.summary() for run in other_runs])
    forced = teacher_forced_wavs(model, sentences, [wav for _, wav in pairs], out_dir / "teacher_forced", vocoder,
                                 text_processor=processor)
    forced_wer = word_error_rate(list(sentences), [recognizer.transcribe_file(path) for path in forced])
    summary: Dict[str, Any] = {
        "checkpoint": os.fspath(checkpoint), "teacher": teacher.describe(), "text_input": "arpabet" if phonemes else "letters",
        "vocoder": {"name": vocoder.name, "n_iters": vocoder.n_iters, "power": vocoder.power,
                    "momentum": vocoder.momentum},
        "heldout": {"sentence_set": sentence_set, "checks": checks}, "wer": wer,
        "wer_teacher_forced": {"voice": round(forced_wer, 2), "exposure_gap": round(wer["voice"] - forced_wer, 2)},
        "ship": is_shippable(checks, wer), "max_wer_gap": MAX_WER_GAP}
    if corpus is not None:
        val = validation_pairs(corpus, n)
        summary["trained"] = evaluate_model(model, val, out_dir / "eval_trained.json", vocoder,
                                            text_processor=processor).summary()
        if baseline:
            summary["untrained"] = evaluate_model(untrained_like(model), val, out_dir / "eval_untrained.json",
                                                  vocoder, text_processor=processor).summary()
        summary["teacher_forced_on_corpus"] = {}
        for name, rows in (("seen", corpus_pairs(corpus, TRAIN_FILELIST, n)), ("unseen", val)):
            texts, wavs = [text for text, _ in rows], [wav for _, wav in rows]
            forced_wavs = teacher_forced_wavs(model, texts, wavs, out_dir / f"teacher_forced_{name}", vocoder,
                                              text_processor=processor)
            summary["teacher_forced_on_corpus"][name] = wer_row(recognizer, texts, forced_wavs, wavs,
                                                                f"corpus {name}: first {n}")
    save_sentence_alignment(model, sentences[0], out_dir / "alignment.png", text_processor=processor)
    atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; returns the exit status (0 whether or not the voice is shippable)."""
    parser = argparse.ArgumentParser(prog="python -m recipes.builtin_voice.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, help="Tacotron 2 checkpoint (any layout)")
    parser.add_argument("--out", required=True, help="folder for the WAVs, the JSON results and the plot")
    parser.add_argument("--teacher", default=DEFAULT_TEACHER, help="PROGRAM:VOICE the voice learned from")
    parser.add_argument("--corpus", default=None, help="also evaluate this corpus's validation sentences")
    parser.add_argument("--n", type=int, default=20, help="corpus validation sentences to use (with --corpus)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the untrained baseline (with --corpus)")
    parser.add_argument("--phonemes", action="store_true", default=None,
                        help="the voice reads {ARPAbet} words (trained with recipes.builtin_voice.phonemes); "
                             "default: as the checkpoint records, else letters")
    parser.add_argument("--runs", type=int, default=1,
                        help="speak the held-out sentences this many times with other dropout seeds and pool "
                             "the WER over all of them (default 1)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        summary = build_report(args.checkpoint, args.out, teacher=args.teacher, corpus=args.corpus, n=args.n,
                               baseline=not args.no_baseline, phonemes=args.phonemes, runs=args.runs)
    except (ValueError, RuntimeError) as error:  # missing teacher or recogniser: RuntimeError subclasses
        logger.error("error: %s", error)
        return 2
    logger.info("%s", json.dumps({k: v for k, v in summary.items() if k != "wer"}, indent=2))
    wer = summary["wer"]
    runs = f" over {wer['runs']} runs ({', '.join(f'{v:.1f}' for v in wer['voice_runs'])})" if "runs" in wer else ""
    logger.info("WER on %s (%d sentences, %s %s): voice %.1f%%%s (teacher-forced %.1f%%), teacher %s %.1f%%; "
                "ship: %s", wer["sentence_set"], wer["n_sentences"], wer["recognizer"]["name"],
                wer["recognizer"]["version"], wer["voice"], runs, summary["wer_teacher_forced"]["voice"],
                summary["teacher"]["spec"], wer["teacher"], summary["ship"])
    for name, row in summary.get("teacher_forced_on_corpus", {}).items():
        logger.info("teacher-forced WER on %s corpus sentences: voice %.1f%%, teacher's WAVs %.1f%%",
                    name, row["voice"], row["teacher"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
