"""Sample-based metrics between a data set and a generative model's samples."""

from skgen.metrics._sample_metrics import (
    c2st_auc,
    energy_distance,
    make_sample_scorer,
    mmd,
    mode_coverage,
    prdc,
)

__all__ = [
    "c2st_auc",
    "energy_distance",
    "make_sample_scorer",
    "mmd",
    "mode_coverage",
    "prdc",
]
