"""``tacotron2-tts``: speak text into WAV files from the command line.

Examples::

    tacotron2-tts "Hello world" -o hello.wav                  # NVIDIA's weights if downloaded, else the built-in voice
    tacotron2-tts "Hello world" --pretrained ljspeech -o hello.wav   # NVIDIA's DLE weights, downloaded once
    tacotron2-tts -i phrases.txt -o out/                      # line n -> out/audio_<n>.wav (+ out/manifest.jsonl)
    torchrun --nproc-per-node 4 -m tacotron2_waveglow.synthesis -i phrases.txt -o out/   # 4 processes share the lines
    echo "From stdin." | tacotron2-tts -o stdin.wav
    tacotron2-tts "Hi" --tacotron2 t2.pt --waveglow wg.pt -o hi.wav
    tacotron2-tts "Hi" --tacotron2 t2.pt --vocoder griffin-lim -o hi.wav

User errors (bad options, unreadable checkpoints) print one line
``tacotron2-tts: error: ...`` to stderr and exit with status 2, before any
model is loaded where the options alone show the error. A run whose text
could not be spoken exits with 1; with ``-i`` every other line is still
written and each failed line is reported by its line number. Progress and
which weights were used go to stderr, never stdout. Batch runs (``-i``):
see :mod:`tacotron2_waveglow.synthesis.batch`.
"""
from __future__ import annotations

import argparse
import math
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence, TextIO

from checkpoints.cli_support import OneLineArgumentParser, UsageError, report_error
from tacotron2_waveglow.synthesis.allocator import add_malloc_argument, apply_malloc_choice
from tacotron2_waveglow.synthesis.inference import BACKENDS, PRECISIONS

if TYPE_CHECKING:
    import torch

    from .pipeline import Synthesizer
    from .result import SynthesisResult

PROG = "tacotron2-tts"
EXIT_USAGE = 2
EXIT_RUNTIME = 1
#: Largest ``--max-decoder-steps``: 20000 frames are 232 s of audio per piece (NVIDIA's default is 1000),
#: while the decoder's buffers grow with the limit; long text is split into pieces anyway.
MAX_DECODER_STEPS_LIMIT = 20_000


def build_parser() -> argparse.ArgumentParser:
    """The ``tacotron2-tts`` argument parser."""
    from ..bundles import BUILTIN_VOICE, DEFAULT_VOICE, VOICES

    p = OneLineArgumentParser(prog=PROG, description="Synthesize speech with Tacotron 2 and WaveGlow.")
    p.add_argument("text", nargs="?", help="text to speak (default: read stdin when no -i is given)")
    p.add_argument("-i", "--input", metavar="FILE",
                   help="text file, one phrase per line: line n -> OUTPUT/audio_<n>.wav (counted from 1, empty "
                        "lines skipped), existing WAVs skipped (resume), OUTPUT/manifest.jsonl; shards over "
                        "torchrun ranks")
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
                                                      "torch.hub.get_dir()/checkpoints); --precision int8 keeps "
                                                      "WaveGlow's prepared weights in DIR/prepared")
    p.add_argument("--vocoder", choices=("waveglow", "griffin-lim"), default="waveglow")
    p.add_argument("--sigma", type=float, default=None, help="WaveGlow noise scale (default 0.6)")
    p.add_argument("--denoise", type=float, default=None, metavar="STRENGTH",
                   help="WaveGlow denoiser strength, 0 = off (default 0.01)")
    p.add_argument("--batch-size", type=int, default=8, help="pieces (sentences) of one text decoded together")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--backend", default=None, choices=BACKENDS,
                   help="fast (default), reference (NVIDIA's step-by-step computation), cuda_graph (CUDA) or "
                        "onnxruntime (the graphs of tacotron2-export-onnx, see --onnx-dir); see docs/performance.md")
    p.add_argument("--precision", default="fp32", choices=PRECISIONS,
                   help="fp32 (default), fp32_exact (NVIDIA's numbers bit for bit, slower), bf16, fp16 (CUDA) "
                        "or int8 (CPU, fastest on CPUs with VNNI, emulated and slow on AVX2-only ones; seconds of set-up, "
                        "its weights cached under --cache-dir)")
    p.add_argument("--fold-upsampler", action="store_true", default=None,
                   help="WaveGlow: fold the mel upsampler into the conditioning (faster per second of audio, "
                        "a few seconds of set-up)")
    p.add_argument("--chunk-frames", type=int, default=None, metavar="N",
                   help="WaveGlow: vocode in chunks of N mel frames (bounded memory for long texts)")
    p.add_argument("--onnx-dir", metavar="DIR", help="export folder of tacotron2-export-onnx, for --backend onnxruntime")
    p.add_argument("--seed", type=int, default=None,
                   help="random seed in [0, 2**63): same seed, same audio (with -i, line n uses seed + n)")
    p.add_argument("--max-decoder-steps", type=int, default=None, metavar="N",
                   help=f"frame limit per piece (default: the model's, 1000 for NVIDIA's; at most {MAX_DECODER_STEPS_LIMIT})")
    add_malloc_argument(p, default="keep")
    p.add_argument("--plot", action="store_true", help="also write a PNG (mel + alignment) next to each WAV")
    p.add_argument("--force", action="store_true",
                   help="overwrite existing output files (with -i: redo every line instead of resuming)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or information on stderr")
    return p


def _check_options(args: argparse.Namespace) -> None:
    """Reject contradictory or out-of-range options before any work is done (no model is loaded yet)."""
    from ..bundles import HOP_LENGTH, SAMPLE_RATE
    from checkpoints.cli_support import SEED_MODULUS

    if args.text is not None and args.input is not None:
        raise UsageError("give either TEXT or -i FILE, not both")
    if (args.backend == "onnxruntime") != (args.onnx_dir is not None):
        raise UsageError("--backend onnxruntime and --onnx-dir DIR go together: give both or neither")
    if args.onnx_dir is not None:
        for flag, value in (("--tacotron2", args.tacotron2), ("--waveglow", args.waveglow),
                            ("--pretrained", args.pretrained)):
            if value is not None:
                raise UsageError(f"{flag} does not apply to --backend onnxruntime: the models come from --onnx-dir")
        if args.precision != "fp32" or args.device == "cuda":
            raise UsageError("--precision and --device cuda do not apply to --backend onnxruntime "
                             "(its graphs run on the CPU in the precision they were exported in)")
        if args.fold_upsampler or args.chunk_frames is not None:
            raise UsageError("--fold-upsampler and --chunk-frames do not apply to --backend onnxruntime "
                             "(its graphs run as they were exported)")
        if not Path(args.onnx_dir).is_dir():
            raise UsageError(f"--onnx-dir: folder not found: {args.onnx_dir}")
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
    if args.max_decoder_steps is not None and args.max_decoder_steps > MAX_DECODER_STEPS_LIMIT:
        raise UsageError(f"--max-decoder-steps {args.max_decoder_steps} is above the limit of "
                         f"{MAX_DECODER_STEPS_LIMIT} ({MAX_DECODER_STEPS_LIMIT * HOP_LENGTH / SAMPLE_RATE:.0f} s of audio per "
                         "piece); long text is split into pieces by itself")
    for flag, value in (("--sigma", args.sigma), ("--denoise", args.denoise)):
        if value is not None and not math.isfinite(value):
            raise UsageError(f"{flag} must be a finite number, got {value}")
        if value is not None and value < 0:
            raise UsageError(f"{flag} must be >= 0, got {value}")
    if args.seed is not None and not 0 <= args.seed < SEED_MODULUS:
        raise UsageError(f"--seed must be in [0, 2**63), got {args.seed}")
    from checkpoints.errors import CheckpointError
    from checkpoints.limits import check_regular_file

    for flag, path in (("--tacotron2", args.tacotron2), ("--waveglow", args.waveglow)):
        if path is not None:
            try:
                check_regular_file(path)  # a directory, FIFO or device is named as such and never opened
            except CheckpointError as exc:
                raise UsageError(f"{flag}: {exc}") from None
    if args.input is not None and not Path(args.input).is_file():
        raise UsageError(f"-i: file not found: {args.input}")
    if args.chunk_frames is not None and args.chunk_frames < 1:
        raise UsageError(f"--chunk-frames must be at least 1, got {args.chunk_frames}")
    if args.onnx_dir is None:
        _check_cuda_without_torch(args)
        # ValueError naming what runs, for combinations this device cannot run
        from tacotron2.inference import resolve_backend
        import torch

        resolve_backend(args.backend, args.precision, _device(args), torch.float32, training=False)


def _check_cuda_without_torch(args: argparse.Namespace) -> None:
    """On a CPU-only torch build, refuse what needs CUDA before ``import torch`` (1-2 s) is paid.

    A GPU build (or an unknown one) is left to :func:`_device` and the models'
    tables, which need torch to see whether a GPU is there.
    """
    from .device import cuda_unavailable_error, torch_build_has_cuda
    from .inference import CUDA_ONLY_BACKENDS, CUDA_ONLY_PRECISIONS

    asks_cuda = args.device == "cuda" or args.backend in CUDA_ONLY_BACKENDS or args.precision in CUDA_ONLY_PRECISIONS
    if not asks_cuda or torch_build_has_cuda() is not False:
        return
    why = "the installed torch is a CPU-only build (no CUDA support)"
    if args.device == "cuda":
        raise UsageError(str(cuda_unavailable_error("cuda", why)))
    cpu_precisions = ", ".join(p for p in PRECISIONS if p not in CUDA_ONLY_PRECISIONS)
    cpu_backends = ", ".join(b for b in BACKENDS if b not in CUDA_ONLY_BACKENDS)
    flag = f"--backend {args.backend}" if args.backend in CUDA_ONLY_BACKENDS else f"--precision {args.precision}"
    raise UsageError(f"{flag} needs a CUDA GPU, and {why}; on the CPU use --precision {cpu_precisions} "
                     f"and --backend {cpu_backends}")


def _device(args: argparse.Namespace) -> "torch.device":
    """The device of this process: ``--device``, and under torchrun with CUDA the GPU ``LOCAL_RANK``.

    ``ValueError`` (a usage error) for ``--device cuda`` without CUDA.
    """
    import torch

    from .batch import Shard
    from .device import resolve_device

    device = resolve_device(args.device)
    shard = Shard.from_env()
    if device.type == "cuda" and shard.world_size > 1 and device.index is None:
        device = torch.device("cuda", shard.local_rank % torch.cuda.device_count())
    return device


def _read_text(args: argparse.Namespace, stdin: TextIO) -> str:
    """The text to speak without ``-i``: TEXT, or all of stdin."""
    text = args.text if args.text is not None else stdin.read()
    if not text.strip():
        raise UsageError("empty text: give TEXT, -i FILE, or text on stdin")
    return text.strip()


def _output_file(args: argparse.Namespace) -> Path:
    """The WAV path of a single-text run; refuses an existing file without --force."""
    target = Path(args.output) if args.output else Path("output.wav")
    if target.is_dir() or (args.output or "").endswith(("/", "\\")):
        target = target / "audio_1.wav"
    if target.suffix.lower() != ".wav":
        raise UsageError(f"-o {target}: the output file name must end in .wav (or name a folder)")
    if not args.force:
        for path in [target] + ([target.with_suffix(".png")] if args.plot else []):
            if path.exists():
                raise UsageError(f"{path} exists; pass --force to overwrite")
    return target


def _output_folder(args: argparse.Namespace) -> Path:
    """The folder of a ``-i`` run (created when missing)."""
    target = Path(args.output) if args.output else Path("output")
    if target.exists() and not target.is_dir():
        raise UsageError(f"-o {target} must be a folder with -i (one WAV per line)")
    target.mkdir(parents=True, exist_ok=True)
    return target


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


def _prog() -> str:
    """``tacotron2-tts``, with ``(rank R/N)`` under torchrun."""
    from .batch import Shard

    try:
        return PROG + Shard.from_env().label
    except UsageError:
        return PROG


def _info(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(f"{_prog()}: {message}", file=sys.stderr)


def _error(message: str) -> None:
    print(f"{_prog()}: error: {message}", file=sys.stderr)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"{_prog()}: warning: {message}", file=sys.stderr)


def _list_voices(args: argparse.Namespace) -> int:
    """Print each named voice: name, vocoder, cached or not, description (stdout, one line each)."""
    from ..bundles import VOICES

    for voice in VOICES.values():
        state = "cached" if voice.is_cached(args.cache_dir) else "not downloaded"
        if voice.tacotron2_file is None:
            state = "shipped" if voice.is_cached(args.cache_dir) else "missing"
        print(f"{voice.name:16} {voice.vocoder_name:12} {state:15} {voice.description}")
    return 0


def _make_synthesizer(args: argparse.Namespace) -> "Synthesizer":
    """Load the models the options name and build the pipeline (the slow part of a run)."""
    from .models import load_models
    from .pipeline import Synthesizer

    if args.onnx_dir is not None:
        try:
            synth = Synthesizer.from_onnx(args.onnx_dir, vocoder=args.vocoder, device="cpu",
                                          progress=False if args.quiet else None,
                                          **({} if args.denoise is None else {"denoiser_strength": args.denoise}))
        except ImportError as exc:  # onnxruntime not installed: say how to get it
            raise UsageError(str(exc)) from None
        _info(args, f"Tacotron 2 and vocoder: ONNX Runtime graphs in {args.onnx_dir}")
        return synth
    voice, griffin = _choose_voice(args)
    models = load_models(args.tacotron2, args.waveglow, voice=voice, need_waveglow=not griffin,
                         cache_dir=args.cache_dir, progress=not args.quiet)
    _info(args, f"Tacotron 2: {models.tacotron2_source}")
    _info(args, f"vocoder: {models.waveglow_source if not griffin else 'Griffin-Lim (no weights)'}")
    prepared_cache = None
    if args.precision == "int8" and not griffin:
        from checkpoints.download import default_cache_dir

        prepared_cache = Path(args.cache_dir).expanduser() if args.cache_dir else default_cache_dir()
        prepared_cache = prepared_cache / "prepared"
        _info(args, f"precision int8: preparing WaveGlow (folded, quantized weights kept in {prepared_cache}; "
                    "10-20 s the first time, less once cached)")
    synth = Synthesizer(models.tacotron2, models.waveglow, vocoder="griffin-lim" if griffin else args.vocoder,
                        device=_device(args), backend=args.backend, precision=args.precision,
                        fold_upsampler=args.fold_upsampler, chunk_frames=args.chunk_frames,
                        progress=False if args.quiet else None, text_processor=models.text_processor,
                        prepared_cache_dir=prepared_cache,
                        **({} if args.denoise is None else {"denoiser_strength": args.denoise}))
    _info(args, f"inference: Tacotron 2 {synth.engines['tacotron2']}, vocoder {synth.engines['vocoder']} "
                f"(prepared in {synth.prepare_seconds:.1f} s, {synth.prepared_nbytes / 2**20:.0f} MiB)")
    cache_path = getattr(synth.waveglow_engine, "cache_path", None)
    if cache_path is not None:
        how = "read from" if synth.waveglow_engine.from_cache else "built and kept in"
        _info(args, f"int8 WaveGlow form {how} {cache_path}")
    return synth


def _speak(args: argparse.Namespace, synth: "Synthesizer", text: str, seed: Optional[int]) -> "SynthesisResult":
    """One text through the pipeline with the run's options."""
    return synth.synthesize([text], seed=seed, batch_size=args.batch_size, max_decoder_steps=args.max_decoder_steps,
                            **({} if args.sigma is None else {"sigma": args.sigma}))


def _write_outputs(args: argparse.Namespace, result: "SynthesisResult", path: Path) -> None:
    """The plot (with --plot), then the WAV, each atomically; ``FileExistsError`` if the WAV's name is taken.

    Without ``--force`` the WAV never replaces a file that appeared since the
    run started (checked when it is moved into place).
    """
    from audio import save_wav

    if args.plot:
        from .plot import plot_result

        plot_result(result, 0, path.with_suffix(".png"))
    save_wav(path, result.audio[0], result.sampling_rate, overwrite=args.force)


def _run_one(args: argparse.Namespace, stdin: TextIO) -> int:
    """TEXT or stdin -> one WAV."""
    text = _read_text(args, stdin)
    path = _output_file(args)
    synth = _make_synthesizer(args)
    result = _speak(args, synth, text, args.seed)
    try:
        _write_outputs(args, result, path)
    except FileExistsError:
        raise UsageError(f"{path} appeared while synthesizing (another run?); kept it: pass --force to replace it")
    _info(args, f"wrote {path} ({len(result.audio[0]) / result.sampling_rate:.2f} s)")
    if args.plot:
        _info(args, f"wrote {path.with_suffix('.png')}")
    return 0


def _run_batch(args: argparse.Namespace) -> int:
    """-i FILE -> one WAV per line (this process's share), then the manifest; 1 when some line failed."""
    from .batch import BatchRun, Shard, line_seed, read_lines

    lines = read_lines(args.input)
    folder = _output_folder(args)
    job = BatchRun(lines, folder, Shard.from_env(), force=args.force, info=lambda m: _info(args, m), error=_error)
    failed = 0
    if job.todo:
        synth = _make_synthesizer(args)
        failed = job.run(lambda line: _speak(args, synth, line.text, line_seed(args.seed, line)),
                         lambda result, path: _write_outputs(args, result, path))
    job.finish()
    if failed:
        _error(f"{failed} of {len(job.todo)} line(s) failed (reported above); the others were written")
    return EXIT_RUNTIME if failed else 0


def _run(args: argparse.Namespace, stdin: TextIO) -> int:
    if args.list_voices:
        return _list_voices(args)
    _check_options(args)
    apply_malloc_choice(args.malloc)  # before any model is loaded, so every large tensor comes from the kept heap
    if args.plot:
        from .plot import require_matplotlib

        require_matplotlib()
    return _run_batch(args) if args.input is not None else _run_one(args, stdin)


def main(argv: Optional[Sequence[str]] = None, stdin: Optional[TextIO] = None) -> int:
    """Entry point of ``tacotron2-tts``; returns the exit status (0, 1 runtime failure, 2 user error)."""
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        report_error(PROG, exc)
        return EXIT_USAGE
    from checkpoints.errors import CheckpointError  # torch-free: options are checked before torch is imported
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return _run(args, stdin if stdin is not None else sys.stdin)
        except (UsageError, CheckpointError, ValueError, OSError) as exc:  # OSError includes DownloadError
            report_error(_prog(), exc)
            return EXIT_USAGE
        except FloatingPointError as exc:
            report_error(_prog(), exc)
            return EXIT_RUNTIME
        except KeyboardInterrupt:
            print(f"{_prog()}: interrupted; every WAV written so far is complete (rerun to resume -i runs)",
                  file=sys.stderr)
            return 130


def console_main() -> int:
    """The ``tacotron2-tts`` script and ``python -m tacotron2_waveglow.synthesis``: :func:`main`, then exit fast.

    ``gc.freeze()`` after the run moves every live object (most of them torch's)
    out of the collector's reach, so the interpreter's shutdown does not walk
    them all once more: about 0.3 s of every run on two cores
    (``benchmarks/bench_startup.py``). Only the process entry does this; a
    program that calls :func:`main` keeps its collector as it was.
    """
    import gc

    status = main()
    gc.freeze()
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(console_main())
