"""Keeping freed memory in the process (glibc), so large tensors do not fault in fresh pages on every call.

glibc's ``malloc`` serves every block above a threshold (128 KiB at first,
raised as blocks are freed, up to 32 MiB) with its own ``mmap`` and gives the
pages back on ``free``; it also returns the free top of the heap to the system
past a trim threshold. Inference allocates and frees tensors of megabytes many
times per second of audio (WaveGlow's layer outputs are 6-50 MB), so each of
those allocations faults its pages in again, and the kernel zeroes each page
first: an int8 WaveGlow-256 call on 400 mel frames took 219,000 page faults
(0.9 GB) with glibc's defaults, and a reference (faithful) call 920,000.

:func:`keep_freed_memory` sets both thresholds high (``mallopt``), so freed
blocks stay in the heap and the next tensor of that size reuses them; the
process then keeps its peak memory instead of giving it back between calls.
This is what PyTorch's CPU performance guide gets from preloading jemalloc or
tcmalloc, without a preload. It is process-wide, so the library never does
it by itself: ``tacotron2-tts`` does it (``--malloc keep``, the default; a program
that calls the command's ``main()`` gets it too unless it passes ``--malloc system``), and a
program may call it once at start-up. Measured effect: docs/performance.md.
"""
from __future__ import annotations

import argparse
import ctypes
import sys
from typing import Optional, Sequence, Tuple

#: ``mallopt`` parameters (``<malloc.h>``)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: the largest value ``mallopt`` takes (an ``int``): blocks below 2 GiB come from the heap, which is trimmed
#: only when 2 GiB at its top are free
KEEP = 2**31 - 1
#: glibc's own ceiling for its adaptive mmap threshold, for a glibc that refuses :data:`KEEP`
GLIBC_MAX_MMAP_THRESHOLD = 32 * 2**20

#: ``--malloc`` choices of the command line: keep freed memory, or leave glibc's defaults
MALLOC_CHOICES = ("keep", "system")


def keep_freed_memory() -> bool:
    """Make glibc keep freed memory for reuse (process-wide); ``True`` when it took effect.

    ``False`` (and nothing changed) off Linux, or on a C library without
    glibc's ``mallopt`` (musl, for example). Calling it again is harmless.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt, _ = libc.mallopt, libc.gnu_get_libc_version  # the second only exists in glibc
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    mapped = mallopt(M_MMAP_THRESHOLD, KEEP) == 1 or mallopt(M_MMAP_THRESHOLD, GLIBC_MAX_MMAP_THRESHOLD) == 1
    return mapped and mallopt(M_TRIM_THRESHOLD, KEEP) == 1


def apply_malloc_choice(choice: str) -> str:
    """``"keep"``: :func:`keep_freed_memory`; ``"system"``: nothing. Returns the setting now in effect
    (``"system"`` also when keeping was asked for where it is not available)."""
    if choice not in MALLOC_CHOICES:
        raise ValueError(f"malloc choice {choice!r} is not one of {', '.join(MALLOC_CHOICES)}")
    return "keep" if choice == "keep" and keep_freed_memory() else "system"


def add_malloc_argument(parser: argparse.ArgumentParser, default: str) -> None:
    """The ``--malloc {keep,system}`` option of the command line and the benchmarks."""
    parser.add_argument("--malloc", choices=MALLOC_CHOICES, default=default,
                        help="keep: glibc keeps freed memory for the next tensors instead of faulting in fresh "
                             "pages each call (faster on CPU; the process keeps its peak memory); system: glibc's "
                             f"defaults (default: {default})")


def parse_args_applying_malloc(parser: argparse.ArgumentParser, argv: Optional[Sequence[str]],
                               default: str = "system") -> Tuple[argparse.Namespace, str]:
    """Add ``--malloc`` to ``parser``, parse ``argv`` and apply the choice: ``(args, setting in effect)``."""
    add_malloc_argument(parser, default)
    args = parser.parse_args(argv)
    return args, apply_malloc_choice(args.malloc)
