"""``tacotron2-export-onnx`` (also ``python -m tacotron2_waveglow.onnx``): export checkpoints to ONNX, or check an export.

Examples::

    tacotron2-export-onnx onnx/ --voice ljspeech                      # NVIDIA's DLE weights (downloaded once)
    tacotron2-export-onnx onnx/ --tacotron2 t2.pt --waveglow wg.pt    # any checkpoint layout we load
    tacotron2-export-onnx onnx/ --tacotron2 tacotron2_statedict.pt --tacotron2-config cfg.json
    tacotron2-export-onnx onnx/ --check --tacotron2 t2.pt --waveglow wg.pt   # verify an existing export

The export is verified with ONNX Runtime against PyTorch before it is
published; user errors print one line ``tacotron2-export-onnx: error: ...`` and
exit with status 2, a failed verification exits with status 1.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

from checkpoints.cli_support import OneLineArgumentParser, UsageError, parse_json_object, report_error

PROG = "tacotron2-export-onnx"
EXIT_USAGE = 2
EXIT_FAILED = 1


def build_parser() -> argparse.ArgumentParser:
    """The ``tacotron2-export-onnx`` argument parser."""
    from ..bundles import VOICES
    from .export import DEFAULT_OPSET, PRECISIONS, SUPPORTED_OPSETS

    p = OneLineArgumentParser(prog=PROG, description="Export Tacotron 2 / WaveGlow to ONNX and verify the graphs "
                                                     "with ONNX Runtime.")
    p.add_argument("out_dir", metavar="OUT_DIR", help="export folder (must be empty or absent unless --force)")
    p.add_argument("--tacotron2", metavar="PATH", help="Tacotron 2 checkpoint (any layout checkpoints.load_tacotron2 reads)")
    p.add_argument("--waveglow", metavar="PATH", help="WaveGlow checkpoint (any layout checkpoints.load_waveglow reads)")
    p.add_argument("--voice", metavar="NAME", choices=list(VOICES),
                   help=f"named voice: {', '.join(VOICES)} (its Tacotron 2, its WaveGlow if it has one, its cleaners)")
    p.add_argument("--tacotron2-config", metavar="JSON", help="config (inline JSON or a .json file) for files that "
                                                              "store none (NVIDIA/tacotron2's tacotron2_statedict.pt)")
    p.add_argument("--waveglow-config", metavar="JSON", help="config (inline JSON or a .json file) for WaveGlow files")
    p.add_argument("--cache-dir", metavar="DIR", help="download cache for --voice")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET,
                   help=f"ONNX opset, {SUPPORTED_OPSETS[0]}..{SUPPORTED_OPSETS[-1]} (default {DEFAULT_OPSET})")
    p.add_argument("--precision", default="fp32", choices=PRECISIONS, help="graph precision: fp32 (default) or fp16 "
                                                                             "(for GPU runtimes, see docs/deployment.md)")
    p.add_argument("--check", action="store_true",
                   help="do not export: verify the existing export in OUT_DIR against the given models")
    p.add_argument("--no-verify", action="store_true", help="skip the ONNX Runtime verification (not recommended)")
    p.add_argument("--force", action="store_true", help="replace an existing export in OUT_DIR")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    return p


def _config(text: Optional[str], flag: str) -> Optional[Dict[str, Any]]:
    if text is None:
        return None
    path = Path(text)
    source = path.read_text(encoding="utf-8") if text.endswith(".json") and path.is_file() else text
    try:
        return parse_json_object(source, flag)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _check_options(args: argparse.Namespace) -> None:
    if args.tacotron2 is None and args.waveglow is None and args.voice is None:
        raise UsageError("nothing to export: give --tacotron2 PATH, --waveglow PATH and/or --voice NAME")
    if args.check and (args.force or args.no_verify):
        raise UsageError("--check verifies an existing export; --force and --no-verify apply to exporting")
    for flag, path in (("--tacotron2", args.tacotron2), ("--waveglow", args.waveglow)):
        if path is not None and not Path(path).is_file():
            raise UsageError(f"{flag}: file not found: {path}")
    for flag, value, model in (("--tacotron2-config", args.tacotron2_config, args.tacotron2),
                               ("--waveglow-config", args.waveglow_config, args.waveglow)):
        if value is not None and model is None:
            raise UsageError(f"{flag} applies to a checkpoint file: give {flag.rsplit('-', 1)[0]} PATH too")


def _load(args: argparse.Namespace):
    """``(tacotron2 or None, waveglow or None, text processor)`` from the files and/or the voice."""
    from checkpoints import load_tacotron2, load_waveglow

    from ..bundles import NVIDIA_TEXT, get_voice

    voice = get_voice(args.voice) if args.voice is not None else None
    processor = NVIDIA_TEXT
    taco = glow = None
    if args.tacotron2 is not None:
        taco = load_tacotron2(args.tacotron2, config=_config(args.tacotron2_config, "--tacotron2-config"))
    elif voice is not None:
        taco, processor = voice.get_tacotron2(cache_dir=args.cache_dir, progress=not args.quiet), voice.get_text_processor()
    if args.waveglow is not None:
        glow = load_waveglow(args.waveglow, config=_config(args.waveglow_config, "--waveglow-config"))
    elif voice is not None and voice.waveglow_file is not None:
        glow = voice.get_waveglow(cache_dir=args.cache_dir, progress=not args.quiet)
    return taco, glow, processor


def _run(args: argparse.Namespace) -> int:
    from .export import export_onnx
    from .verify import verify_export

    _check_options(args)
    taco, glow, processor = _load(args)
    if args.check:
        report = verify_export(args.out_dir, taco, glow)
        if not args.quiet:
            print(f"{PROG}: {args.out_dir} matches PyTorch: {report.format()}", file=sys.stderr)
        return 0
    result = export_onnx(args.out_dir, taco, glow, opset=args.opset, precision=args.precision,
                         text_processor=processor, force=args.force, verify=not args.no_verify)
    if not args.quiet:
        graphs = ", ".join(spec.file for spec in result.manifest.graphs.values())
        print(f"{PROG}: wrote {graphs} and manifest.json to {result.folder}", file=sys.stderr)
        if result.report is not None:
            print(f"{PROG}: verified with ONNX Runtime: {result.report.format()}", file=sys.stderr)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point; returns the exit status (0, 1 verification failed, 2 user error)."""
    from checkpoints.download import DownloadError
    from checkpoints.errors import CheckpointError

    from .verify import OnnxVerificationError

    try:
        args = build_parser().parse_args(argv)
        return _run(args)
    except OnnxVerificationError as exc:
        report_error(PROG, exc)
        return EXIT_FAILED
    except (UsageError, CheckpointError, DownloadError, ValueError, OSError, ImportError) as exc:
        report_error(PROG, exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
