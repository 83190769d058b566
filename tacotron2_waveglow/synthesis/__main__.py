"""``python -m tacotron2_waveglow.synthesis`` runs the ``tacotron2-tts`` command line."""
import sys

from .cli import main

sys.exit(main())
