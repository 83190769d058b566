"""Recipes that build things the library ships (not installed; run from a checkout)."""
