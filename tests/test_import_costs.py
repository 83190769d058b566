"""What importing the library pulls in: heavy packages only where they are used.

Each check runs in a fresh interpreter and reads ``sys.modules``; none of
them measures time (the start-up times are in benchmarks/bench_startup.py).
"""
import json
import subprocess
import sys
import textwrap

import pytest

HEAVY = ("scipy", "librosa", "numba", "inflect", "unidecode", "matplotlib", "torch._dynamo")


def _loaded_after(steps):
    """Run ``steps`` (name -> code) in order in one new interpreter; the watched modules loaded after each."""
    watched = list(HEAVY) + ["torch", "numpy", "text", "audio"]
    script = textwrap.dedent(f"""
        import json, sys
        report = {{}}
        for name, code in {list(steps.items())!r}:
            exec(code, {{}})
            report[name] = [m for m in {watched!r} if m in sys.modules]
        print(json.dumps(report))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_cli_help_and_checkpoints_import_no_torch():
    loaded = _loaded_after({
        "checkpoints": "import checkpoints, checkpoints.registry, checkpoints.cli_support",
        "help": textwrap.dedent("""
            import contextlib, io
            from tacotron2_waveglow.synthesis.cli import main
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    main(["--help"])
                except SystemExit as exit:
                    assert exit.code == 0
        """),
    })
    assert loaded["checkpoints"] == []
    assert loaded["help"] == []


@pytest.mark.slow  # one interpreter importing torch, then inflect (seconds each)
def test_models_text_and_audio_import_only_torch_and_numpy():
    loaded = _loaded_after({
        "models": "import tacotron2, waveglow",
        "text": "import text",
        "spell letters": "import text; text.text_to_sequence('Hello world, M\\u00fcller.')",
        "mel": "import audio, torch; audio.TacotronSTFT().mel_spectrogram(torch.zeros(1, 4096))",
        "wav": "import audio, torch, tempfile, os; audio.save_wav(os.path.join(tempfile.mkdtemp(), 'a.wav'), "
               "torch.zeros(10), 22050)",
        "spell numbers": "import text; text.text_to_sequence('It is 1905.')",
    })
    for step in ("models", "text", "spell letters", "mel", "wav"):
        assert not set(loaded[step]) & set(HEAVY), (step, loaded[step])
    assert "text" not in loaded["models"]  # (waveglow's denoiser uses audio, below it)
    assert "inflect" in loaded["spell numbers"]  # the check sees a lazily imported package


def test_lazy_package_names_resolve_on_use():
    import checkpoints
    import tacotron2_waveglow.synthesis as synthesis
    from checkpoints import load_tacotron2
    from checkpoints.tacotron2 import load_tacotron2 as defined

    assert load_tacotron2 is defined
    assert {"load_tacotron2", "load_waveglow", "save_checkpoint"} <= set(dir(checkpoints))
    assert synthesis.Synthesizer.__module__ == "tacotron2_waveglow.synthesis.pipeline"
    try:
        checkpoints.no_such_name
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("unknown names must raise AttributeError")
