"""What the mixtures share and their engine does not: fit data, weights, failures.

Imported by :mod:`~skgen.mixture._gaussian_mixture`,
:mod:`~skgen.mixture._tabular` and the Dask sources; it imports no estimator.
"""

from contextlib import contextmanager

import numpy as np
import torch

__all__ = ["FitData", "restored_on_failure", "weighted_order", "weighted_sum"]


def weighted_sum(X, sample_weight):
    """``(sum w, sum w x)`` over the rows of X, in float64 (w = 1 when None)."""
    if sample_weight is None:
        total = torch.tensor(float(X.shape[0]), dtype=torch.float64, device=X.device)
        return total, X.sum(0, dtype=torch.float64)
    sample_weight = sample_weight.to(torch.float64)
    return sample_weight.sum(), sample_weight @ X.to(torch.float64)


@contextmanager
def restored_on_failure(estimator):
    """Put ``n_features_in_`` and ``feature_names_in_`` back if the block fails.

    Validation sets them before the fit; a fit that fails must not leave
    an unfitted estimator looking fitted, nor a fitted one describing data
    it was not fitted on.
    """
    names = ("n_features_in_", "feature_names_in_")
    described = {name: getattr(estimator, name) for name in names
                 if hasattr(estimator, name)}
    try:
        yield
    except BaseException:
        for name in names:
            if hasattr(estimator, name):
                delattr(estimator, name)
        for name, value in described.items():
            setattr(estimator, name, value)
        raise


class FitData:
    """What EM needs of the training data, however they are stored.

    ``source`` runs the passes (``map_reduce``); ``shift`` and ``spread`` are
    the weighted mean and mean squared distance to it; ``init_rows`` is
    ``(X, source, sample_weight, total_weight)`` of the rows the
    initialisation draws from; ``inits`` the validated user initial
    parameters; ``gaps`` whether some rows have missing entries (NaN),
    which the passes then split off (see ``em_pass_with_gaps``).
    """

    def __init__(
        self, *, source, dtype, device, shift, spread, total_weight, inits,
        init_rows, gaps=False,
    ):
        self.gaps = gaps
        self.source = source
        self.dtype = np.dtype(dtype)
        self.device = device
        self.shift = shift
        self.spread = spread
        self.total_weight = total_weight
        self.inits = inits
        self.init_rows = init_rows


def weighted_order(X, sample_weight):
    """Rows of positive weight in lexicographic order, and their weights.

    The initialisations draw by inverse-CDF sampling over this order: a row
    of weight w then covers the same stretch of the cumulative weights as w
    repeated copies of it, and shuffling the rows changes nothing.  The sort
    costs O(n log n) per fit and, for k-means, a copy of the data.
    """
    keep = np.arange(X.shape[0])
    if sample_weight is not None:
        keep = np.flatnonzero(sample_weight > 0)
    order = keep[np.lexsort(X[keep].T[::-1])]
    weights = None if sample_weight is None else sample_weight[order]
    return order, weights
