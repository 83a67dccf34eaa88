"""Gaussian mixture model fitted by EM over sufficient statistics, in torch.

The estimator composes the engine of ``skgen.mixture._engine``: a Gaussian family
(which turns a chunk of rows into log-densities and statistics, and statistics
into parameters) and a source of row chunks.  Each EM iteration is one
streaming pass; sample weights multiply the responsibilities, which is all
weighted EM needs; memory stays bounded by the chunk size, taken from
``sklearn.get_config()["working_memory"]``.

Precision: rows are taken relative to the data's weighted mean.  Each pass
uses the expanded (one-GEMM) form of the Gaussian only while its rounding
loss is bounded below 1e-4 relative, and the whitened form, as robust as
scikit-learn's, otherwise.  A chunk's arithmetic runs in the input's dtype;
the chunks' statistics are added into float64 totals, and the M-step and all
parameters are float64 until they are stored in the input's dtype.
"""

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from skgen.mixture._base import (
    BaseMixture,
    FitData,
    restored_on_failure,
    weighted_sum,
)
from skgen.mixture._engine import conditional
from skgen.mixture._engine.families import (
    WhitenedGaussianFamily,
    gaussian_family,
    row_width,
)
from skgen.mixture._engine.gaussian_params import (
    ILL_DEFINED_COVARIANCE,
    checked_inits,
    draw_samples,
    fitted_arrays,
    n_free_parameters,
    parameters_from_arrays,
    precision_cholesky,
)
from skgen.mixture._engine.init import initial_parameters
from skgen.mixture._engine.passes import (
    em_pass,
    em_pass_with_gaps,
    log_prob_chunks,
    normalise_,
    squared_distance_sum,
)
from skgen.mixture._engine.sources import TensorSource
from skgen.mixture._engine.stepwise import blend_statistics, with_ridge
from skgen.preprocessing._table_input import check_numbers_only
from skgen.utils._dask import is_dask_collection
from skgen.utils._missing import check_empty_rows, check_gaps, nan_marked
from skgen.utils._threads import torch_work
from skgen.utils._torch import as_tensor, resolve_device

__all__ = ["GaussianMixture"]

_QUADRATIC = ("full", "tied")

class GaussianMixture(BaseMixture):
    """Gaussian mixture model, a faster drop-in for scikit-learn's.

    Same parameters, attributes, methods, warnings and errors as
    :class:`sklearn.mixture.GaussianMixture`, with EM written in torch over
    sufficient statistics gathered chunk by chunk.  Beyond scikit-learn it
    takes ``sample_weight`` in :meth:`fit`, draws :meth:`sample` with a
    ``random_state`` given at call time, and runs on ``device="cuda"``.  It
    also fits a Dask array or DataFrame with exact EM, one pass over the
    blocks per iteration on the Dask cluster, and scores one lazily.

    Read more in the :ref:`User Guide <mixture>`, and in :ref:`scale` for
    Dask.

    Parameters
    ----------
    n_components : int, default=1
        The number of mixture components.

    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        The type of covariance parameters: each component has its own full
        covariance matrix ('full'), all components share one ('tied'), each
        has its own diagonal covariance ('diag') or its own single variance
        ('spherical').

    tol : float, default=1e-3
        The convergence threshold. EM iterations stop when the change of the
        lower bound (the mean log-likelihood) is below this threshold.

    reg_covar : float, default=1e-6
        Non-negative regularization added to the diagonal of covariance, so
        that the covariance matrices are all positive.

    max_iter : int, default=100
        The number of EM iterations to perform.

    n_init : int, default=1
        The number of initializations to perform. The best result is kept.

    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, \
            default='kmeans'
        The method used to initialize the weights, the means and the
        precisions: responsibilities from :class:`~sklearn.cluster.KMeans`,
        centres from :func:`~sklearn.cluster.kmeans_plusplus`, random
        responsibilities, or random data points as centres.

    weights_init : array-like of shape (n_components,), default=None
        The user-provided initial weights.

    means_init : array-like of shape (n_components, n_features), default=None
        The user-provided initial means.

    precisions_init : array-like, default=None
        The user-provided initial precisions (inverse covariances), of shape
        (n_components,) for 'spherical', (n_features, n_features) for 'tied',
        (n_components, n_features) for 'diag' and
        (n_components, n_features, n_features) for 'full'.

    random_state : int, RandomState instance or None, default=None
        Controls the initialization and, unless :meth:`sample` is given its
        own, the samples drawn.

    warm_start : bool, default=False
        If True, each call to :meth:`fit` starts from the solution of the
        previous one, and ``n_init`` is ignored.

    verbose : int, default=0
        Enable verbose output: 1 prints the initialization and each
        iteration; 2 adds the time and the change of the lower bound.

    verbose_interval : int, default=10
        Number of iterations between two verbose messages.

    device : str or torch.device, default='cpu'
        Where the EM runs: ``'cpu'`` or ``'cuda'``. Fitted attributes are
        numpy arrays whatever the device.

    missing_values : float, int, np.nan or None, default=np.nan
        The marker of a missing entry, as in scikit-learn's imputers: every
        method takes rows with such entries (see the User Guide). With a
        marker other than NaN, a NaN in X raises. Dask collections take NaN
        only.

    empty_rows : {'error', 'prior'}, default='error'
        What :meth:`score_samples`, :meth:`score`, :meth:`predict` and
        :meth:`predict_proba` answer for a row with no observed entry. 'error'
        raises a ValueError naming the rows: the density of nothing observed
        is 1 whatever the row, so its score would rank it as the most normal
        row of all. 'prior' gives such a row a log-density of 0 (log 1) and
        the mixing weights as its component probabilities. :meth:`impute`
        and :meth:`sample_conditional` always condition an empty row on
        nothing, which gives the mixture's own law.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        The weights of the mixture components.

    means_ : ndarray of shape (n_components, n_features)
        The mean of each mixture component.

    covariances_ : ndarray
        The covariance of each mixture component; its shape depends on
        ``covariance_type`` as for ``precisions_init``.

    precisions_ : ndarray
        The precision matrices (inverse covariances), shaped like
        ``covariances_``.

    precisions_cholesky_ : ndarray
        The upper-triangular Cholesky factors ``U`` of the precisions,
        ``precisions_ = U @ U.T``, shaped like ``covariances_``.

    converged_ : bool
        True when the best initialization converged.

    n_iter_ : int
        Number of EM iterations of the best initialization.

    lower_bound_ : float
        Lower bound (mean log-likelihood of the training data) of the best
        initialization.

    lower_bounds_ : list of float
        The lower bound at each iteration of the best initialization.

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when X has string column
        names.

    See Also
    --------
    sklearn.mixture.GaussianMixture : The reference implementation.

    Examples
    --------
    >>> import numpy as np
    >>> from skgen import GaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
    >>> gm.means_[np.argsort(gm.means_[:, 0])]
    array([[ 1.,  2.],
           [10.,  2.]])
    >>> X_new, labels = gm.sample(4, random_state=0)
    >>> X_new.shape
    (4, 2)
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions({"full", "tied", "diag", "spherical"})],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_params": [
            StrOptions({"kmeans", "random", "random_from_data", "k-means++"})
        ],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "missing_values": [Real, None],
        "empty_rows": [StrOptions({"error", "prior"})],
    }

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        device="cpu",
        missing_values=np.nan,
        empty_rows="error",
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.device = device
        self.missing_values = missing_values
        self.empty_rows = empty_rows

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # fit, score_samples, predict and predict_proba take missing entries.
        tags.input_tags.allow_nan = True
        return tags

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    @torch_work
    def fit(self, X, y=None, sample_weight=None):
        """Estimate the model parameters with the EM algorithm.

        The model is fitted ``n_init`` times and keeps the parameters with the
        largest lower bound. Each run iterates E- and M-steps until the lower
        bound changes by less than ``tol``, or ``max_iter`` is reached, in
        which case a :class:`~sklearn.exceptions.ConvergenceWarning` is
        raised.

        Parameters
        ----------
        X : {array-like, Dask array, Dask DataFrame} of shape \
                (n_samples, n_features)
            Training data, float64 or float32 (other types become float64).
            Missing entries may be NaN: EM then runs over the observed
            entries of each row (see the User Guide); a row or a column with
            no observed entry raises.
            A Dask collection is fitted block by block on its cluster, without
            collecting it (see :ref:`scale`), gaps included.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like or Dask array of shape (n_samples,), \
                default=None
            Non-negative weights of the samples. An integer weight gives the
            same fit as repeating the row that many times.

        Returns
        -------
        self : object
            The fitted mixture.
        """
        self._fit(X, sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    @torch_work
    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit the model and predict the component of each sample of X.

        Parameters
        ----------
        X : {array-like, Dask array, Dask DataFrame} of shape \
                (n_samples, n_features)
            Training data.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like or Dask array of shape (n_samples,), \
                default=None
            Non-negative weights of the samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Component labels; a lazy Dask array when X is a Dask collection.
        """
        data = self._fit(X, sample_weight)
        if is_dask_collection(X) or data.gaps:
            return self.predict(X)
        return self._argmax_components(data.source.X)

    @_fit_context(prefer_skip_nested_validation=True)
    @torch_work
    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the model with one batch of samples, by stepwise (online) EM.

        For data that arrive in batches and cannot be read twice. The model
        keeps running sufficient statistics per sample, ``s``: the
        component weights, and the weighted first and second moments of each
        component. For the ``t``-th batch (``t = 0, 1, ...``) it computes the
        batch's statistics ``s_batch`` under the current parameters (one
        E-step), sets ``s = (1 - eta_t) s + eta_t s_batch`` with the step
        size ``eta_t = (t + 2) ** -0.6``, and the parameters from ``s`` (an
        M-step). This is the stepwise EM of Cappé and Moulines (2009) with
        mini-batches; the exponent in (0.5, 1] makes the steps small enough
        for the estimate to settle and large enough for it to forget the
        start.

        The first call on an unfitted model initialises it from its batch as
        :meth:`fit` does (``init_params``, ``random_state`` and the explicit
        initial parameters apply); that batch needs at least
        ``n_components`` samples. A call on a model fitted by :meth:`fit`
        continues from its parameters, with ``t`` starting again at 0.
        :meth:`fit` discards the running statistics.

        When the data can be read again, prefer :meth:`fit`, which runs exact
        EM to convergence, on a Dask collection if they do not fit in
        memory; a single pass of stepwise EM approaches, but does not reach,
        that fit's likelihood.

        Parameters
        ----------
        X : {array-like, Dask array, Dask DataFrame} of shape \
                (n_samples, n_features)
            One batch, which may have missing entries (NaN) as in
            :meth:`fit`. The number of features (and their names) must stay
            the same from batch to batch. The blocks of a Dask collection
            are taken as successive batches, computed one at a time.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like or Dask array of shape (n_samples,), \
                default=None
            Non-negative weights of the batch's samples; within a batch an
            integer weight equals repeating the sample.

        Returns
        -------
        self : object
            The updated mixture. ``n_iter_`` counts the batches since the
            model was initialised or fitted, ``lower_bound_`` is the mean
            log-likelihood of the last batch under the parameters before its
            update (a score on data not yet seen), ``lower_bounds_`` those of
            every batch, and ``converged_`` is False.
        """
        if is_dask_collection(X):
            from skgen.mixture._dask import partial_fit_blocks

            partial_fit_blocks(self, X, sample_weight)
            return self
        with restored_on_failure(self):
            first = not hasattr(self, "converged_")
            data = self._prepare_fit(X, sample_weight, reset=first)
            self._stepwise_update(data, first)
        return self

    # Stepwise EM's hooks (see BaseMixture._stepwise_update): the running
    # statistics are the weights, means and covariances without the ridge.

    def _stream_start(self, data, first):
        if first:
            return self._initial_parameters(data, check_random_state(self.random_state))
        return self._parameters_from_attributes(data.device)

    def _moments_of(self, params):
        return {"weights": params["weights"], "means": params["means"],
                "covariances": with_ridge(params["covariances"],
                                          self.covariance_type, -self.reg_covar)}

    def _batch_moments(self, params, data):
        # The batch's own M-step, without the ridge, which is added once to
        # the blended statistics.
        torch_dtype = torch.float32 if data.dtype == np.float32 else torch.float64
        family, frame, stats, log_lik = self._pass(params, data, 0.0, torch_dtype)
        if not bool(torch.isfinite(log_lik)):
            raise ValueError(
                "The log-likelihood of the batch is not finite. "
                + ILL_DEFINED_COVARIANCE
            )
        nk, means, covariances = family.m_step(frame, stats, np.finfo(data.dtype).eps)
        moments = {"weights": nk / nk.sum(), "means": means, "covariances": covariances}
        return moments, log_lik

    def _blend_moments(self, moments, batch, eta):
        return blend_statistics(self.covariance_type, moments, batch, eta)

    def _store_moments(self, moments, data):
        covariances = with_ridge(moments["covariances"], self.covariance_type,
                                 self.reg_covar)
        params = self._parameters(moments["weights"], moments["means"],
                                  covariances, data.dtype)
        self._set_attributes(params, data.dtype)

    def _fit(self, X, sample_weight):
        """Run EM on X; return the prepared data (see :class:`FitData`).

        The fitted attributes are set only once every initialisation has run,
        so a fit that fails part-way (a lost Dask worker, ill-defined
        covariances) leaves an unfitted estimator unfitted.
        """
        with restored_on_failure(self):
            return self._run_em(X, sample_weight)

    def _run_em(self, X, sample_weight):
        random_state = check_random_state(self.random_state)
        do_init = not (self.warm_start and hasattr(self, "converged_"))
        if is_dask_collection(X):
            from skgen.mixture._dask import prepare_fit

            data = prepare_fit(self, X, sample_weight, random_state, do_init)
        else:
            data = self._prepare_fit(X, sample_weight)
        dtype = data.dtype
        eps = np.finfo(dtype).eps
        torch_dtype = torch.float32 if dtype == np.float32 else torch.float64
        n_init = self.n_init if do_init else 1

        def e_step(params):
            family, frame, stats, log_lik = self._pass(
                params, data, self.reg_covar, torch_dtype
            )
            if not bool(torch.isfinite(log_lik)):
                raise ValueError(
                    "The log-likelihood of the training data is not finite. "
                    + ILL_DEFINED_COVARIANCE
                )
            return (family, frame, stats), float(log_lik) / data.total_weight

        def m_step(state):
            family, frame, stats = state
            nk, means, covariances = family.m_step(frame, stats, eps)
            return self._parameters(nk / nk.sum(), means, covariances, dtype)

        if do_init:
            starts = (self._initial_parameters(data, random_state)
                      for _ in range(n_init))
            lower_bound = -np.inf
        else:
            starts = [self._parameters_from_attributes(data.device)]
            lower_bound = self.lower_bound_
        run = self._em_from_starts(e_step, m_step, starts, lower_bound=lower_bound)
        self._set_attributes(run[0], dtype)
        self._store_em_run(run)
        self._stream_state = None
        return data

    def _prepare_fit(self, X, sample_weight, reset=True, check_features=True):
        """Validate in-memory data and gather what EM needs (:class:`FitData`).

        ``reset=False`` validates a later batch of :meth:`partial_fit`
        against the model: it needs one row of positive weight, not one per
        component, and no initial parameters.  ``check_features=False`` skips
        the checks of the feature count and names, for a block of a Dask
        collection that was checked whole.
        """
        options = {
            "dtype": [np.float64, np.float32],
            "ensure_min_samples": 2 if reset else 1,
        }
        # Missing entries (NaN) are gaps, in every batch and block.
        options["ensure_all_finite"] = "allow-nan"
        if check_features:
            X = validate_data(self, self._nan_marked(X), reset=reset, **options)
        else:
            X = check_array(X, **options)
        n_samples, n_features = X.shape
        inits = (None, None, None)
        if reset:
            self._check_n_samples(n_samples)
            inits = self._checked_inits(n_features)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
            self._check_weight_counts(
                int(np.count_nonzero(sample_weight < 0)),
                int(np.count_nonzero(sample_weight > 0)),
                self.n_components if reset else 1,
            )
        device = resolve_device(self.device)
        missing = np.isnan(X)
        if missing.any():
            return self._prepare_gaps(X, sample_weight, missing, inits, device)
        X_tensor = as_tensor(X, device)
        w_tensor = None if sample_weight is None else as_tensor(sample_weight, device)
        source = self._source(X_tensor, w_tensor)
        # Rows and means are taken relative to the data's weighted mean.
        total_weight, first = weighted_sum(X_tensor, w_tensor)
        shift = first / total_weight
        spread = float(squared_distance_sum(X_tensor, w_tensor, shift) / total_weight)
        return FitData(
            source=source, dtype=X.dtype, device=device, shift=shift, spread=spread,
            total_weight=float(total_weight), inits=inits,
            init_rows=(X, source, sample_weight, float(total_weight)),
        )

    def _prepare_gaps(self, X, sample_weight, missing, inits, device):
        """:class:`FitData` of data with missing entries.

        The passes split the rows with and without gaps (see
        :func:`~skgen.mixture._engine.passes.em_pass_with_gaps`).  The
        initialisation draws from the rows with each gap filled by its
        column's (weighted) mean.
        """
        check_gaps(missing, "the mixture")
        weights = np.ones(X.shape[0]) if sample_weight is None else sample_weight
        weights = weights.astype(np.float64)
        observed = ~missing
        column_means = np.where(observed, X, 0.0).T @ weights / (observed.T @ weights)
        w_tensor = None if sample_weight is None else as_tensor(sample_weight, device)
        source = self._source(as_tensor(X, device), w_tensor)
        filled = np.where(missing, column_means.astype(X.dtype), X)
        init_source = self._source(as_tensor(filled, device), w_tensor)
        total_weight = float(weights.sum())
        shift = torch.as_tensor(column_means, dtype=torch.float64, device=device)
        return FitData(
            source=source, dtype=X.dtype, device=device, shift=shift,
            spread=math.inf, total_weight=total_weight, inits=inits,
            init_rows=(filled, init_source, sample_weight, total_weight),
            gaps=True,
        )

    def _pass(self, params, data, reg_covar, torch_dtype):
        """One E-step over ``data`` under ``params``: family, frame, statistics.

        Returns ``(family, frame, stats, log_lik)``.  Data with missing
        entries take the whitened form, whose statistics take their rows'
        expected moments (see :func:`~skgen.mixture._engine.passes.em_pass_with_gaps`).
        """
        if data.gaps:
            family = WhitenedGaussianFamily(self.covariance_type, reg_covar)
            frame = family.frame(params, data.shift, torch_dtype)
            stats, log_lik = data.source.map_reduce(
                em_pass_with_gaps, family, frame, self._snapshot(params)
            )
        else:
            family = gaussian_family(
                self.covariance_type, reg_covar, params, data.shift, data.spread,
                torch_dtype,
            )
            frame = family.frame(params, data.shift, torch_dtype)
            stats, log_lik = data.source.map_reduce(em_pass, family, frame)
        return family, frame, stats, log_lik

    def _snapshot(self, params):
        """An unfitted copy holding ``params`` as its fitted attributes."""
        snapshot = GaussianMixture(
            self.n_components, covariance_type=self.covariance_type
        )
        snapshot._set_attributes(params, np.float64)
        return snapshot

    def _check_n_samples(self, n_samples):
        if n_samples < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components "
                f"but got n_components = {self.n_components}, "
                f"n_samples = {n_samples}"
            )

    def _check_weight_counts(self, n_negative, n_positive, needed):
        if n_negative:
            raise ValueError("sample_weight must be non-negative.")
        if n_positive == 0 and needed == 1:
            raise ValueError(
                "Every sample_weight of this batch is zero: it carries no "
                "information. Skip the batch, or give it positive weights."
            )
        if n_positive < needed:
            raise ValueError(
                "Expected at least n_components samples with a positive "
                f"sample_weight but got n_components = {self.n_components} "
                f"and {n_positive} positive weights."
            )

    def _source(self, X_tensor, w_tensor=None):
        width = row_width(self.covariance_type, self.n_components, X_tensor.shape[1])
        return TensorSource(X_tensor, w_tensor, row_width=width)

    def _parameters(self, weights, means, covariances, dtype):
        """The parameter dict, with the Cholesky factor of the precisions."""
        prec_chol = precision_cholesky(covariances, self.covariance_type, dtype)
        return {"weights": weights, "means": means,
                "covariances": covariances, "prec_chol": prec_chol}

    def _checked_inits(self, n_features):
        """Validated copies of the user's initial parameters (never stored)."""
        return checked_inits(self.weights_init, self.means_init, self.precisions_init,
                             self.covariance_type, self.n_components, n_features)

    def _initial_parameters(self, data, random_state):
        """Initial parameters, drawn in the same order as scikit-learn's."""
        return initial_parameters(data, self.init_params, self.covariance_type,
                                  self.reg_covar, self.n_components, random_state)

    def _validated(self, X):
        """X validated against the fit: a float array, NaN where missing."""
        check_is_fitted(self)
        return validate_data(
            self, self._nan_marked(X), dtype=[np.float64, np.float32], reset=False,
            ensure_all_finite="allow-nan",
        )

    def _answer(self, X, complete, with_gaps):
        """``complete(tensor)`` for rows without NaN, else ``with_gaps(X)``.

        Rows with missing entries are answered from their observed entries
        by ``skgen.mixture._engine.conditional``; a row with none follows
        ``empty_rows``.
        """
        missing = np.isnan(X)
        if missing.any():
            check_empty_rows(missing, self.empty_rows)
            return with_gaps(X)
        return complete(as_tensor(X, self._inference_device()))

    def _score_samples_array(self, X):
        return self._answer(
            X, self._score_samples_tensor,
            lambda X: conditional.score_samples(self, X).astype(X.dtype),
        )

    def _predict_proba_array(self, X):
        return self._answer(
            X, self._predict_proba_tensor,
            lambda X: conditional.predict_proba(self, X).astype(X.dtype),
        )

    def _predict_array(self, X):
        return self._answer(
            X, self._argmax_components,
            lambda X: conditional.predict_proba(self, X).argmax(axis=1),
        )

    def _lazy(self, method, X):
        """``method`` applied lazily to each block of the Dask collection X."""
        from skgen.mixture._dask import map_blocks

        check_is_fitted(self)
        return map_blocks(self, method, X)

    def _log_prob_chunks_tensor(self, X, func):
        params = self._parameters_from_attributes(X.device)
        return log_prob_chunks(self.covariance_type, params, self._source(X), func)

    def _argmax_components(self, X_tensor):
        labels = np.empty(X_tensor.shape[0], dtype=np.int64)

        def store(rows, log_prob):
            labels[rows] = log_prob.argmax(0).cpu().numpy()

        self._log_prob_chunks_tensor(X_tensor, store)
        return labels

    def _score_samples_tensor(self, X_tensor):
        out = np.empty(X_tensor.shape[0], dtype=_numpy_dtype(X_tensor))

        def store(rows, log_prob):
            out[rows] = normalise_(log_prob)[0].cpu().numpy()

        self._log_prob_chunks_tensor(X_tensor, store)
        return out

    def _predict_proba_tensor(self, X_tensor):
        shape = (X_tensor.shape[0], self.n_components)
        out = np.empty(shape, dtype=_numpy_dtype(X_tensor))

        def store(rows, log_prob):
            out[rows] = normalise_(log_prob)[1].T.cpu().numpy()

        self._log_prob_chunks_tensor(X_tensor, store)
        return out

    # ------------------------------------------------------------ inference

    def _score_samples_in_memory(self, X):
        return self._score_samples_array(self._validated(X))

    def _predict_proba_in_memory(self, X):
        return self._predict_proba_array(self._validated(X))

    def _predict_in_memory(self, X):
        return self._predict_array(self._validated(X))

    @torch_work
    def sample(self, n_samples=1, *, random_state=None):
        """Generate random samples from the fitted mixture.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.

        random_state : int, RandomState instance or None, default=None
            Randomness of this call. With None the estimator's
            ``random_state`` is used, as in scikit-learn: an integer then
            gives the same samples at every call.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The samples, grouped by component; a numpy array even for a
            model fitted on Dask.

        y : ndarray of shape (n_samples,)
            The component of each sample.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r}. The sampling "
                "requires at least one sample (an integer >= 1)."
            )
        rng = check_random_state(
            self.random_state if random_state is None else random_state
        )
        return draw_samples(self.weights_, self.means_, self.covariances_,
                            self.covariance_type, n_samples, rng)

    def _sample_dask_blocks(self, sizes, seeds):
        """:func:`~skgen.mixture.sample_dask`'s blocks, one per size and seed."""
        from skgen.mixture._dask import gaussian_sample_blocks

        return gaussian_sample_blocks(self, sizes, seeds)

    @torch_work
    def impute(self, X):
        """Fill the missing entries of X with their conditional mean.

        ``E[x_miss | x_obs] = sum_k p(k | x_obs) E_k[x_miss | x_obs]``, the
        imputation that minimises the expected squared error under the
        mixture, exact for every covariance type.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with NaN where an entry is unknown.

        Returns
        -------
        X_filled : ndarray of shape (n_samples, n_features)
            A float64 copy of X whose NaN are replaced by their conditional
            mean; observed entries are unchanged. A row with no observed
            entry gets the mixture's mean.

        Examples
        --------
        >>> import numpy as np
        >>> from skgen import GaussianMixture
        >>> rng = np.random.default_rng(0)
        >>> X = rng.multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]], size=500)
        >>> gmm = GaussianMixture(random_state=0).fit(X)
        >>> gmm.impute([[2.0, np.nan], [np.nan, -1.0]]).round(2)
        array([[ 2.  ,  1.81],
               [-0.89, -1.  ]])
        """
        return conditional.conditional_mean(self, self._validated(X))

    @torch_work
    def sample_conditional(self, X, n_samples=1, *, random_state=None):
        """Draw the missing entries of each row from their exact conditional.

        Each draw takes a component from ``p(k | x_obs)``, then the missing
        entries from that component's Gaussian conditional: exact draws from
        ``p(x_miss | x_obs)``. Fitting on ``[X, y]`` and leaving ``y`` to
        draw gives class-conditional generation the other way round.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Rows with NaN where an entry is to be drawn.

        n_samples : int, default=1
            Number of draws per row.

        random_state : int, RandomState instance or None, default=None
            Randomness of this call; with None the estimator's
            ``random_state`` is used, as in :meth:`sample`.

        Returns
        -------
        X_drawn : ndarray of shape (n_samples, n_rows, n_features)
            ``X_drawn[i]`` is X, in float64, with its NaN replaced by the
            i-th draw; observed entries are unchanged.

        Examples
        --------
        >>> import numpy as np
        >>> from skgen import GaussianMixture
        >>> rng = np.random.default_rng(0)
        >>> X = rng.multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]], size=500)
        >>> gmm = GaussianMixture(random_state=0).fit(X)
        >>> draws = gmm.sample_conditional([[2.0, np.nan]], n_samples=1000,
        ...                                random_state=0)
        >>> draws.shape
        (1000, 1, 2)
        >>> print(f"{draws[:, 0, 1].mean():.1f}")
        1.8
        """
        # Passed on as given: the function draws its generator from it (and
        # from fresh entropy for None, never from numpy's global state).
        rng = self.random_state if random_state is None else random_state
        return conditional.sample_conditional(
            self, self._validated(X), n_samples, random_state=rng
        )

    def _nan_marked(self, X):
        """X with its ``missing_values`` entries as NaN (see ``nan_marked``)."""
        check_numbers_only(X, type(self).__name__)
        return nan_marked(X, self.missing_values)

    # -------------------------------------------------- model selection

    def _n_parameters(self):
        """Number of free parameters of the model."""
        return n_free_parameters(self.covariance_type, *self.means_.shape)

    # --------------------------------------------------- state handling

    def _set_attributes(self, params, dtype):
        for name, value in fitted_arrays(params, self.covariance_type, dtype).items():
            setattr(self, name, value)

    def _parameters_from_attributes(self, device):
        return parameters_from_arrays(
            self.weights_, self.means_, self.covariances_,
            self.precisions_cholesky_, device,
        )


def _numpy_dtype(tensor):
    return np.float32 if tensor.dtype == torch.float32 else np.float64


