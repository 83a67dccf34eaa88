"""skgen: generative models that are true scikit-learn estimators."""

from skgen import datasets, metrics, pipeline, preprocessing
from skgen.impute import GenerativeImputer
from skgen.mixture import GaussianMixture, TabularMixture
from skgen.neural import GAN, VAE
from skgen.outlier import DensityOutlierDetector

__version__ = "0.1.0.dev0"

__all__ = [
    "DensityOutlierDetector",
    "GAN",
    "GaussianMixture",
    "GenerativeImputer",
    "TabularMixture",
    "VAE",
    "__version__",
    "datasets",
    "metrics",
    "pipeline",
    "preprocessing",
]
