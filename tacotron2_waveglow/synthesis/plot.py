"""PNG of a synthesized text's mel spectrogram and attention alignment (needs matplotlib)."""
from __future__ import annotations

import os
from typing import Union

from .result import SynthesisResult


def require_matplotlib() -> None:
    """Raise ``ValueError`` telling how to install matplotlib when it is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ValueError("plotting needs matplotlib: pip install matplotlib "
                         "(or pip install 'tacotron2-waveglow[plot]')") from exc


def plot_result(result: SynthesisResult, index: int, path: Union[str, os.PathLike]) -> None:
    """Write a PNG with text ``index``'s mel spectrogram (top) and block-diagonal alignment (bottom), atomically."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 7))
    top, bottom = fig.subplots(2, 1)
    mel = result.mel(index)
    image = top.imshow(mel, aspect="auto", origin="lower", interpolation="none")
    top.set(title=f"mel spectrogram ({len(result.sentences[index])} piece(s))", xlabel="frame", ylabel="mel channel")
    fig.colorbar(image, ax=top)
    image = bottom.imshow(result.alignment(index).T, aspect="auto", origin="lower", interpolation="none")
    bottom.set(title="alignment", xlabel="decoder step", ylabel="encoder step (symbol)")
    fig.colorbar(image, ax=bottom)
    fig.tight_layout()
    from audio.atomic import atomic_write

    atomic_write(path, lambda handle: fig.savefig(handle, format="png"))
