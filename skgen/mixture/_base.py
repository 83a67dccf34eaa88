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
from skgen.mixture._engine.stepwise import step_size
from skgen.utils._dask import is_dask_collection, num_samples
from skgen.utils._threads import torch_work
from skgen.utils._torch import resolve_device

__all__ = [
    "BaseMixture",
    "FitData",
    "restored_on_failure",
    "weighted_sum",
]


class BaseMixture(DensityMixin, BaseEstimator):
    """Base of skgen's mixtures: the fit driver, scores and criteria.

    A subclass answers rows in memory (``_score_samples_in_memory``,
    ``_predict_proba_in_memory``) and the blocks of a Dask collection
    (``_lazy``), has ``_n_parameters`` (its free parameters), and the
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

    def _stepwise_update(self, data, first):
        """One step of stepwise EM (``partial_fit``) on the batch of ``data``.

        The running statistics per sample, ``s``, blend with the batch's,
        ``s = (1 - eta_t) s + eta_t s_batch``, and the parameters are their
        M-step.  A subclass gives the parameters to start from
        (``_stream_start``), the statistics of parameters (``_moments_of``),
        the batch's statistics and log-likelihood (``_batch_moments``), the
        blend (``_blend_moments``) and the fitted attributes of statistics
        (``_store_moments``).
        """
        params = self._stream_start(data, first)
        state = None if first else getattr(self, "_stream_state", None)
        if state is None:
            step, moments = 0, self._moments_of(params)
        else:
            step = state["step"]
            moments = {name: torch.as_tensor(value, device=data.device)
                       for name, value in state["moments"].items()}
        batch, log_lik = self._batch_moments(params, data)
        moments = self._blend_moments(moments, batch, step_size(step))
        self._store_moments(moments, data)
        lower_bound = float(log_lik) / data.total_weight
        self.converged_ = False
        self.n_iter_ = step + 1
        self.lower_bound_ = lower_bound
        self.lower_bounds_ = ([] if step == 0 else self.lower_bounds_) + [lower_bound]
        self._stream_state = {
            "step": step + 1,
            "moments": {name: value.cpu().numpy() for name, value in moments.items()},
        }

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

    # The public inference methods: a Dask collection is answered lazily,
    # block by block (``_lazy``), anything else in memory (``_*_in_memory``).

    @torch_work
    def score_samples(self, X):
        """Log-density of each row of X, in the units of the data.

        Parameters
        ----------
        X : {array-like, DataFrame, Dask array, Dask DataFrame} of shape \
                (n_samples, n_features)
            The rows to score; missing entries are NaN (or
            ``missing_values``), and a row is scored on its observed entries.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
            The log-density of each row under the model, in nats: of its
            continuous entries, plus the log-probabilities of its discrete
            ones. A lazy Dask array, chunked like X's rows, when X is a Dask
            collection.
        """
        if is_dask_collection(X):
            return self._lazy("score_samples", X)
        return self._score_samples_in_memory(X)

    @torch_work
    def predict_proba(self, X):
        """Posterior probability of each component for each row of X.

        Parameters
        ----------
        X : {array-like, DataFrame, Dask array, Dask DataFrame} of shape \
                (n_samples, n_features)
            The rows, with missing entries as in :meth:`score_samples`.

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
            The responsibilities given each row's observed entries; each row
            sums to one. A lazy Dask array when X is a Dask collection.
        """
        if is_dask_collection(X):
            return self._lazy("predict_proba", X)
        return self._predict_proba_in_memory(X)

    @torch_work
    def predict(self, X):
        """The most probable component of each row of X.

        Parameters
        ----------
        X : {array-like, DataFrame, Dask array, Dask DataFrame} of shape \
                (n_samples, n_features)
            The rows, with missing entries as in :meth:`score_samples`.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Component labels; a lazy Dask array when X is a Dask collection.
        """
        if is_dask_collection(X):
            return self._lazy("predict", X)
        return self._predict_in_memory(X)

    def _predict_in_memory(self, X):
        return self._predict_proba_in_memory(X).argmax(axis=1)

    def _inference_device(self):
        """The fitted device, or the CPU where it is gone.

        A model fitted on CUDA and unpickled on a machine without CUDA runs
        on the CPU: its fitted attributes are numpy arrays.
        """
        cuda = torch.device(self.device).type == "cuda"
        if cuda and not torch.cuda.is_available():
            warnings.warn(
                f"This {type(self).__name__} was fitted with device={self.device!r}, "
                "which is not available here; it runs on the CPU. Set "
                "device='cpu' to silence this warning.",
                UserWarning,
                stacklevel=3,
            )
            return torch.device("cpu")
        return resolve_device(self.device)

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
