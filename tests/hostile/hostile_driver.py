"""Run hostile checkpoint files through every entry point, in one process with a memory ceiling.

    python tests/hostile/hostile_driver.py PLAN.json

``PLAN.json`` holds ``{"memory_bytes", "seconds_per_attempt", "attempts": [{"entry", "file", "work"}],
"good_tacotron2", "good_waveglow", "dataset", "listing", "tacotron2_config", "waveglow_config"}``.
For each attempt one JSON line goes to stdout: ``{"entry", "file", "ok", "detail"}``; ``ok`` means a
clean one-line refusal (a ``CheckpointError`` from the library, or exit status 2 with exactly one
``error:`` line on stderr and no traceback) and no output file.
"""
from __future__ import annotations

import contextlib
import io
import json
import resource
import signal
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, Tuple

FORBIDDEN = ("Re-running", "weights_only set to False", "Traceback")


class AttemptTimeout(Exception):
    """An entry point took longer than its share (for example it blocked reading a FIFO)."""


def _alarm(signum, frame):  # noqa: ARG001 (signal API)
    raise AttemptTimeout("timed out (blocked or far too slow)")


def _library(load: Callable[[str], Any]) -> Callable[[str, Path, Dict[str, Any]], Tuple[bool, str]]:
    from checkpoints import CheckpointError

    def run(path: str, work: Path, plan: Dict[str, Any]) -> Tuple[bool, str]:
        try:
            load(path)
        except CheckpointError as exc:
            message = str(exc)
            return "\n" not in message and not any(f in message for f in FORBIDDEN), message
        return False, "loaded without complaint"
    return run


def _cli(main: Callable[[list], int], argv: Callable[[str, Path, Dict[str, Any]], list],
         output: Callable[[Path], Path]) -> Callable[[str, Path, Dict[str, Any]], Tuple[bool, str]]:
    def run(path: str, work: Path, plan: Dict[str, Any]) -> Tuple[bool, str]:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                status = main(argv(path, work, plan))
            except SystemExit as exc:
                status = exc.code
        text = err.getvalue()
        errors = [line for line in text.splitlines() if ": error: " in line]
        clean = status == 2 and len(errors) == 1 and not any(f in text for f in FORBIDDEN)
        if output(work).exists():
            return False, f"wrote {output(work)} although the input was refused"
        return clean, errors[0] if len(errors) == 1 else f"status {status}, stderr {text[-400:]!r}"
    return run


def _entries() -> Dict[str, Callable[[str, Path, Dict[str, Any]], Tuple[bool, str]]]:
    from checkpoints import load_tacotron2, load_waveglow
    from checkpoints.__main__ import main as checkpoints_main
    from tacotron2_waveglow.synthesis.cli import main as tts_main
    from tacotron2_waveglow.training.cli import main as train_main

    def train(model: str, flag: str):
        def argv(path: str, work: Path, plan: Dict[str, Any]) -> list:
            args = ["-o", str(work / "train"), "-d", plan["dataset"], "--training-files", plan["listing"],
                    "--config-overrides", json.dumps(plan[f"{model}_config"]), "-bs", "2", "--epochs", "1",
                    "--no-progress", "--no-tensorboard", "--device", "cpu", flag, path]
            if model == "waveglow":  # a WaveGlow-only option: tacotron2-train refuses it
                args[-2:-2] = ["--segment-length", "1024"]
            return args
        return _cli(lambda a: train_main(a, model=model), argv, lambda work: work / "train" / "checkpoint_latest.pt")

    def tts(flag: str):
        def argv(path: str, work: Path, plan: Dict[str, Any]) -> list:
            models = {"--tacotron2": plan["good_tacotron2"], "--waveglow": plan["good_waveglow"], flag: path}
            return ["--tacotron2", models["--tacotron2"], "--waveglow", models["--waveglow"], "--device", "cpu",
                    "-q", "-o", str(work / "out.wav"), "hello"]
        return _cli(tts_main, argv, lambda work: work / "out.wav")

    return {
        "load_tacotron2": _library(load_tacotron2),
        "load_waveglow": _library(load_waveglow),
        "inspect": _cli(checkpoints_main, lambda p, w, plan: ["inspect", p], lambda w: w / "never"),
        "convert": _cli(checkpoints_main, lambda p, w, plan: ["convert", p, str(w / "converted.pt")],
                        lambda w: w / "converted.pt"),
        "tts --tacotron2": tts("--tacotron2"),
        "tts --waveglow": tts("--waveglow"),
        "tacotron2-train --resume": train("tacotron2", "--resume"),
        "tacotron2-train --warm-start": train("tacotron2", "--warm-start"),
        "waveglow-train --warm-start": train("waveglow", "--warm-start"),
    }


def main(plan_path: str) -> int:
    plan = json.loads(Path(plan_path).read_text(encoding="utf-8"))
    resource.setrlimit(resource.RLIMIT_AS, (plan["memory_bytes"], plan["memory_bytes"]))
    warnings.simplefilter("ignore")
    import torch

    torch.set_num_threads(1)
    entries = _entries()
    signal.signal(signal.SIGALRM, _alarm)
    for index, attempt in enumerate(plan["attempts"]):
        work = Path(plan["work"]) / str(index)
        work.mkdir(parents=True, exist_ok=True)
        signal.alarm(plan["seconds_per_attempt"])
        start = time.perf_counter()
        try:
            ok, detail = entries[attempt["entry"]](attempt["file"], work, plan)
        except BaseException as exc:  # noqa: BLE001 - anything else is exactly what the test reports
            ok, detail = False, f"{type(exc).__name__}: {exc!s:.300} | {traceback.format_exc(limit=-3)[-600:]}"
        finally:
            signal.alarm(0)
        print(json.dumps({**attempt, "ok": ok, "detail": detail, "seconds": time.perf_counter() - start}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
