"""Training recipes for the two models, loaded on demand by name."""
from __future__ import annotations

import importlib

from .recipe import DataSpec, ModelRecipe

MODEL_NAMES = ("tacotron2", "waveglow")


def get_recipe(name: str) -> ModelRecipe:
    """The :class:`ModelRecipe` for ``tacotron2`` or ``waveglow``."""
    key = name.lower()
    if key not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}; choose one of {MODEL_NAMES}")
    return importlib.import_module(f"{__name__}.{key}").RECIPE


__all__ = ["DataSpec", "ModelRecipe", "MODEL_NAMES", "get_recipe"]
