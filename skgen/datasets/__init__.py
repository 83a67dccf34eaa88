"""Synthetic data sets of protocol P4 (mode coverage)."""

from skgen.datasets._synthetic import make_grid, make_ring

__all__ = ["make_grid", "make_ring"]
