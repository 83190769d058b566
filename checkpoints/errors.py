"""Exception raised for any checkpoint that cannot be read or does not fit."""


class CheckpointError(ValueError):
    """A checkpoint file is unreadable, unsafe, of the wrong model, or of the wrong shape.

    Subclasses :class:`ValueError` so callers that catch bad input generally
    also catch this.
    """


class UnsafeCheckpointError(CheckpointError):
    """Safe loading refused to rebuild a pickled global (a class or function) in the file.

    ``global_name`` is the dotted name that was refused, for example
    ``glow.WaveGlow`` for an original NVIDIA/waveglow file.
    """

    def __init__(self, message: str, global_name: str) -> None:
        super().__init__(message)
        self.global_name = global_name
