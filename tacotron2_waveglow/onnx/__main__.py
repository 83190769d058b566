"""``python -m tacotron2_waveglow.onnx``: the same as ``tacotron2-export-onnx``."""
import sys

from .cli import main

sys.exit(main())
