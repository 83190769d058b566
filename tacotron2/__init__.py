"""tacotron2 package."""
