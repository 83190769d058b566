"""What the command lines (``python -m checkpoints``, ``tacotron2-tts``) share: one-line user errors."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Dict


SEED_MODULUS = 2 ** 63
"""Seeds the command lines accept are in ``[0, SEED_MODULUS)`` (what ``torch.manual_seed`` takes as a signed 64-bit int)."""


class UsageError(Exception):
    """A user error: reported as one line ``PROG: error: ...`` on stderr with exit status 2."""


def parse_json_object(text: str, what: str) -> Dict[str, Any]:
    """Parse ``text`` as a JSON object for the option named ``what``.

    Raises:
        ValueError: invalid JSON, or JSON that is not an object; the message
            names the option.
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what} is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object of config fields, got {type(value).__name__}")
    return value


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
