"""``python -m tacotron2_waveglow.synthesis`` runs the ``tacotron2-tts`` command line."""
import sys

from .cli import console_main

sys.exit(console_main())
