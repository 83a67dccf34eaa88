"""Outlier detection with any density model."""

from skgen.outlier._density import DensityOutlierDetector

__all__ = ["DensityOutlierDetector"]
