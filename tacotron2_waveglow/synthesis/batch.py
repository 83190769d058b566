"""``tacotron2-tts -i FILE -o DIR``: one WAV per line, sharded over torchrun ranks, resumable, with a manifest.

* Line ``n`` of the file (counted from 1, as editors do; empty lines are
  skipped but counted) is written as ``DIR/audio_<n>.wav``.
* Under ``torchrun --nproc-per-node N`` (``RANK`` and ``WORLD_SIZE`` set),
  rank ``r`` speaks the ``r``-th, ``r + N``-th, ... non-empty line; no process
  group is needed. One process (no torchrun) speaks every line.
* With ``--seed S`` line ``n`` is spoken after ``torch.manual_seed(S + n)``
  (modulo ``2**63``), so its audio does not depend on the sharding, on the
  other lines or on resuming.
* Each WAV is written atomically as soon as its line is done. A WAV that
  exists is skipped (an interrupted run resumes where it stopped), unless
  ``--force``; a name that another run claims while this one synthesizes is
  kept, never overwritten, without ``--force``.
* A line that fails is reported with its line number; the others are still
  written; the exit status is then 1.
* ``DIR/manifest.jsonl`` lists every written line (see :mod:`.manifest`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional

from checkpoints.cli_support import SEED_MODULUS, UsageError, one_line

from .result import SynthesisResult

@dataclass(frozen=True)
class Line:
    """A non-empty line of the input file: its 1-based number and stripped text."""

    number: int
    text: str

    @property
    def wav_name(self) -> str:
        """``audio_<number>.wav``."""
        return f"audio_{self.number}.wav"


def read_lines(path: str) -> List[Line]:
    """The non-empty lines of ``path`` (UTF-8); ``UsageError`` when it cannot be read or has no text."""
    try:
        raw = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"-i: cannot read {path}: {exc}") from exc
    lines = [Line(number, text.strip()) for number, text in enumerate(raw, start=1) if text.strip()]
    if not lines:
        raise UsageError(f"-i: {path} has no text (all lines are empty)")
    return lines


def line_seed(seed: Optional[int], line: Line) -> Optional[int]:
    """The seed of one line: ``(seed + line number) mod 2**63``, or ``None`` without a seed."""
    return None if seed is None else (seed + line.number) % SEED_MODULUS


@dataclass(frozen=True)
class Shard:
    """This process's share of the lines: rank ``rank`` of ``world_size``, and the run's id."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    run_id: str = "local"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Shard":
        """From torchrun's ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``TORCHELASTIC_RUN_ID`` (one process without them)."""
        try:
            rank = int(environ.get("RANK", "0"))
            world = int(environ.get("WORLD_SIZE", "1"))
            local = int(environ.get("LOCAL_RANK", str(rank)))
        except ValueError as exc:
            raise UsageError(f"RANK, WORLD_SIZE and LOCAL_RANK must be integers ({exc})") from None
        if world < 1 or not 0 <= rank < world:
            raise UsageError(f"RANK={rank} and WORLD_SIZE={world} do not name a process (need 0 <= RANK < WORLD_SIZE)")
        run_id = environ.get("TORCHELASTIC_RUN_ID") or environ.get("MASTER_PORT") or "local"
        return cls(rank, world, local, run_id)

    def take(self, lines: List[Line]) -> List[Line]:
        """Every ``world_size``-th line, starting at ``rank``."""
        return lines[self.rank::self.world_size]

    @property
    def label(self) -> str:
        """``""`` for one process, else ``" (rank R/N)"`` for messages."""
        return "" if self.world_size == 1 else f" (rank {self.rank}/{self.world_size})"


#: ``synthesize(line) -> result`` for one line (its seed already applied).
SpeakLine = Callable[[Line], SynthesisResult]
#: ``write_outputs(result, wav_path) -> None``: the WAV (``FileExistsError`` when the name is taken) and plot.
WriteOutputs = Callable[[SynthesisResult, Path], None]

#: Per-line failures reported with the line number (others are bugs and end the run with a traceback).
LINE_ERRORS = (ValueError, TypeError, FloatingPointError, RuntimeError, OSError, MemoryError)


class BatchRun:
    """One process's part of a batch run over ``folder``.

    Args:
        lines: every non-empty line of the input (all ranks').
        folder: the output folder.
        shard: this process's share.
        force: redo lines whose WAV exists, replacing it.
        info: prints an information line (``-q`` silences it).
        error: prints an error line.
    """

    def __init__(self, lines: List[Line], folder: Path, shard: Shard, *, force: bool,
                 info: Callable[[str], None], error: Callable[[str], None]) -> None:
        self.lines = lines
        self.folder = folder
        self.shard = shard
        self.force = force
        self.info = info
        self.error = error
        mine = shard.take(lines)
        done = set() if force else {line.number for line in mine if (folder / line.wav_name).exists()}
        self.todo = [line for line in mine if line.number not in done]
        if done:
            info(f"skipping {len(done)} of {len(mine)} line(s) whose WAV already exists in {folder} "
                 f"(resuming; --force redoes them)")

    def run(self, speak: SpeakLine, write_outputs: WriteOutputs) -> int:
        """Speak and write every line to do; returns the number of failed lines."""
        from . import manifest  # here, not at import: option errors print before torch loads
        failed = 0
        for line in self.todo:
            path = self.folder / line.wav_name
            if not self.force and path.exists():
                self.info(f"line {line.number}: {path} appeared meanwhile (another run?); kept it")
                continue
            try:
                result = speak(line)
                write_outputs(result, path)
            except FileExistsError:
                self.info(f"line {line.number}: {path} was written by another run meanwhile; kept it "
                          "(--force replaces)")
                continue
            except LINE_ERRORS as exc:
                failed += 1
                self.error(f"line {line.number}: {one_line(exc)}")
                continue
            entry = manifest.ManifestEntry(line.number, line.text, line.wav_name,
                                           len(result.audio[0]) / result.sampling_rate,
                                           int(sum(result.mel_lengths[0])), bool(any(result.reached_limit[0])))
            manifest.record(self.folder, entry, self.shard.rank)
            self.info(f"line {line.number}: wrote {path} ({entry.duration:.2f} s)")
        return failed

    def finish(self) -> Optional[Path]:
        """Write ``manifest.jsonl`` if this is the last rank to finish; returns its path (else ``None``)."""
        from . import manifest  # here, not at import: option errors print before torch loads
        if not manifest.mark_done_and_check(self.folder, self.shard.run_id, self.shard.rank, self.shard.world_size):
            return None
        numbers: Dict[int, str] = {line.number: line.text for line in self.lines}
        names = {line.number: line.wav_name for line in self.lines}
        while True:  # another run into the same folder may record WAVs while this one merges: merge again
            state = manifest.parts_state(self.folder)
            entries = manifest.build(self.folder, numbers, names)
            path = manifest.write(self.folder, entries)
            if manifest.parts_state(self.folder) == state:
                break
        manifest.clear_done_marks(self.folder, self.shard.run_id, self.shard.world_size)
        self.info(f"wrote {path} ({len(entries)} of {len(self.lines)} line(s))")
        return path
