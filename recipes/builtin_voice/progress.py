"""The voice in training, kept in the repository from one working session to the next.

Training the built-in voice takes far more CPU hours than one working session
has, and a session may start on an empty machine where nothing outside the
repository survived. So a session ends by writing its run's latest weights to
:data:`PROGRESS_FILE` (fp32 weights in the hub layout, no optimizer state) with
one more entry in the file's training history, and the next session
warm-starts from that file (``--warm-start`` of the trainer).
The file is not the shipped voice: it is shipped only through
:func:`recipes.builtin_voice.export.export_voice` once its report passes.

``python -m recipes.builtin_voice.progress save --checkpoint CKPT --corpus TEXT --options TEXT [--report DIR]``
adds a session (``--update-last`` replaces the last one with a later checkpoint of the same run); ``python -m recipes.builtin_voice.progress show`` prints the history.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import torch

from checkpoints.errors import CheckpointError
from recipes.builtin_voice.export import export_voice
from tacotron2_waveglow.builtin_voice import BUILTIN_END_PUNCTUATION, VOICE_KEY
from tacotron2_waveglow.bundles import TextProcessor
from tacotron2_waveglow.training.checkpointing import load_training_checkpoint

PathLike = Union[str, "os.PathLike[str]"]

PROGRESS_FILE = Path(__file__).resolve().parent / "progress" / "voice_in_training.pt"
"""Where the voice in training is kept between sessions."""
STATUS = "in training: not the shipped voice"
"""The ``status`` entry of the file's ``voice`` description."""


def progress_history(path: PathLike = PROGRESS_FILE) -> List[Dict[str, Any]]:
    """The training history stored in a progress file, oldest session first; ``[]`` when there is no file.

    Raises:
        CheckpointError: the file exists but is not a progress file.
    """
    path = Path(path)
    if not path.exists():
        return []
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    info = checkpoint.get(VOICE_KEY) if isinstance(checkpoint, Mapping) else None
    history = info.get("history") if isinstance(info, Mapping) else None
    if not isinstance(history, list) or not all(isinstance(entry, Mapping) for entry in history):
        raise CheckpointError(f"{path} has no training history under '{VOICE_KEY}': it is not a progress file; "
                              "give --out another path")
    return [dict(entry) for entry in history]


def total_steps(history: Sequence[Mapping[str, Any]]) -> int:
    """Optimizer steps over every session of ``history``."""
    return sum(int(entry["steps"]) for entry in history)


def save_progress(training_checkpoint: PathLike, *, corpus: str, options: str,
                  report: Optional[Mapping[str, Any]] = None, out: PathLike = PROGRESS_FILE,
                  date: Optional[str] = None, update_last: bool = False, phonemes: bool = False) -> Path:
    """Write ``training_checkpoint``'s weights to ``out`` with one more session in its history.

    Args:
        training_checkpoint: the session's latest checkpoint of ``python -m tacotron2_waveglow.training``;
            its ``iteration`` is the session's step count, so the session's run must have started
            from the previous progress file (or the shipped voice), not resumed another session's run.
        corpus: how the session's corpus was built (the command, or its arguments).
        options: the trainer options of the session (batch size, loss options).
        report: headline numbers of the session's report (:func:`report_headline`), if one was made.
        out: the progress file; its earlier history is kept.
        date: the session's date, ``YYYY-MM-DD`` (today, UTC, by default).
        update_last: replace the history's last session instead of adding one: a later
            checkpoint of the same run (its steps already count the earlier ones).
        phonemes: the voice reads ``{ARPAbet}`` words (:mod:`recipes.builtin_voice.phonemes`); the file
            records it as its text processor, which the report and the next session's commands follow.

    Raises:
        CheckpointError: the checkpoint is not a training checkpoint, or ``out`` is not a progress file.
        ValueError: empty descriptions, ``update_last`` with no session to update, or a report made
            with the other text input than ``phonemes`` says.
    """
    if not corpus.strip() or not options.strip():
        raise ValueError("corpus and options must describe the session; got an empty string")
    text_input = "arpabet" if phonemes else "letters"
    if report and report.get("text_input", text_input) != text_input:
        raise ValueError(f"the report gave the voice {report['text_input']} but the session is saved as reading "
                         f"{text_input}; {'drop' if phonemes else 'add'} --phonemes")
    history = progress_history(out)
    if update_last:
        if not history:
            raise ValueError(f"{out} has no session to update; save without --update-last")
        history.pop()
    steps = int(load_training_checkpoint(training_checkpoint)["iteration"])
    entry: Dict[str, Any] = {"date": date or datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
                             "steps": steps, "corpus": corpus, "options": options}
    if report:
        entry["report"] = dict(report)
    history.append(entry)
    info = {"status": STATUS, "total_steps": total_steps(history), "history": history}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    processor = TextProcessor(end_punctuation=BUILTIN_END_PUNCTUATION, arpabet=True) if phonemes else None
    return export_voice(training_checkpoint, out, info=info, dtype=torch.float32, text_processor=processor)


def report_headline(report_dir: PathLike) -> Dict[str, Any]:
    """The numbers of a ``recipes.builtin_voice.report`` folder's ``summary.json`` worth keeping in the history."""
    path = Path(report_dir) / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    try:
        headline = {"sentence_set": summary["wer"]["sentence_set"], "wer_voice": summary["wer"]["voice"],
                    "wer_teacher": summary["wer"]["teacher"],
                    "checks_passed": summary["heldout"]["checks"]["passed"], "ship": summary["ship"]}
    except (KeyError, TypeError) as error:
        raise ValueError(f"{path} is not a report's summary (no {error}); give the folder "
                         "python -m recipes.builtin_voice.report wrote") from None
    if "text_input" in summary:
        headline["text_input"] = summary["text_input"]
    if "runs" in summary["wer"]:  # the voice's WER pooled over runs with other dropout seeds
        headline["wer_runs"] = summary["wer"]["runs"]
        headline["wer_voice_runs"] = summary["wer"]["voice_runs"]
    if "wer_teacher_forced" in summary:
        headline["wer_teacher_forced"] = summary["wer_teacher_forced"]["voice"]
    dynamics = summary["heldout"]["checks"].get("mean_dynamics_ratio")
    if dynamics is not None:
        headline["mean_dynamics_ratio"] = round(float(dynamics), 3)
    return headline


def format_history(history: Sequence[Mapping[str, Any]]) -> str:
    """One line per session, then the total."""
    lines = []
    for entry in history:
        line = f"{entry['date']}: {int(entry['steps'])} steps; corpus: {entry['corpus']}; options: {entry['options']}"
        report = entry.get("report")
        if report:
            line += f"; held-out WER {report['wer_voice']} % (teacher {report['wer_teacher']} %)"
        lines.append(line)
    lines.append(f"total: {total_steps(history)} steps in {len(history)} session(s)")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``python -m recipes.builtin_voice.progress``."""
    parser = argparse.ArgumentParser(prog="python -m recipes.builtin_voice.progress",
                                     description="Keep the voice in training in the repository between sessions.")
    commands = parser.add_subparsers(dest="command", required=True)
    save = commands.add_parser("save", help="write a session's latest weights and add it to the history")
    save.add_argument("--checkpoint", required=True, type=Path, help="the session's latest training checkpoint")
    save.add_argument("--corpus", required=True, help="how the session's corpus was built")
    save.add_argument("--options", required=True, help="the session's trainer options")
    save.add_argument("--report", type=Path, default=None, help="the session's report folder (with summary.json)")
    save.add_argument("--out", type=Path, default=PROGRESS_FILE)
    save.add_argument("--phonemes", action="store_true",
                      help="the voice reads {ARPAbet} words (recipes.builtin_voice.phonemes); recorded in the file")
    save.add_argument("--update-last", action="store_true",
                      help="replace the last session (a later checkpoint of the same run) instead of adding one")
    show = commands.add_parser("show", help="print the training history")
    show.add_argument("--file", type=Path, default=PROGRESS_FILE)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command; returns the exit status (1 with one line on stderr for a bad file)."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "save":
            report = report_headline(args.report) if args.report else None
            path = save_progress(args.checkpoint, corpus=args.corpus, options=args.options, report=report,
                                 out=args.out, update_last=args.update_last, phonemes=args.phonemes)
            print(format_history(progress_history(path)))
            print(f"wrote {path}")
        else:
            history = progress_history(args.file)
            if not history:
                print(f"error: no progress file at {args.file}", file=sys.stderr)
                return 1
            print(format_history(history))
    except (CheckpointError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
