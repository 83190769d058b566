"""Rows of a dataset list that cannot be trained on, and what to do with them."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

ON_BAD_ROWS = ("skip", "stop")


@dataclass(frozen=True)
class BadRow:
    """A rejected row: the list file and 1-based line, the audio path, and why."""

    source: str
    line: int
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.path}: {self.reason}"


def describe_bad_rows(bad: Sequence[BadRow], limit: int = 50) -> str:
    """A report with one line per bad row (at most ``limit``, then a count)."""
    lines = [f"{len(bad)} bad row(s) in the dataset lists:"]
    lines += [f"  {row}" for row in bad[:limit]]
    if len(bad) > limit:
        lines.append(f"  ... and {len(bad) - limit} more")
    return "\n".join(lines)


def handle_bad_rows(bad: Sequence[BadRow], on_bad_rows: str) -> None:
    """Stop (``ValueError`` with the report) or skip with a warning that lists every bad row."""
    if on_bad_rows not in ON_BAD_ROWS:
        raise ValueError(f"on_bad_rows must be one of {ON_BAD_ROWS}, got {on_bad_rows!r}")
    if not bad:
        return
    report = describe_bad_rows(bad, limit=len(bad))
    if on_bad_rows == "stop":
        raise ValueError(report + "\nfix or remove these rows, or pass --on-bad-rows skip")
    warnings.warn(report + "\nthese rows are skipped (--on-bad-rows skip)", stacklevel=2)

