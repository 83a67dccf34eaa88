"""Gaussian mixture models fitted by EM in torch."""

from skgen.mixture._gaussian_mixture import GaussianMixture

__all__ = ["GaussianMixture"]
