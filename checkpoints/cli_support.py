"""What the command lines (``python -m checkpoints``, ``tacotron2-tts``) share: one-line user errors."""
from __future__ import annotations

import argparse
import sys


class UsageError(Exception):
    """A user error: reported as one line ``PROG: error: ...`` on stderr with exit status 2."""


class OneLineArgumentParser(argparse.ArgumentParser):
    """``ArgumentParser`` whose errors raise :class:`UsageError` instead of printing usage and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def one_line(exc: BaseException) -> str:
    """The exception's message folded onto one line (its type name when it has none)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def report_error(prog: str, exc: BaseException) -> None:
    """Print ``PROG: error: MESSAGE`` as a single line on stderr."""
    print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
