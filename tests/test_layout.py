"""The package layout and its one-way dependency rule (docs/design.md), checked on the source."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# text, audio -> tacotron2, waveglow -> checkpoints -> tacotron2_waveglow -> recipes
LAYER = {"text": 0, "audio": 0, "tacotron2": 1, "waveglow": 1, "checkpoints": 2, "tacotron2_waveglow": 3,
         "recipes": 4}
SIBLINGS_APART = [("text", "audio"), ("tacotron2", "waveglow")]


def _imports(path: Path):
    """``(line, top-level package)`` of every absolute import in ``path`` that names one of ours."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top in LAYER:
                yield node.lineno, name


def _sources(package: str):
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(LAYER))
def test_imports_point_only_down_the_layers(package):
    wrong = []
    for path in _sources(package):
        for line, name in _imports(path):
            top = name.split(".")[0]
            if LAYER[top] > LAYER[package] or (package, top) in SIBLINGS_APART or (top, package) in SIBLINGS_APART:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not wrong, "imports against the dependency rule:\n" + "\n".join(wrong)


def test_inference_code_never_imports_the_trainers():
    inference = [p for p in _sources("tacotron2_waveglow") if "training" not in p.relative_to(ROOT).parts]
    wrong = [f"{p.relative_to(ROOT)}:{line} imports {name}" for p in inference for line, name in _imports(p)
             if name.startswith("tacotron2_waveglow.training")]
    assert not wrong, "\n".join(wrong)


def test_setup_installs_five_generic_names_and_one_distinctive_package():
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    packages = next(kw.value for node in ast.walk(tree) if isinstance(node, ast.Call)
                    for kw in node.keywords if kw.arg == "packages")
    tops = {ast.literal_eval(element).split(".")[0] for element in packages.elts}
    assert tops == {"tacotron2", "waveglow", "text", "audio", "checkpoints", "tacotron2_waveglow"}


def test_synthesizing_loads_no_training_or_recipe_module(tmp_path):
    """A whole CLI run with the golden tiny model imports neither the trainers nor the voice recipes."""
    golden = ROOT / "tests" / "fixtures" / "golden" / "tacotron2_tiny_ngc.pt"
    code = (
        "import sys\n"
        "from tacotron2_waveglow.synthesis.cli import main\n"
        f"status = main(['Hi.', '--tacotron2', {str(golden)!r}, '--vocoder', 'griffin-lim', '-q',"
        f" '-o', {str(tmp_path / 'a.wav')!r}])\n"
        "assert status == 0, status\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('tacotron2_waveglow.training', 'recipes')))\n"
        "print(bad)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
