"""Exception raised for any checkpoint that cannot be read or does not fit."""


class CheckpointError(ValueError):
    """A checkpoint file is unreadable, unsafe, of the wrong model, or of the wrong shape.

    Subclasses :class:`ValueError` so callers that catch bad input generally
    also catch this.
    """
