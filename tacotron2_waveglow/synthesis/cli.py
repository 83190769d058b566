"""``tacotron2-tts``: speak text into WAV files from the command line.

Examples::

    tacotron2-tts "Hello world" -o hello.wav                  # NVIDIA's weights if downloaded, else the built-in voice
    tacotron2-tts "Hello world" --pretrained ljspeech -o hello.wav   # NVIDIA's DLE weights, downloaded once
    tacotron2-tts -i phrases.txt -o out/                      # one WAV per line: out/audio_0.wav, ...
    echo "From stdin." | tacotron2-tts -o stdin.wav
    tacotron2-tts "Hi" --tacotron2 t2.pt --waveglow wg.pt -o hi.wav
    tacotron2-tts "Hi" --tacotron2 t2.pt --vocoder griffin-lim -o hi.wav

User errors print one line ``tacotron2-tts: error: ...`` to stderr and exit
with status 2; progress and which weights were used go to stderr, never stdout.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import List, Optional, Sequence, TextIO

from checkpoints.cli_support import OneLineArgumentParser, UsageError, report_error
from tacotron2_waveglow.synthesis.inference import BACKENDS, PRECISIONS

PROG = "tacotron2-tts"
EXIT_USAGE = 2
EXIT_RUNTIME = 1


def build_parser() -> argparse.ArgumentParser:
    """The ``tacotron2-tts`` argument parser."""
    from ..bundles import BUILTIN_VOICE, DEFAULT_VOICE, VOICES

    p = OneLineArgumentParser(prog=PROG, description="Synthesize speech with Tacotron 2 and WaveGlow.")
    p.add_argument("text", nargs="?", help="text to speak (default: read stdin when no -i is given)")
    p.add_argument("-i", "--input", metavar="FILE", help="text file, one phrase per line -> one WAV per line")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="WAV file, or folder (default: output.wav; with -i, the folder 'output')")
    p.add_argument("--tacotron2", metavar="PATH", help="Tacotron 2 checkpoint (any NVIDIA layout)")
    p.add_argument("--waveglow", metavar="PATH", help="WaveGlow checkpoint (any NVIDIA layout)")
    p.add_argument("--pretrained", metavar="NAME", choices=list(VOICES),
                   help=f"named voice: {', '.join(VOICES)} (see --list-voices; NVIDIA's are downloaded on first "
                        f"use, {BUILTIN_VOICE} is shipped in the package). Default when no --tacotron2 is given: "
                        f"{DEFAULT_VOICE} if already downloaded, else {BUILTIN_VOICE}")
    p.add_argument("--list-voices", action="store_true", help="list the named voices and whether each is cached")
    p.add_argument("--cache-dir", metavar="DIR", help="download cache (default $TACOTRON2_CHECKPOINT_DIR or "
                                                      "torch.hub.get_dir()/checkpoints)")
    p.add_argument("--vocoder", choices=("waveglow", "griffin-lim"), default="waveglow")
    p.add_argument("--sigma", type=float, default=None, help="WaveGlow noise scale (default 0.6)")
    p.add_argument("--denoise", type=float, default=None, metavar="STRENGTH",
                   help="WaveGlow denoiser strength, 0 = off (default 0.01)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--backend", default=None, choices=BACKENDS,
                   help="fast (default), reference (NVIDIA's step-by-step computation) or cuda_graph (CUDA); "
                        "see docs/performance.md")
    p.add_argument("--precision", default="fp32", choices=PRECISIONS,
                   help="fp32 (default), fp32_exact (NVIDIA's numbers bit for bit, slower), bf16, fp16 (CUDA) "
                        "or int8 (CPU, fastest; about a minute of set-up)")
    p.add_argument("--fold-upsampler", action="store_true", default=None,
                   help="WaveGlow: fold the mel upsampler into the conditioning (faster per second of audio, "
                        "a few seconds of set-up)")
    p.add_argument("--chunk-frames", type=int, default=None, metavar="N",
                   help="WaveGlow: vocode in chunks of N mel frames (bounded memory for long texts)")
    p.add_argument("--seed", type=int, default=None, help="random seed: same seed, same audio")
    p.add_argument("--max-decoder-steps", type=int, default=None, metavar="N")
    p.add_argument("--plot", action="store_true", help="also write a PNG (mel + alignment) next to each WAV")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or information on stderr")
    return p


def _check_options(args: argparse.Namespace) -> None:
    """Reject contradictory or out-of-range options before any work is done."""
    if args.text is not None and args.input is not None:
        raise UsageError("give either TEXT or -i FILE, not both")
    if args.pretrained is not None and args.tacotron2 is not None and \
            (args.waveglow is not None or args.vocoder == "griffin-lim"):
        raise UsageError("--pretrained is unused when --tacotron2 and the vocoder weights are given; drop one")
    if args.vocoder == "griffin-lim":
        for flag, value in (("--waveglow", args.waveglow), ("--sigma", args.sigma), ("--denoise", args.denoise)):
            if value is not None:
                raise UsageError(f"{flag} applies to --vocoder waveglow only, not griffin-lim")
    elif args.tacotron2 is not None and args.waveglow is None and args.pretrained is None:
        raise UsageError("--vocoder waveglow needs --waveglow PATH (or --pretrained NAME, "
                         "or --vocoder griffin-lim) together with --tacotron2")
    for flag, value, low in (("--batch-size", args.batch_size, 1), ("--max-decoder-steps", args.max_decoder_steps, 1)):
        if value is not None and value < low:
            raise UsageError(f"{flag} must be at least {low}, got {value}")
    for flag, value in (("--sigma", args.sigma), ("--denoise", args.denoise)):
        if value is not None and value < 0:
            raise UsageError(f"{flag} must be >= 0, got {value}")
    for flag, path in (("--tacotron2", args.tacotron2), ("--waveglow", args.waveglow), ("-i", args.input)):
        if path is not None and not Path(path).is_file():
            raise UsageError(f"{flag}: file not found: {path}")


def _read_texts(args: argparse.Namespace, stdin: TextIO) -> List[str]:
    """The phrases to speak: TEXT, the non-empty lines of -i FILE, or all of stdin."""
    if args.input is not None:
        try:
            lines = Path(args.input).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"-i: cannot read {args.input}: {exc}") from exc
        texts = [line.strip() for line in lines if line.strip()]
        if not texts:
            raise UsageError(f"-i: {args.input} has no text (all lines are empty)")
        return texts
    text = args.text if args.text is not None else stdin.read()
    if not text.strip():
        raise UsageError("empty text: give TEXT, -i FILE, or text on stdin")
    return [text.strip()]


def _output_paths(args: argparse.Namespace, count: int) -> List[Path]:
    """WAV path for each phrase; refuses to overwrite without --force."""
    many = args.input is not None
    target = Path(args.output) if args.output else Path("output" if many else "output.wav")
    is_dir = many or target.is_dir() or (args.output or "").endswith(("/", "\\"))
    if many and target.exists() and not target.is_dir():
        raise UsageError(f"-o {target} must be a folder with -i (one WAV per line)")
    paths = [target / f"audio_{i}.wav" for i in range(count)] if is_dir else [target]
    if not is_dir and target.suffix.lower() != ".wav":
        raise UsageError(f"-o {target}: the output file name must end in .wav (or name a folder)")
    if not args.force:
        existing = [p for p in paths + ([p.with_suffix(".png") for p in paths] if args.plot else []) if p.exists()]
        if existing:
            raise UsageError(f"{existing[0]} exists; pass --force to overwrite")
    return paths


def _choose_voice(args: argparse.Namespace) -> "tuple[Optional[str], bool]":
    """``(pretrained voice or None, use Griffin-Lim)``; says on stderr when the built-in voice is chosen.

    With no weights named, NVIDIA's default voice is used if it is already in
    the download cache, else the built-in voice (see ``tacotron2_waveglow.bundles.default_voice``).
    The built-in voice has no WaveGlow, so it is vocoded by Griffin-Lim unless
    ``--waveglow PATH`` is given.
    """
    from ..bundles import BUILTIN_VOICE, DEFAULT_VOICE, default_voice

    griffin = args.vocoder == "griffin-lim"
    needs_voice = args.tacotron2 is None or (not griffin and args.waveglow is None)
    voice = args.pretrained or (default_voice(args.cache_dir) if needs_voice else None)
    if voice != BUILTIN_VOICE:
        return voice, griffin
    if args.pretrained is None:
        _info(args, f"voice: {BUILTIN_VOICE} (NVIDIA's weights are not downloaded; "
                    f"--pretrained {DEFAULT_VOICE} fetches them once)")
    if not griffin and args.waveglow is None:
        for flag, value in (("--sigma", args.sigma), ("--denoise", args.denoise)):
            if value is not None:
                raise UsageError(f"{flag} applies to WaveGlow, and the {BUILTIN_VOICE} voice has none: "
                                 "give --waveglow PATH or drop the option")
        griffin = True
    return voice, griffin


def _info(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(f"{PROG}: {message}", file=sys.stderr)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def _list_voices(args: argparse.Namespace) -> int:
    """Print each named voice: name, vocoder, cached or not, description (stdout, one line each)."""
    from ..bundles import VOICES

    for voice in VOICES.values():
        state = "cached" if voice.is_cached(args.cache_dir) else "not downloaded"
        if voice.tacotron2_file is None:
            state = "shipped" if voice.is_cached(args.cache_dir) else "missing"
        print(f"{voice.name:16} {voice.vocoder_name:12} {state:15} {voice.description}")
    return 0


def _run(args: argparse.Namespace, stdin: TextIO) -> int:
    if args.list_voices:
        return _list_voices(args)
    _check_options(args)
    texts = _read_texts(args, stdin)
    paths = _output_paths(args, len(texts))
    if args.plot:
        from .plot import require_matplotlib

        require_matplotlib()
    from audio import save_wav

    from .models import load_models
    from .pipeline import Synthesizer

    voice, griffin = _choose_voice(args)
    models = load_models(args.tacotron2, args.waveglow, voice=voice, need_waveglow=not griffin,
                         cache_dir=args.cache_dir, progress=not args.quiet)
    _info(args, f"Tacotron 2: {models.tacotron2_source}")
    _info(args, f"vocoder: {models.waveglow_source if not griffin else 'Griffin-Lim (no weights)'}")
    if args.precision == "int8" and not griffin:
        _info(args, "precision int8: folding and compiling WaveGlow first (once per process, about a minute)")
    synth = Synthesizer(models.tacotron2, models.waveglow, vocoder="griffin-lim" if griffin else args.vocoder, device=args.device,
                        backend=args.backend, precision=args.precision, fold_upsampler=args.fold_upsampler,
                        chunk_frames=args.chunk_frames, progress=False if args.quiet else None,
                        text_processor=models.text_processor,
                        **({} if args.denoise is None else {"denoiser_strength": args.denoise}))
    _info(args, f"inference: Tacotron 2 {synth.engines['tacotron2']}, vocoder {synth.engines['vocoder']} "
                f"(prepared in {synth.prepare_seconds:.1f} s, {synth.prepared_nbytes / 2**20:.0f} MiB)")
    result = synth.synthesize(texts, seed=args.seed, batch_size=args.batch_size,
                              max_decoder_steps=args.max_decoder_steps,
                              **({} if args.sigma is None else {"sigma": args.sigma}))
    for index, path in enumerate(paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        save_wav(path, result.audio[index], result.sampling_rate)
        _info(args, f"wrote {path} ({len(result.audio[index]) / result.sampling_rate:.2f} s)")
        if args.plot:
            from .plot import plot_result

            plot_result(result, index, path.with_suffix(".png"))
            _info(args, f"wrote {path.with_suffix('.png')}")
    return 0


def main(argv: Optional[Sequence[str]] = None, stdin: Optional[TextIO] = None) -> int:
    """Entry point of ``tacotron2-tts``; returns the exit status (0, 1 runtime failure, 2 user error)."""
    from checkpoints.download import DownloadError
    from checkpoints.errors import CheckpointError

    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        report_error(PROG, exc)
        return EXIT_USAGE
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return _run(args, stdin if stdin is not None else sys.stdin)
        except (UsageError, CheckpointError, DownloadError, ValueError, OSError) as exc:
            report_error(PROG, exc)
            return EXIT_USAGE
        except FloatingPointError as exc:
            report_error(PROG, exc)
            return EXIT_RUNTIME
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
