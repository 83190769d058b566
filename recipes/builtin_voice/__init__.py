"""Building the built-in voice: corpus from a teacher synthesizer, training recipe, evaluation, report, export.

Run from a checkout, e.g. ``python -m recipes.builtin_voice.corpus --out DATA``;
inference never imports this package.
"""
