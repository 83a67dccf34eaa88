"""Mixture models fitted by EM in torch: Gaussian, and mixed-type tables."""

from skgen.mixture._gaussian_mixture import GaussianMixture
from skgen.mixture._tabular import TabularMixture

__all__ = ["GaussianMixture", "TabularMixture", "sample_dask"]


def __getattr__(name):
    # sample_dask lives with the Dask engine, which is imported only when
    # asked for: Dask is an optional extra.
    if name == "sample_dask":
        try:
            from skgen.mixture._dask import sample_dask
        except ImportError as error:
            raise ImportError(
                "sample_dask needs Dask: pip install 'skgen[dask]'."
            ) from error
        return sample_dask
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
