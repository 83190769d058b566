"""Packages whose public names are imported on first use (PEP 562 module ``__getattr__``).

Lives in ``checkpoints``, the lowest package that needs it (``tacotron2_waveglow.synthesis``
uses it too), so that importing a package stays cheap until one of its names is used:
``tacotron2-tts --help`` then starts without torch.
"""
import importlib
import sys
from typing import Any, Callable, List, Mapping, Tuple


def lazy_exports(package: str, exports: Mapping[str, str]) -> Tuple[Callable[[str], Any], Callable[[], List[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, whose name ``n`` lives in submodule ``exports[n]``.

    Use in the package's ``__init__``: ``__getattr__, __dir__ = lazy_exports(__name__, {...})``.
    """

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)

    def __dir__() -> List[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
