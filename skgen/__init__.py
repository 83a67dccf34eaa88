"""skgen: generative models that are true scikit-learn estimators."""

from skgen.mixture import GaussianMixture

__version__ = "0.1.0.dev0"

__all__ = ["GaussianMixture", "__version__"]
