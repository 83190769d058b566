"""``python -m tacotron2_waveglow.training.preprocess``: compute and cache mel spectrograms as ``.pt`` files.

For every row of the given lists the mel of ``<dataset>/<path>.wav`` is
written to ``<mel-dir>/<path>.pt`` (atomically; rows whose cache is newer
than the WAV are skipped, so an interrupted run resumes), and a mel filelist
``<mel-dir>/<list stem>_mel.txt`` with the ``.pt`` paths (relative to ``--dataset-path``
when ``--mel-dir`` lies inside it) is written for ``--load-mel-from-disk``.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from tqdm.auto import tqdm

from audio.atomic import atomic_torch_save, atomic_write_text, remove_stale_temporaries_in

from .data.bad_rows import ON_BAD_ROWS, handle_bad_rows
from .data.filelist import Utterance, read_utterances
from .data.mel import MelExtractor, MelSettings
from .data.validate import validate_utterances

logger = logging.getLogger("tacotron2_waveglow.training")


def mel_path(row: Utterance, dataset_path: Path, mel_dir: Path) -> Path:
    """Where the mel of ``row`` is cached: its path under ``dataset_path``, moved to ``mel_dir``, as ``.pt``."""
    try:
        relative = row.path.resolve().relative_to(dataset_path.resolve())
    except ValueError:
        relative = Path(row.path.name)
    return (mel_dir / relative).with_suffix(".pt")


def is_fresh(cache: Path, source: Path) -> bool:
    """Whether ``cache`` exists and is at least as new as ``source``."""
    return cache.is_file() and cache.stat().st_mtime >= source.stat().st_mtime


def cache_mels(rows: Sequence[Utterance], extractor: MelExtractor, dataset_path: Path, mel_dir: Path,
               progress: bool = True) -> Tuple[List[Path], int]:
    """Write the mel of every row; returns the mel paths (row order) and how many were computed."""
    paths, computed, cleaned = [], 0, set()
    for row in tqdm(rows, desc="mels", disable=not progress, dynamic_ncols=True):
        target = mel_path(row, dataset_path, mel_dir)
        if target.parent not in cleaned:  # leftovers of a killed run, once per folder (not once per file)
            remove_stale_temporaries_in(target.parent)
            cleaned.add(target.parent)
        if not is_fresh(target, row.path):
            atomic_torch_save(extractor.from_wav(row.path).contiguous(), target, clean=False)
            computed += 1
        paths.append(target)
    return paths, computed


def write_mel_filelist(rows: Sequence[Utterance], mel_paths: Sequence[Path], dataset_path: Path, out: Path) -> Path:
    """``mel path|text`` lines, paths relative to ``dataset_path`` when possible."""
    lines = []
    for row, path in zip(rows, mel_paths):
        try:
            shown = path.resolve().relative_to(dataset_path.resolve())
        except ValueError:
            shown = path.resolve()
        lines.append(f"{shown.as_posix()}|{row.text}")
    return atomic_write_text(out, "\n".join(lines) + "\n")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tacotron2_waveglow.training.preprocess", description=__doc__.split("\n\n")[0])
    p.add_argument("-d", "--dataset-path", default=".")
    p.add_argument("--filelists", nargs="+", required=True, help="filelists (path|text) or metadata.csv")
    p.add_argument("--mel-dir", default=None, help="default: <dataset-path>/mels")
    p.add_argument("--on-bad-rows", choices=ON_BAD_ROWS, default="stop")
    p.add_argument("--max-seconds", type=float, default=None)
    p.add_argument("--no-progress", action="store_true")
    for name, kind, default in (("sampling-rate", int, 22050), ("filter-length", int, 1024),
                                ("hop-length", int, 256), ("win-length", int, 1024), ("n-mel-channels", int, 80),
                                ("mel-fmin", float, 0.0), ("mel-fmax", float, 8000.0)):
        p.add_argument(f"--{name}", type=kind, default=default)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point; returns 0 on success."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(name)s %(levelname)s: %(message)s")
    dataset_path = Path(args.dataset_path)
    mel_dir = Path(args.mel_dir) if args.mel_dir else dataset_path / "mels"
    extractor = MelExtractor(MelSettings(args.sampling_rate, args.filter_length, args.hop_length, args.win_length,
                                         args.n_mel_channels, args.mel_fmin, args.mel_fmax))
    for listing in args.filelists:
        rows, bad = read_utterances(listing, dataset_path, require_text=False)
        good, more = validate_utterances(rows, args.sampling_rate, args.max_seconds, require_text=False)
        handle_bad_rows(bad + more, args.on_bad_rows)
        paths, computed = cache_mels(good, extractor, dataset_path, mel_dir, progress=not args.no_progress)
        out = write_mel_filelist(good, paths, dataset_path, mel_dir / f"{Path(listing).stem}_mel.txt")
        logger.info("%s: %d mel(s) computed, %d up to date; mel filelist %s", listing, computed,
                    len(paths) - computed, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
