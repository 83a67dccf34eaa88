"""What the mixtures share above their engine: the base class and fit helpers.

:class:`BaseMixture` holds what :class:`~skgen.GaussianMixture` and
:class:`~skgen.TabularMixture` answer the same way from their
``score_samples``; the helpers describe the training data and their weights.
Imported by the estimators and the Dask sources, it imports no estimator.
"""

import math
from contextlib import contextmanager

import numpy as np
import torch
from sklearn.base import BaseEstimator, DensityMixin

from skgen.utils._dask import num_samples
from skgen.utils._threads import torch_work

__all__ = [
    "BaseMixture",
    "FitData",
    "restored_on_failure",
    "weighted_sum",
]


class BaseMixture(DensityMixin, BaseEstimator):
    """Base of skgen's mixtures: scores and criteria from ``score_samples``.

    A subclass has ``score_samples`` (the log-density of each row, in the
    units of the data) and ``_n_parameters`` (its free parameters).
    """

    @torch_work
    def score(self, X, y=None):
        """Mean log-likelihood of the rows of X (see :meth:`score_samples`).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The rows to score.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        log_likelihood : float
            Mean log-likelihood of X under the model.
        """
        return float(np.mean(self.score_samples(X)))

    @torch_work
    def bic(self, X):
        """Bayesian information criterion of the model on X; lower is better.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The rows.

        Returns
        -------
        bic : float
            ``-2 * log-likelihood + n_parameters * log(n_samples)``.
        """
        n_samples = num_samples(X)
        penalty = self._n_parameters() * math.log(n_samples)
        return -2 * self.score(X) * n_samples + penalty

    @torch_work
    def aic(self, X):
        """Akaike information criterion of the model on X; lower is better.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The rows.

        Returns
        -------
        aic : float
            ``-2 * log-likelihood + 2 * n_parameters``.
        """
        return -2 * self.score(X) * num_samples(X) + 2 * self._n_parameters()


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
