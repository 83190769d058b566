"""waveglow package."""
