"""Mixture models fitted by EM in torch: Gaussian, and mixed-type tables."""

from skgen.mixture._gaussian_mixture import GaussianMixture
from skgen.mixture._tabular import TabularMixture

__all__ = ["GaussianMixture", "TabularMixture"]
