"""``python -m tacotron2.train``: train Tacotron 2 (see ``python -m training --help``)."""
import sys

from training.cli import main

if __name__ == "__main__":
    sys.exit(main(model="tacotron2"))
