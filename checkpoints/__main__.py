"""``python -m checkpoints``: inspect a checkpoint, convert one to the hub layout, list/download pretrained files.

    python -m checkpoints inspect FILE [--config JSON]     (exit 2 when the file does not load)
    python -m checkpoints convert IN OUT [--fp16] [--config JSON] [--force]
    python -m checkpoints list
    python -m checkpoints download NAME [--cache-dir DIR] [--force]

User errors print one line ``python -m checkpoints: error: ...`` to stderr and exit 2.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

from .cli_support import OneLineArgumentParser, UsageError, parse_json_object, report_error

PROG = "python -m checkpoints"
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m checkpoints``."""
    parser = OneLineArgumentParser(prog=PROG, description="Inspect and convert Tacotron 2 / WaveGlow checkpoints.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineArgumentParser)
    inspect = sub.add_parser("inspect", help="describe a checkpoint file")
    inspect.add_argument("file")
    inspect.add_argument("--config", help="JSON config (inline or a .json file) for files that store none")
    inspect.add_argument("--no-load", action="store_true", help="skip the trial load")
    convert = sub.add_parser("convert", help="write any supported layout as the hub layout {'state_dict', 'config'}")
    convert.add_argument("input")
    convert.add_argument("output")
    convert.add_argument("--fp16", action="store_true", help="store floating-point tensors as float16")
    convert.add_argument("--config", help="JSON config (inline or a .json file) for files that store none")
    convert.add_argument("--force", action="store_true", help="overwrite OUTPUT")
    sub.add_parser("list", help="list NVIDIA's published files and voices")
    download = sub.add_parser("download", help="download a published file into the cache")
    download.add_argument("name")
    download.add_argument("--cache-dir")
    download.add_argument("--force", action="store_true", help="download again over a cached (maybe damaged) copy")
    return parser


def _config(text: Optional[str]) -> Optional[Dict[str, Any]]:
    """Parse ``--config``: inline JSON, or the path of a JSON file."""
    if text is None:
        return None
    source = Path(text).read_text(encoding="utf-8") if text.endswith(".json") and Path(text).is_file() else text
    try:
        return parse_json_object(source, "--config")
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _inspect(args: argparse.Namespace) -> int:
    from .inspect import inspect_checkpoint

    report = inspect_checkpoint(args.file, config=_config(args.config), try_load=not args.no_load)
    print(report.format())
    if report.loads is False:  # described, but refused by the loaders: say so and fail
        from .errors import CheckpointError

        raise CheckpointError(f"{args.file} {report.load_result}")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from .limits import check_regular_file

    source, target = check_regular_file(args.input), Path(args.output)
    if os.path.lexists(target) and not args.force:
        raise UsageError(f"{target} exists; pass --force to overwrite")
    if target.resolve() == source.resolve():
        raise UsageError("OUTPUT must differ from INPUT")
    import torch

    from .convert import convert_checkpoint

    dtype = torch.float16 if args.fp16 else None
    config = _config(args.config)
    if config is None:
        convert_checkpoint(source, target, dtype=dtype, overwrite=args.force)
    else:  # the file stores no config (or it is overridden): load with it, then save the hub layout
        from . import load_tacotron2, load_waveglow
        from .inspect import inspect_checkpoint
        from .save import save_checkpoint

        model_name = inspect_checkpoint(source, try_load=False).model
        if model_name is None:
            raise UsageError(f"cannot tell whether {source} is a Tacotron 2 or a WaveGlow checkpoint")
        loader = load_tacotron2 if model_name == "tacotron2" else load_waveglow
        save_checkpoint(loader(source, config=config), target, dtype=dtype, overwrite=args.force)
    print(f"wrote {target} (hub layout{', float16' if args.fp16 else ''})", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace) -> int:
    from .download import DownloadError, cached_path, check_cached, fix_command
    from .registry import PRETRAINED_FILES

    for entry in PRETRAINED_FILES.values():
        path, state, fix = cached_path(entry), "not downloaded", ""
        if os.path.lexists(path):
            try:
                check_cached(entry, path)
                state = "cached"
            except DownloadError:
                state, fix = "damaged", f"  damaged: run {fix_command(entry)}"
        print(f"{entry.name:26} {entry.model:9} {entry.layout:11} {state:15} {entry.description}")
        print(f"{'':26} {entry.url}  ({entry.checks}){fix}")
    print("named voices (these files paired, and the built-in voice): tacotron2-tts --list-voices")
    return 0


def _download(args: argparse.Namespace) -> int:
    from .download import download_file

    print(download_file(args.name, args.cache_dir, force=args.force))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command; returns 0, or 2 for a user error (one line on stderr)."""
    from .download import DownloadError
    from .errors import CheckpointError

    commands = {"inspect": _inspect, "convert": _convert, "list": _list, "download": _download}
    try:
        args = build_parser().parse_args(argv)
        return commands[args.command](args)
    except (UsageError, CheckpointError, DownloadError, ValueError, OSError) as exc:
        report_error(PROG, exc)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
