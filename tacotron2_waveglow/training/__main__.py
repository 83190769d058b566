"""``python -m tacotron2_waveglow.training``: train Tacotron 2 or WaveGlow."""
import sys

from .cli import main

sys.exit(main())
