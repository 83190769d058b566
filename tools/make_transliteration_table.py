"""Build ``text/transliteration.json`` from NVIDIA's transliteration tables.

NVIDIA's torch.hub text front end (``tacotron2/text/unidecoder`` in
NVIDIA/DeepLearningExamples) transliterates each character of ``ord >= 127``
with two tables: ``replacements`` (a list of ``[character, ascii]`` pairs; for a
character listed twice the later pair wins) and, for characters it lacks,
``homoglyphs`` (``{ascii: [look-alike, ...]}``). This script flattens the two
into one ``character -> ascii`` mapping with that precedence, keeps only
single characters of ``ord >= 127`` (the only ones NVIDIA ever looks up) and
writes it as JSON, sorted by code point, one entry per line.

The source files are read as data with ``ast.literal_eval``; nothing in them is
imported or executed. Run from the repository root::

    python tools/make_transliteration_table.py            # rewrite the table
    python tools/make_transliteration_table.py --check    # exit 1 if it is stale
"""
import argparse
import ast
import json
import sys
from pathlib import Path
from typing import Dict, List, Tuple

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO / "tests" / "fixtures" / "nvidia_unidecoder"
DEFAULT_OUTPUT = REPO / "text" / "transliteration.json"
SOURCE_NOTE = (
    "NVIDIA/DeepLearningExamples branch torchhub a6c678ef0323cdaae053e9eed34dce94488ad313, "
    "PyTorch/SpeechSynthesis/Tacotron2/tacotron2/text/unidecoder/{replacements,homoglyphs}.py"
)
RULE_NOTE = (
    "characters with ord < 127 are kept; any other character maps to table[character] "
    "(replacements first, later pair wins; then homoglyphs); a character not in the table is dropped"
)
FIRST_LOOKED_UP = 127  # NVIDIA keeps ord(c) < 127 unchanged


def read_literal(path: Path, name: str) -> object:
    """The value of the top-level assignment ``name = <literal>`` in the Python file ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise ValueError(f"{path} has no top-level assignment to {name!r}")


def build_table(replacements: List[Tuple[str, str]], homoglyphs: Dict[str, List[str]]) -> Dict[str, str]:
    """Flatten NVIDIA's two tables into ``{character: ascii}`` with NVIDIA's precedence."""
    table: Dict[str, str] = {}
    for ascii_text, glyphs in homoglyphs.items():
        for glyph in glyphs:
            table[glyph] = ascii_text
    for character, ascii_text in replacements:
        table[character] = ascii_text  # replacements win over homoglyphs, later pairs over earlier
    looked_up = {c: a for c, a in table.items() if len(c) == 1 and ord(c) >= FIRST_LOOKED_UP}
    bad = {c: a for c, a in looked_up.items() if not all(ord(x) < FIRST_LOOKED_UP for x in a)}
    if bad:
        raise ValueError(f"replacements outside ord < {FIRST_LOOKED_UP} in the source tables: {bad!r:.200}")
    return dict(sorted(looked_up.items(), key=lambda item: ord(item[0])))


def render(table: Dict[str, str]) -> str:
    """The JSON text of the table file (ASCII only, one entry per line)."""
    lines = [
        "{",
        f'"source": {json.dumps(SOURCE_NOTE)},',
        f'"rule": {json.dumps(RULE_NOTE)},',
        '"table": {',
    ]
    entries = [f"{json.dumps(c)}: {json.dumps(a)}" for c, a in table.items()]
    lines.append(",\n".join(entries))
    lines += ["}", "}", ""]
    return "\n".join(lines)


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="make_transliteration_table", description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                        help="folder holding NVIDIA's replacements.py and homoglyphs.py")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON file to write")
    parser.add_argument("--check", action="store_true", help="only report whether --output is up to date")
    args = parser.parse_args(argv)
    replacements = read_literal(args.source / "replacements.py", "replacements")
    homoglyphs = read_literal(args.source / "homoglyphs.py", "homoglyphs")
    text = render(build_table(replacements, homoglyphs))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
        if current != text:
            sys.stderr.write(f"{args.output} is out of date; run {parser.prog} without --check\n")
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
