"""glibc keeps freed memory after :func:`keep_freed_memory` (page faults counted in fresh processes)."""
import subprocess
import sys

import pytest

from tacotron2_waveglow.synthesis.allocator import MALLOC_CHOICES, apply_malloc_choice

# Tensors of 4 .. 44 MB, each written, five times over: with glibc's defaults the blocks above its mmap
# threshold are mapped afresh (and their pages faulted in) on every allocation.
_PROGRAM = """
import resource, sys, torch
from tacotron2_waveglow.synthesis.allocator import apply_malloc_choice
print(apply_malloc_choice(sys.argv[1]))
def allocate():
    for k in range(1, 12):
        torch.ones(k * 2**20)
allocate()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    allocate()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
_PAGES_PER_PASS = sum(k * 4 * 2**20 for k in range(1, 12)) // 4096


def _faults(choice):
    out = subprocess.run([sys.executable, "-c", _PROGRAM, choice], capture_output=True, text=True, check=True)
    in_effect, faults = out.stdout.split()
    return in_effect, int(faults)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_keeping_freed_memory_stops_the_page_faults_of_repeated_large_tensors():
    in_effect, kept = _faults("keep")
    if in_effect != "keep":
        pytest.skip("this C library has no glibc mallopt")
    in_effect, default = _faults("system")
    assert in_effect == "system"
    assert default > 5 * _PAGES_PER_PASS // 2  # glibc's defaults: most pages of every pass faulted in again
    assert kept < default / 4


def test_an_unknown_choice_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="keep, system"):
        apply_malloc_choice("jemalloc")
    assert MALLOC_CHOICES == ("keep", "system")
