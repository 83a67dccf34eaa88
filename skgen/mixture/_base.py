"""What the mixtures share above their engine: the base class and fit helpers.

:class:`BaseMixture` holds what :class:`~skgen.GaussianMixture` and
:class:`~skgen.TabularMixture` do the same way: the fit driver (batch EM
from ``n_init`` starts, the best kept, its attributes, warning and progress)
and what they answer from their ``score_samples``; the helpers describe the
training data and their weights.  Imported by the estimators and the Dask
sources, it imports no estimator.
"""

import math
import warnings
from contextlib import contextmanager
from time import time

import numpy as np
import torch
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.exceptions import ConvergenceWarning

from skgen.mixture._engine.passes import run_em
from skgen.utils._dask import num_samples
from skgen.utils._threads import torch_work

__all__ = [
    "BaseMixture",
    "FitData",
    "restored_on_failure",
    "weighted_sum",
]


class BaseMixture(DensityMixin, BaseEstimator):
    """Base of skgen's mixtures: the fit driver, scores and criteria.

    A subclass has ``score_samples`` (the log-density of each row, in the
    units of the data), ``_n_parameters`` (its free parameters), and the
    parameters ``max_iter``, ``tol``, ``verbose`` and ``verbose_interval``
    that the driver reads.  Its ``fit`` builds the E- and M-steps of its
    family over its source and hands them to :meth:`_em_from_starts`, then
    stores the winner with :meth:`_store_em_run`.
    """

    def _em_from_starts(self, e_step, m_step, starts, *, lower_bound=-math.inf):
        """Batch EM from each of ``starts``; the run with the largest lower bound.

        ``starts`` yields initial parameters, drawn as each run begins (so a
        random init draws in the order of the runs); ``lower_bound`` is the
        bound the first iteration's change is measured from (a warm start's).
        Returns ``(params, lower_bounds, n_iter, converged)`` of the best run;
        with ``max_iter=0``, the last start unchanged.  Ties keep the first.
        """
        best = None
        for init, params in enumerate(starts):
            self._print_verbose_msg_init_beg(init)
            if self.max_iter == 0:
                best = (params, [], 0, False)
                continue
            run = run_em(
                e_step, m_step, params, max_iter=self.max_iter, tol=self.tol,
                lower_bound=lower_bound, on_iteration=self._print_verbose_msg_iter_end,
            )
            self._print_verbose_msg_init_end(run[1][-1], run[3])
            if best is None or run[1][-1] > best[1][-1]:
                best = run
        return best

    def _store_em_run(self, run):
        """Set ``converged_``, ``n_iter_``, ``lower_bound_``, ``lower_bounds_``.

        Warns when the kept run did not converge (unless ``max_iter=0``).
        """
        _, lower_bounds, n_iter, converged = run
        if not converged and self.max_iter > 0:
            warnings.warn(
                # scikit-learn's words, which its test suite checks.
                "Best performing initialization did not converge. "
                "Try different init parameters, or increase max_iter, "
                "tol, or check for degenerate data.",
                ConvergenceWarning,
                stacklevel=4,
            )
        self.converged_ = converged
        self.n_iter_ = n_iter
        self.lower_bound_ = lower_bounds[-1] if lower_bounds else -math.inf
        self.lower_bounds_ = list(lower_bounds)

    # Progress goes to stdout behind ``verbose``, as in scikit-learn.

    def _print_verbose_msg_init_beg(self, n_init):
        if self.verbose >= 1:
            print(f"Initialization {n_init}")
        if self.verbose >= 2:
            self._init_prev_time = time()
            self._iter_prev_time = self._init_prev_time

    def _print_verbose_msg_iter_end(self, n_iter, diff_ll):
        if n_iter % self.verbose_interval != 0:
            return
        if self.verbose == 1:
            print(f"  Iteration {n_iter}")
        elif self.verbose >= 2:
            cur_time = time()
            print(
                f"  Iteration {n_iter}\t time lapse "
                f"{cur_time - self._iter_prev_time:.5f}s\t ll change {diff_ll:.5f}"
            )
            self._iter_prev_time = cur_time

    def _print_verbose_msg_init_end(self, lower_bound, converged):
        message = "converged" if converged else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {message}.")
        elif self.verbose >= 2:
            lapse = time() - self._init_prev_time
            print(
                f"Initialization {message}. time lapse {lapse:.5f}s\t lower bound"
                f" {lower_bound:.5f}."
            )

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
