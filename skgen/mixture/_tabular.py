"""A mixture model for mixed-type tables, fitted by EM on skgen's engine."""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from scipy.special import roots_hermitenorm
from sklearn.base import BaseEstimator, DensityMixin, _fit_context
from sklearn.cluster import kmeans_plusplus
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import pairwise_distances_argmin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_n_features,
    _check_sample_weight,
    check_array,
    check_is_fitted,
)

from skgen.mixture._base import weighted_order
from skgen.mixture._em import (
    CategoricalFamily,
    ExpandedGaussianFamily,
    IntervalGaussianFamily,
    MaskedDiagonalGaussianFamily,
    TensorSource,
    em_pass,
    gaussian_family,
    normalise_,
    product_family,
    stats_of_responsibilities,
)
from skgen.mixture._split import held_out, selected
from skgen.preprocessing import TableEncoder
from skgen.preprocessing._table import adopt_encoder
from skgen.preprocessing._table_input import check_known_categories, check_table
from skgen.utils._dask import is_dask_collection, num_samples
from skgen.utils._missing import (
    check_empty_rows,
    fill_missing,
    is_nan_marker,
    nan_marked,
)
from skgen.utils._threads import map_chunks, torch_work
from skgen.utils._torch import as_tensor, resolve_device

__all__ = ["TabularMixture"]

# Candidates of n_components="auto": powers of two, each tried while the
# validation likelihood still rises (see _select_n_components).
_AUTO_CANDIDATES = tuple(2**i for i in range(11))
# Gauss-Hermite nodes of the components' means in the data's units (impute).
_QUADRATURE_NODES = 64
# The candidates of n_components="auto" are fitted on about this many rows
# at most (a hash-chosen share of the rows not held out).
_SELECTION_ROWS = 50_000
# Rows of training weight per component below which a candidate is not tried.
_ROWS_PER_COMPONENT = 8


class TabularMixture(DensityMixin, BaseEstimator):
    """Mixture model for tables of numbers, integers, booleans and categories.

    Each component treats the columns as independent: a normal for each
    numeric column, after a per-column map to normal scores, and a
    categorical distribution for each categorical column.  The mixture
    models the dependence between columns.  It is fitted by EM in closed form
    over sufficient statistics (sums of the numeric scores, their squares
    and counts of each category), on the same chunked engine as
    :class:`GaussianMixture`, so that hundreds of components stay cheap.

    :meth:`score_samples` is a log-density in the units of the data: nats
    for the continuous columns (the log-Jacobian of the column maps is
    added), plus the log-probabilities of the integer and categorical
    values.  :meth:`sample` returns a table like the training one: a
    DataFrame with the same columns, dtypes and category sets when fitted on
    one, integers within the observed range.

    Read more in the :ref:`User Guide <tabular>`.

    Parameters
    ----------
    n_components : int or 'auto', default='auto'
        Number of components. ``'auto'`` holds out ``validation_fraction``
        of the distinct rows and fits 1, 2, 4, ... components on the rest
        (at most one per eight rows of training weight) while the held-out
        log-likelihood stays within one standard error of the best so far;
        the largest of these is refitted on all rows, EM starting from its
        fit. Differences within the standard error are noise of the split,
        and more components keep more of the table's detail in the samples.
        The validation scores are in ``validation_scores_``.

    categorical_features : 'from_dtype', None or array-like, default='from_dtype'
        Which columns are categorical, as in
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`:
        ``'from_dtype'`` takes the DataFrame columns of categorical, string,
        object or boolean dtype; or indices, names or a boolean mask.
        Integer columns are otherwise discrete numbers: their log-probability
        is the density of the column's normal score over the value's unit
        interval, taken at its midpoint. See :class:`~skgen.preprocessing.TableEncoder`.

    numeric_transform : {'quantile-normal', 'standard'}, default='quantile-normal'
        Map of the numeric columns before the mixture (see
        :class:`~skgen.preprocessing.TableEncoder`).

    prior_strength : float, default=0.01
        Pseudo-rows of the data's overall distribution added to each
        component at every M-step: a component's category probabilities are
        drawn towards the data's shares, and its variances towards the
        normal scores' unit variance. This keeps a component of one or a few
        rows from collapsing onto them, and gives every category seen some
        probability in every component. Larger values smooth more: a
        variance ``v`` of ``n`` rows becomes ``(n v + a) / (n + a)``. 0 gives
        maximum likelihood.

    reg_covar : float, default=1e-4
        Added to each variance of the normal scores.

    tol : float, default=1e-3
        EM stops when the mean log-likelihood changes by less than this.

    max_iter : int, default=100
        Largest number of EM iterations of each fit.

    handle_unknown : {'error', 'floor'}, default='error'
        A category not seen in :meth:`fit` when scoring: raise a
        ``ValueError``, or give it the probability ``1 / (W + 1)`` with
        ``W`` the training weight, whatever the component.

    validation_fraction : float, default=0.1
        Share of the distinct rows held out by ``n_components='auto'``.

    random_state : int, RandomState instance or None, default=None
        Controls the dequantization of integer columns, the validation
        split, the initialisation and, unless :meth:`sample` is given its
        own, the samples.

    verbose : int, default=0
        1 prints the validation score of each candidate number of
        components.

    device : str or torch.device, default='cpu'
        Where EM runs.

    missing_values : float, int, str, np.nan or None, default=np.nan
        The marker of a missing entry besides NaN, None and ``pd.NA``, as in
        scikit-learn's imputers (a number, or a string such as ``"?"`` for
        categorical columns). With a marker other than NaN, a NaN in X
        raises.

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
    n_components_ : int
        Number of components of the fitted mixture.

    weights_ : ndarray of shape (`n_components_`,)
        Component weights.

    means_ : ndarray of shape (`n_components_`, n_numeric)
        Means of the numeric columns' normal scores per component.

    variances_ : ndarray of shape (`n_components_`, n_numeric)
        Their variances.

    category_probas_ : list of ndarray of shape (`n_components_`, n_levels)
        Per categorical column, each component's level probabilities, over
        ``encoder_.categories_``.

    encoder_ : TableEncoder
        The fitted encoder of the table's columns.

    validation_scores_ : dict
        With ``n_components='auto'``: mean validation log-likelihood of each
        candidate number of components.

    converged_ : bool
        Whether the final EM converged.

    n_iter_ : int
        EM iterations of the final fit.

    lower_bound_ : float
        Mean log-likelihood of the encoded training rows at the end of EM
        (in normal-score units, without the Jacobian).

    n_features_in_ : int
        Number of columns seen in :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in :meth:`fit`, when X is a DataFrame with string
        column names.

    See Also
    --------
    GaussianMixture : A mixture of full-covariance Gaussians for numbers.
    skgen.preprocessing.TableEncoder : The column maps used here.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skgen import TabularMixture
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({
    ...     "height": rng.normal(170, 10, 300),
    ...     "children": rng.poisson(1.5, 300),
    ...     "city": pd.Categorical(rng.choice(["Oslo", "Rome"], 300)),
    ... })
    >>> model = TabularMixture(random_state=0).fit(df)
    >>> synthetic = model.sample(5, random_state=0)
    >>> list(synthetic.dtypes.astype(str))
    ['float64', 'int64', 'category']
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"),
                         StrOptions({"auto"})],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
        "numeric_transform": [StrOptions({"quantile-normal", "standard"})],
        "prior_strength": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "handle_unknown": [StrOptions({"error", "floor"})],
        "validation_fraction": [Interval(Real, 0.0, 1.0, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": [str, torch.device],
        "missing_values": [Real, str, None],
        "empty_rows": [StrOptions({"error", "prior"})],
    }

    def __init__(
        self,
        n_components="auto",
        *,
        categorical_features="from_dtype",
        numeric_transform="quantile-normal",
        prior_strength=0.01,
        reg_covar=1e-4,
        tol=1e-3,
        max_iter=100,
        handle_unknown="error",
        validation_fraction=0.1,
        random_state=None,
        verbose=0,
        device="cpu",
        missing_values=np.nan,
        empty_rows="error",
    ):
        self.n_components = n_components
        self.categorical_features = categorical_features
        self.numeric_transform = numeric_transform
        self.prior_strength = prior_strength
        self.reg_covar = reg_covar
        self.tol = tol
        self.max_iter = max_iter
        self.handle_unknown = handle_unknown
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.verbose = verbose
        self.device = device
        self.missing_values = missing_values
        self.empty_rows = empty_rows

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # fit and the scoring methods take missing entries, and categories.
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        return tags

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    @torch_work
    def fit(self, X, y=None, sample_weight=None):
        """Fit the mixture to a table.

        Parameters
        ----------
        X : DataFrame, array-like or Dask DataFrame of shape \
                (n_samples, n_features)
            The table, with missing entries as NaN, None, ``pd.NA`` or
            ``missing_values``. A Dask collection is fitted block by block
            on its cluster (see the User Guide).

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; an integer weight fits as that many
            copies of the row (integer columns aside, whose dequantization
            draws differ).

        Returns
        -------
        self : TabularMixture
            The fitted mixture.
        """
        random_state = check_random_state(self.random_state)
        encoder = TableEncoder(
            self.categorical_features,
            numeric_transform=self.numeric_transform,
            handle_unknown="ignore",
            allow_missing=True,
            random_state=random_state.randint(np.iinfo(np.int32).max),
        )
        if is_dask_collection(X):
            return self._fit_dask(X, sample_weight, encoder, random_state)
        X = nan_marked(X, self.missing_values)
        Z = encoder.fit_transform_dequantized(X, sample_weight)
        _check_observed_rows(encoder.missing_mask(X))
        weights = _check_sample_weight(
            sample_weight, Z, dtype=np.float64, ensure_non_negative=True
        )
        total_weight = float(weights.sum())
        if np.count_nonzero(weights) < 2:
            raise ValueError(
                "TabularMixture needs at least 2 rows of positive weight; got "
                f"{np.count_nonzero(weights)}."
            )
        adopt_encoder(self, encoder)
        device = resolve_device(self.device)
        layout = _Layout(encoder, _layout_sums(Z, weights, encoder.n_numeric_))
        keep = np.flatnonzero(weights > 0)
        init_rows = (Z[keep], weights[keep])

        if self.n_components == "auto":
            # The split goes by the rows' values, not their positions, so
            # that copies of a row and a weighted row fall on the same side.
            encoded = encoder.transform(X)
            hash_params = self._hash(random_state, encoded.shape[1], weights.sum())
            held = held_out(encoded, hash_params)
            train_weights = np.where(selected(encoded, hash_params), weights, 0.0)
            valid = np.flatnonzero(held & (weights > 0))
            if valid.size == 0 or np.count_nonzero(train_weights) < 2:
                # too few distinct rows to hold some out
                train_weights, valid = weights, keep
            S_valid = as_tensor(layout.scoring_matrix(encoder, X, encoded)[valid],
                                device)
            w_valid = weights[valid]

            def validation_score(params, reference):
                log_lik = self._log_likelihood(layout, params, S_valid)
                ref = (np.zeros_like(log_lik) if reference is None
                       else self._log_likelihood(layout, reference, S_valid))
                return _paired_sums(log_lik, ref, w_valid)

            train = np.flatnonzero(train_weights > 0)
            train_source = _row_source(Z[train], train_weights[train], device)
            n_components, self.validation_scores_, start = self._select_n_components(
                layout, train_source, float(train_weights.sum()), train.size,
                (Z[train], train_weights[train]), validation_score, random_state,
            )
        else:
            n_components = self.n_components
            if n_components > np.count_nonzero(weights):
                raise ValueError(
                    f"n_components={n_components} must be <= the number of rows "
                    f"of positive weight ({np.count_nonzero(weights)})."
                )
            self.validation_scores_, start = {}, None
        source = _row_source(Z[keep], weights[keep], device)
        return self._finish_fit(
            layout, source, total_weight, n_components, init_rows, random_state,
            start,
        )

    def _finish_fit(self, layout, source, total_weight, n_components, init_rows,
                    random_state, start):
        """The final EM on all rows, then the fitted attributes."""
        params, lower_bound, n_iter, converged = self._fit_em(
            layout, source, total_weight, n_components, init_rows, random_state,
            start,
        )
        if not converged:
            warnings.warn(
                f"EM did not converge in max_iter={self.max_iter} iterations. "
                "Increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self._set_attributes(layout, params)
        self.converged_, self.n_iter_ = converged, n_iter
        self.lower_bound_ = lower_bound
        self._total_weight = total_weight
        return self

    def _fit_dask(self, X, sample_weight, encoder, random_state):
        """Fit on a Dask DataFrame or array (see ``skgen.mixture._dask_tables``)."""
        from skgen.mixture import _dask_tables as tables

        if sample_weight is not None:
            raise ValueError(
                "sample_weight is not supported with a Dask table yet: fit on "
                "the rows repeated, or compute the table into memory."
            )
        if not is_nan_marker(self.missing_values):
            raise ValueError(
                f"missing_values={self.missing_values!r}: on a Dask collection "
                "missing entries are marked by NaN (or None) only."
            )
        if resolve_device(self.device).type != "cpu":
            raise ValueError(
                f"device={self.device!r} applies to data in memory; with a Dask "
                "table EM runs on the workers' CPUs: use device='cpu'."
            )
        blocks = tables.TableBlocks(X)
        # The blocks' dequantization draws follow the encoder's seed, as the
        # in-memory fit's do.
        seed = encoder.random_state
        sample, n_total = blocks.sample(tables._ENCODER_SAMPLE_ROWS, seed)
        Z_sample = encoder.fit_transform_dequantized(sample)
        # Levels outside the sample are levels too: complete them.
        categorical = encoder._categorical
        if categorical and len(sample) < n_total:
            every = blocks.levels(categorical)
            columns = encoder._columns(sample, reset=False)
            for i, j in enumerate(categorical):
                encoder.categories_[i] = encoder._levels(
                    columns[j], np.asarray(list(every[j]), dtype=object)
                )
            Z_sample = encoder._encode(
                columns, encoder._labels(sample, len(columns)),
                dequantize=check_random_state(seed),
            )
        adopt_encoder(self, encoder)
        if self.n_components == "auto":
            hash_params = self._hash(random_state, Z_sample.shape[1], n_total)
        else:
            hash_params = None
        sums = blocks.map_reduce(_block_sums, encoder, seed, hash_params)
        _check_dask_sums(sums, self.n_components)
        layout = _Layout(encoder, sums)
        init_rows = (Z_sample, np.ones(Z_sample.shape[0]))
        source = tables.TableSource(blocks, encoder, seed)
        start, n_components = None, self.n_components
        self.validation_scores_ = {}
        if self.n_components == "auto":
            train = tables.TableSource(blocks, encoder, seed, hash_params, "train")
            chosen = selected(encoder.transform(sample), hash_params)
            train_init = (Z_sample[chosen], np.ones(int(chosen.sum())))
            if sums["valid_weight"] == 0 or train_init[0].shape[0] < 2:
                # too few distinct rows to hold some out: validate on all
                train, train_init = source, init_rows
                sums["train_weight"] = sums["weight"]
                hash_params = (hash_params[0], hash_params[1], 2.0, 1.0)

            def validation_score(params, reference):
                return blocks.map_reduce(
                    _validation_block, self, layout, params, reference, hash_params
                )

            n_components, self.validation_scores_, start = self._select_n_components(
                layout, train, sums["train_weight"], int(sums["train_weight"]),
                train_init, validation_score, random_state,
            )
        return self._finish_fit(layout, source, sums["weight"], n_components,
                                init_rows, random_state, start)

    def _select_n_components(self, layout, source, total_weight, n_rows,
                             init_rows, validation_score, rng):
        """The number of components by the held-out log-likelihood.

        Candidates double while they score within one standard error of the
        best so far (the error of the mean paired difference over the
        held-out rows); the largest of them is chosen.  Differences below
        that are noise of the split, and more components keep more of the
        table's detail.  ``validation_score(params, reference)`` returns the
        held-out sums of ``_paired_sums``.  ``source`` holds the training
        rows (of total weight ``total_weight``, ``n_rows`` of them);
        ``init_rows`` the rows the init draws from.
        """
        largest = max(1, min(n_rows, total_weight / _ROWS_PER_COMPONENT))
        scores, best, chosen = {}, None, None
        fitted = {}
        for k in _AUTO_CANDIDATES:
            if k > largest and k > 1:
                break
            params, _, n_iter, _ = self._fit_em(
                layout, source, total_weight, k, init_rows, rng
            )
            reference = None if best is None else fitted[best]
            sums = validation_score(params, reference)
            weight = float(sums["weight"])
            scores[k] = float(sums["new"]) / weight
            if self.verbose:
                print(f"n_components={k}: validation log-likelihood {scores[k]:.4f}"
                      f" ({n_iter} EM iterations)")
            fitted[k] = params
            if best is None or scores[k] > scores[best]:
                best, chosen = k, k
                continue
            difference = (float(sums["new"]) - float(sums["ref"])) / weight
            variance = max(float(sums["squares"]) / weight - difference**2, 0.0)
            if difference < -np.sqrt(variance / weight):
                break
            chosen = k
        return chosen, scores, fitted[chosen]

    def _fit_em(self, layout, source, total_weight, n_components, init_rows, rng,
                params=None):
        """EM with ``n_components`` over the encoded rows of ``source``.

        ``params`` are where EM starts: the chosen candidate's, when
        ``n_components='auto'`` refits on all rows; otherwise the init's,
        drawn from ``init_rows`` (encoded rows and their weights).
        """
        device = _source_device(source)
        source = _resized(source, n_components)
        if params is None:
            params = self._initial_parameters(
                layout, *init_rows, n_components, device, rng
            )
        eps = np.finfo(np.float64).eps
        lower_bound = -np.inf
        converged, n_iter = False, 0
        while n_iter < self.max_iter:
            n_iter += 1
            family = layout.family(params, self.reg_covar, self.prior_strength)
            frame = family.frame(params, layout.shifts(device), torch.float64)
            stats, log_lik = source.map_reduce(em_pass, family, frame)
            if not bool(torch.isfinite(log_lik)):
                raise ValueError(
                    "The log-likelihood of the training rows is not finite: the "
                    "table has near-duplicate numeric values that a component "
                    "collapsed onto. Increase reg_covar or prior_strength."
                )
            previous, lower_bound = lower_bound, float(log_lik) / total_weight
            params = layout.parameters(family.m_step(frame, stats, eps),
                                       self.prior_strength, self.reg_covar)
            if abs(lower_bound - previous) < self.tol:
                converged = True
                break
        return params, lower_bound, n_iter, converged

    def _initial_parameters(self, layout, Z, weights, n_components, device, rng):
        """One M-step from the nearest of k-means++ centres.

        The centres are drawn over the rows in lexicographic order with
        their weights (see ``weighted_order``), so that weights and copies
        of rows draw the same centres.
        """
        Z_rows = Z
        # A missing score starts at 0, the middle of the normal scores.
        Z = np.nan_to_num(Z, nan=0.0)
        order, ordered_weights = weighted_order(Z, weights)
        _, chosen = kmeans_plusplus(
            Z[order], n_components, random_state=rng, sample_weight=ordered_weights
        )
        centres = Z[order][chosen]
        labels = pairwise_distances_argmin(Z, centres)
        source = TensorSource(as_tensor(np.ascontiguousarray(Z_rows), device),
                              as_tensor(weights, device))
        resp = torch.nn.functional.one_hot(
            torch.as_tensor(labels, device=device), n_components
        ).T.to(torch.float64)
        family = layout.family(None, self.reg_covar, self.prior_strength)
        frame = family.frame(
            layout.neutral_params(n_components, device), layout.shifts(device),
            torch.float64,
        )
        stats = stats_of_responsibilities(family, frame, source, resp)
        eps = np.finfo(np.float64).eps
        return layout.parameters(family.m_step(frame, stats, eps),
                                 self.prior_strength, self.reg_covar)

    # -------------------------------------------------------------- scoring

    def _normalised_chunks(self, layout, params, S):
        """``(log p(x), responsibilities (k, n))`` of each chunk, in order.

        ``S`` is a tensor of rows in the layout's scoring form (see
        ``_Layout.scoring_matrix``).
        """
        gaps = bool(torch.isnan(S[:, : layout.n_continuous]).any())
        family = layout.scoring_family(params, gaps)
        frame = family.frame(
            layout.scoring_params(params), layout.scoring_shifts(S.device), S.dtype
        )
        width = S.shape[1] * 2 + 3 * params["weights"].shape[0]

        def one_chunk(chunk):
            return normalise_(family.log_prob(frame, family.whiten(frame, chunk[1])))

        return map_chunks(one_chunk, TensorSource(S, None, row_width=width), S.device)

    def _log_likelihood(self, layout, params, S):
        """Per-row log-likelihood of rows in scoring form, as numpy."""
        chunks = self._normalised_chunks(layout, params, S)
        return torch.cat([log_norm for log_norm, _ in chunks]).cpu().numpy()

    def _encoded(self, X):
        """Rows of X in scoring form, each row's unknown-category count, and X.

        X comes back with its ``missing_values`` entries as NaN.
        """
        check_is_fitted(self)
        X = check_table(self, nan_marked(X, self.missing_values))
        check_empty_rows(self.encoder_.missing_mask(X), self.empty_rows)
        S = self._layout.scoring_matrix(self.encoder_, X, self.encoder_.transform(X))
        if self.handle_unknown == "error":
            unknown = check_known_categories(
                self, X, "Fit on data that has them, or set handle_unknown='floor' "
                "to give them a floor probability.")
        else:
            unknown = self.encoder_.unknown_mask(X)
        return S, unknown.sum(1), X

    @torch_work
    def score_samples(self, X):
        """Log-density of each row, in the units of the data.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, `n_features_in_`)

        Returns
        -------
        log_density : ndarray of shape (n_samples,)
            Nats for the continuous columns plus the log-probabilities of
            the integer and categorical values.
        """
        if is_dask_collection(X):
            return self._lazy("score_samples", X)
        S, n_unknown, X = self._encoded(X)
        device = self._device()
        params = self._params(device)
        log_lik = self._log_likelihood(self._layout, params, as_tensor(S, device))
        log_floor = -math.log(self._total_weight + 1.0)
        return log_lik + self.encoder_.log_jacobian(X) + n_unknown * log_floor

    @torch_work
    def score(self, X, y=None):
        """Mean log-density of the rows of X (see :meth:`score_samples`).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, `n_features_in_`)

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        log_density : float
        """
        return float(np.mean(self.score_samples(X)))

    @torch_work
    def predict_proba(self, X):
        """Posterior probability of each component for each row.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, `n_features_in_`)

        Returns
        -------
        resp : ndarray of shape (n_samples, `n_components_`)
        """
        if is_dask_collection(X):
            return self._lazy("predict_proba", X)
        S, _, _ = self._encoded(X)
        device = self._device()
        chunks = self._normalised_chunks(
            self._layout, self._params(device), as_tensor(S, device)
        )
        return torch.cat([resp.T for _, resp in chunks]).cpu().numpy()

    def _posterior_or_prior(self, X):
        """Component probabilities of each row, X marked, its missing mask.

        A row's probabilities are given its observed entries; a row with
        none gets the mixing weights.  X comes back with its
        ``missing_values`` entries as NaN.
        """
        check_is_fitted(self)
        if not hasattr(X, "iloc"):
            X = check_array(X, dtype=None, ensure_all_finite=False)
        _check_n_features(self, X, reset=False)
        marked = nan_marked(X, self.missing_values)
        missing = self.encoder_.missing_mask(marked)
        empty = missing.all(axis=1)
        resp = np.tile(self.weights_, (len(empty), 1))
        if not empty.all():
            rows = X.iloc[~empty] if hasattr(X, "iloc") else X[~empty]
            resp[~empty] = self.predict_proba(rows)
        return resp, marked, missing

    @torch_work
    def predict(self, X):
        """The most probable component of each row.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, `n_features_in_`)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        if is_dask_collection(X):
            return self._lazy("predict", X)
        return self.predict_proba(X).argmax(1)

    @torch_work
    def sample(self, n_samples=1, *, random_state=None):
        """Draw rows from the fitted mixture.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows.

        random_state : int, RandomState instance or None, default=None
            Randomness of this call; None uses the estimator's
            ``random_state``.

        Returns
        -------
        X : DataFrame or ndarray of shape (n_samples, `n_features_in_`)
            A DataFrame with the training columns, dtypes and category sets
            when fitted on one; the rows are in random order (``predict``
            gives their components).
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
        weights = self.weights_ / self.weights_.sum()
        components = rng.choice(weights.size, size=n_samples, p=weights)
        return self.encoder_.inverse_transform(self._draw(components, rng))

    def _draw(self, components, rng):
        """Encoded rows drawn from the given component of each row."""
        n_samples = components.size
        numeric = self.means_[components] + np.sqrt(
            self.variances_[components]
        ) * rng.standard_normal((n_samples, self.means_.shape[1]))
        blocks = [numeric]
        for probas in self.category_probas_:
            blocks.append(np.eye(probas.shape[1])[
                _inverse_cdf(probas[components], rng)
            ])
        return np.hstack(blocks)

    def _sample_dask_blocks(self, sizes, seeds):
        """:func:`~skgen.mixture.sample_dask`'s blocks, one per size and seed."""
        from skgen.mixture._dask import tabular_sample_blocks

        return tabular_sample_blocks(self, sizes, seeds)

    @torch_work
    def sample_conditional(self, X, n_samples=1, *, random_state=None):
        """Draw the missing entries of each row from their exact conditional.

        Each draw takes a component from ``p(k | observed entries)``, then
        every missing entry from that component, whose columns are
        independent: exact draws from ``p(missing | observed)``. A row with
        no observed entry is drawn from the mixture itself.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_rows, `n_features_in_`)
            Rows with missing entries (NaN, None or ``pd.NA``) to draw.

        n_samples : int, default=1
            Number of draws per row.

        random_state : int, RandomState instance or None, default=None
            Randomness of this call; None uses the estimator's
            ``random_state``.

        Returns
        -------
        X_drawn : DataFrame or ndarray
            For a DataFrame, the ``n_samples`` filled copies of X stacked
            under a first index level ``"draw"`` (``X_drawn.xs(0,
            level="draw")`` is the first); for an array, an array of shape
            ``(n_samples, n_rows, n_features_in_)``. Observed entries are
            unchanged.
        """
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r}; give an integer "
                ">= 1."
            )
        resp, X, missing = self._posterior_or_prior(X)
        rng = check_random_state(
            self.random_state if random_state is None else random_state
        )
        draws = [
            self.encoder_.inverse_transform(self._draw(_inverse_cdf(resp, rng), rng))
            for _ in range(n_samples)
        ]
        filled = [fill_missing(X, draw, missing) for draw in draws]
        if hasattr(X, "iloc"):
            import pandas as pd

            return pd.concat(filled, keys=range(n_samples), names=["draw"])
        return np.stack(filled)

    @torch_work
    def impute(self, X):
        """Fill the missing entries of X with their conditional expectation.

        A number gets its conditional mean ``sum_k p(k | observed) E_k[x]``
        in the data's units (each component's mean by Gauss-Hermite
        quadrature through the column's map), rounded to the nearest value
        the column takes when it is an integer or discrete column; a
        category gets its most probable level given the observed entries.
        A row with no observed entry gets the mixture's own expectation and
        most probable levels.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_rows, `n_features_in_`)
            Rows with missing entries (NaN, None or ``pd.NA``).

        Returns
        -------
        X_filled : DataFrame or ndarray
            A copy of X with its missing entries filled; observed entries are
            unchanged.
        """
        resp, X, missing = self._posterior_or_prior(X)
        encoder = self.encoder_
        blocks = [encoder.numeric_forward(resp @ self._component_numeric_means())]
        for probas in self.category_probas_:
            blocks.append(resp @ probas)  # decoded to the most probable level
        return fill_missing(X, encoder.inverse_transform(np.hstack(blocks)), missing)

    def _component_numeric_means(self):
        """Each component's mean of each numeric column, in the data's units.

        ``E_k[g(z)]``, with ``g`` the decoding of a score as :meth:`sample`
        decodes it, by Gauss-Hermite quadrature.
        """
        nodes, node_weights = roots_hermitenorm(_QUADRATURE_NODES)
        node_weights = node_weights / node_weights.sum()
        k, d = self.means_.shape
        if d == 0:
            return np.zeros((k, 0))
        scores = self.means_[:, None, :] + np.sqrt(self.variances_)[:, None, :] * (
            nodes[None, :, None]
        )
        values = self.encoder_.numeric_inverse(scores.reshape(-1, d))
        return (values.reshape(k, -1, d) * node_weights[None, :, None]).sum(1)

    def _n_parameters(self):
        k = self.weights_.size
        levels = sum(p.shape[1] - 1 for p in self.category_probas_)
        return (k - 1) + 2 * k * self.means_.shape[1] + k * levels

    @torch_work
    def bic(self, X):
        """Bayesian information criterion of the mixture on X (lower is better).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, `n_features_in_`)

        Returns
        -------
        bic : float
        """
        n = num_samples(X)
        return -2 * self.score(X) * n + self._n_parameters() * np.log(n)

    @torch_work
    def aic(self, X):
        """Akaike information criterion of the mixture on X (lower is better).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, `n_features_in_`)

        Returns
        -------
        aic : float
        """
        return -2 * self.score(X) * num_samples(X) + 2 * self._n_parameters()

    # ------------------------------------------------------------ internals

    def _device(self):
        return resolve_device(self.device)

    def _lazy(self, method, X):
        from skgen.mixture._dask_tables import lazy

        check_is_fitted(self)
        return lazy(self, method, X)

    def _hash(self, random_state, width, n_rows):
        """The parameters of the splits' hash (see ``_split.row_hash``).

        ``n_rows`` is the number of rows: the candidates are fitted on at
        most about ``_SELECTION_ROWS`` of those not held out.
        """
        direction = random_state.standard_normal(width)
        fraction = self.validation_fraction
        share = min(1.0, _SELECTION_ROWS / max(n_rows * (1.0 - fraction), 1.0))
        return direction, random_state.uniform(), fraction, share

    def _set_attributes(self, layout, params):
        self._layout = layout
        self.n_components_ = int(params["weights"].shape[0])
        self.weights_ = params["weights"].cpu().numpy()
        gaussian = layout.gaussian_params(params)
        if gaussian is None:
            self.means_ = np.zeros((self.n_components_, 0))
            self.variances_ = np.zeros((self.n_components_, 0))
        else:
            self.means_ = gaussian["means"].cpu().numpy()
            self.variances_ = gaussian["covariances"].cpu().numpy()
        log_proba = layout.categorical_log_proba(params)
        self.category_probas_ = []
        start = 0
        for size in layout.block_sizes:
            block = np.exp(log_proba[:, start : start + size].cpu().numpy())
            self.category_probas_.append(block)
            start += size

    def _params(self, device):
        """Engine parameters from the fitted attributes."""
        return self._layout.from_attributes(
            self.weights_, self.means_, self.variances_, self.category_probas_,
            device,
        )


class _Layout:
    """How the encoded columns split into the product's parts.

    The numeric columns (the first ``n_numeric``) form a diagonal Gaussian
    part on normal scores; the one-hot blocks a categorical part whose
    prior is the data's level shares.
    """

    def __init__(self, encoder, sums):
        self.n_numeric = encoder.n_numeric_
        self.n_integer = int(np.isin(encoder.kinds_, ["integer", "discrete"]).sum())
        self.n_continuous = self.n_numeric - self.n_integer
        self.block_sizes = [c.size for c in encoder.categories_]
        self.n_levels = sum(self.block_sizes)
        total = float(sums["weight"])
        self.prior = torch.as_tensor(
            np.asarray(sums["levels"]) / total, dtype=torch.float64
        )
        self.gaps = bool(sums["gaps"])
        # Mean squared norm of the scores: bounds the expanded form's loss.
        self.spread = float(sums["squares"]) / total

    def family(self, params, reg_covar, prior_strength=0.0):
        parts = []
        numeric = slice(0, self.n_numeric)
        if self.n_numeric:
            if self.gaps:
                gaussian = MaskedDiagonalGaussianFamily(reg_covar)
            elif params is None:  # the initialisation: statistics only
                gaussian = ExpandedGaussianFamily("diag", reg_covar)
            else:
                gaussian = gaussian_family(
                    "diag", reg_covar, self.gaussian_params(params),
                    self._zero(params), self.spread, torch.float64,
                )
            parts.append((gaussian, numeric))
        if self.n_levels:
            categorical = CategoricalFamily(
                self.block_sizes, self.prior.to(self._device(params)), prior_strength
            )
            parts.append((categorical, slice(self.n_numeric, None)))
        return product_family(parts)

    # The scoring form: integer columns are scored as interval masses.

    def scoring_matrix(self, encoder, X, Z):
        """``[continuous scores, integer lower edges, upper edges, one-hot]``."""
        lower, upper = encoder.integer_intervals(X)
        c = self.n_continuous
        return np.hstack([Z[:, :c], lower, upper, Z[:, self.n_numeric :]])

    def scoring_family(self, params, gaps):
        parts = []
        c, i = self.n_continuous, self.n_integer
        if c and gaps:
            gaussian = MaskedDiagonalGaussianFamily(0.0)
        elif c:
            gaussian = gaussian_family(
                "diag", 0.0, self._continuous(params),
                self._zero(params)[:c], self.spread, torch.float64,
            )
        if c:
            parts.append((gaussian, slice(0, c)))
        if i:
            parts.append((IntervalGaussianFamily(), slice(c, c + 2 * i)))
        if self.n_levels:
            parts.append((CategoricalFamily(self.block_sizes, None, 0.0),
                          slice(c + 2 * i, None)))
        return product_family(parts)

    def _continuous(self, params):
        gaussian, c = params["parts"][0], self.n_continuous
        return {
            "weights": gaussian["weights"],
            "means": gaussian["means"][:, :c],
            "covariances": gaussian["covariances"][:, :c],
            "prec_chol": gaussian["prec_chol"][:, :c],
        }

    def scoring_params(self, params):
        parts = []
        if self.n_continuous:
            parts.append(self._continuous(params))
        if self.n_integer:
            gaussian, c = params["parts"][0], self.n_continuous
            parts.append({"means": gaussian["means"][:, c:],
                          "covariances": gaussian["covariances"][:, c:]})
        if self.n_levels:
            parts.append(params["parts"][-1])
        return {"weights": params["weights"], "parts": tuple(parts)}

    def scoring_shifts(self, device):
        shifts = []
        if self.n_continuous:
            shifts.append(torch.zeros(self.n_continuous, dtype=torch.float64,
                                      device=device))
        shifts += [None] * (bool(self.n_integer) + bool(self.n_levels))
        return tuple(shifts)

    def _device(self, params):
        return "cpu" if params is None else params["weights"].device

    def _zero(self, params):
        return torch.zeros(self.n_numeric, dtype=torch.float64,
                           device=params["weights"].device)

    def shifts(self, device):
        shifts = []
        if self.n_numeric:
            shifts.append(torch.zeros(self.n_numeric, dtype=torch.float64,
                                      device=device))
        if self.n_levels:
            shifts.append(None)
        return tuple(shifts)

    def gaussian_params(self, params):
        return params["parts"][0] if self.n_numeric else None

    def categorical_log_proba(self, params):
        if not self.n_levels:
            return torch.zeros((params["weights"].shape[0], 0), dtype=torch.float64)
        return params["parts"][-1]["log_proba"]

    def neutral_params(self, k, device):
        """Parameters whose frame only sets the centre (for the init)."""
        opts = {"dtype": torch.float64, "device": device}
        parts = []
        if self.n_numeric:
            parts.append({
                "weights": torch.ones(k, **opts),
                "means": torch.zeros((k, self.n_numeric), **opts),
                "prec_chol": torch.ones((k, self.n_numeric), **opts),
            })
        if self.n_levels:
            parts.append({"log_proba": torch.zeros((k, self.n_levels), **opts)})
        return {"weights": torch.full((k,), 1.0 / k, **opts), "parts": tuple(parts)}

    def parameters(self, m_step_result, prior_strength, reg_covar):
        """Engine parameters from a product M-step, with the priors applied.

        The Gaussian part's variances are drawn towards 1 (the normal
        scores' overall variance) by ``prior_strength`` pseudo-rows; the
        categorical part's M-step has added the same pseudo-rows, spread as
        the data's level shares.
        """
        nk, results = m_step_result
        weights = nk / nk.sum()
        parts = []
        index = 0
        if self.n_numeric:
            counts, means, variances = results[index]
            index += 1
            # per column when the scores have gaps, per component otherwise
            n = counts if counts.ndim == 2 else nk[:, None]
            variances = (n * (variances - reg_covar) + prior_strength) / (
                n + prior_strength
            ) + reg_covar
            parts.append({
                "weights": torch.ones_like(nk),
                "means": means,
                "covariances": variances,
                "prec_chol": 1.0 / torch.sqrt(variances),
            })
        if self.n_levels:
            parts.append(results[index])
        return {"weights": weights, "parts": tuple(parts)}

    def from_attributes(self, weights, means, variances, category_probas, device):
        def t(a):
            return torch.as_tensor(np.asarray(a, dtype=np.float64), device=device)

        parts = []
        if self.n_numeric:
            v = t(variances)
            parts.append({"weights": torch.ones_like(t(weights)), "means": t(means),
                          "covariances": v, "prec_chol": 1.0 / torch.sqrt(v)})
        if self.n_levels:
            log_proba = torch.log(torch.cat([t(p) for p in category_probas], dim=1))
            parts.append({"log_proba": log_proba})
        return {"weights": t(weights), "parts": tuple(parts)}


def _layout_sums(Z, weights, n_numeric):
    """What ``_Layout`` reads from the encoded rows: sums, so blocks add up."""
    numeric = Z[:, :n_numeric]
    squares = np.nan_to_num(numeric, nan=0.0) ** 2
    return {
        "weight": float(weights.sum()),
        "levels": weights @ Z[:, n_numeric:],
        "squares": float(weights @ squares.sum(1)),
        "gaps": int(np.isnan(numeric).any()),
    }


def _block_sums(encoder, seed, hash_params, block, index):
    """A Dask block's share of the layout's sums, and of the split's weights."""
    from skgen.mixture._dask_tables import encoded_block

    Z = encoded_block(encoder, seed, block, index)
    _check_observed_rows(encoder.missing_mask(block))
    sums = _layout_sums(Z, np.ones(Z.shape[0]), encoder.n_numeric_)
    if hash_params is not None:
        encoded = encoder.transform(block)
        sums["valid_weight"] = float(held_out(encoded, hash_params).sum())
        sums["train_weight"] = float(selected(encoded, hash_params).sum())
    return sums


def _check_dask_sums(sums, n_components):
    if sums["weight"] < 2:
        raise ValueError(
            f"TabularMixture needs at least 2 rows; the Dask table has "
            f"{int(sums['weight'])}."
        )
    if n_components != "auto" and n_components > sums["weight"]:
        raise ValueError(
            f"n_components={n_components} must be <= the number of rows "
            f"({int(sums['weight'])})."
        )


def _paired_sums(log_lik, reference, weights):
    """Held-out sums that compare a candidate with a reference fit."""
    difference = log_lik - reference
    return {
        "weight": float(weights.sum()),
        "new": float(weights @ log_lik),
        "ref": float(weights @ reference),
        "squares": float(weights @ difference**2),
    }


def _validation_block(estimator, layout, params, reference, hash_params, block,
                      index):
    """A block's share of ``_paired_sums`` over its held-out rows."""
    encoded = estimator.encoder_.transform(block)
    held = held_out(encoded, hash_params)
    S = as_tensor(layout.scoring_matrix(estimator.encoder_, block, encoded)[held],
                  "cpu")
    log_lik = estimator._log_likelihood(layout, params, S)
    ref = (np.zeros_like(log_lik) if reference is None
           else estimator._log_likelihood(layout, reference, S))
    return _paired_sums(log_lik, ref, np.ones(log_lik.shape[0]))


def _check_observed_rows(missing):
    """A row with no observed entry carries nothing: it is an error."""
    empty = np.flatnonzero(missing.all(axis=1))
    if empty.size:
        raise ValueError(
            f"{empty.size} row(s) of X have no observed entry, e.g. row "
            f"{empty[0]}: they carry no information. Drop them."
        )


def _inverse_cdf(probas, rng):
    """One index per row of ``probas`` (n, m), drawn by its probabilities."""
    cumulative = np.cumsum(probas, axis=1)
    u = rng.uniform(size=(probas.shape[0], 1)) * cumulative[:, -1:]
    return np.minimum((cumulative < u).sum(1), probas.shape[1] - 1)


def _row_source(Z, weights, device):
    """The in-memory source of encoded rows and their weights."""
    return TensorSource(as_tensor(np.ascontiguousarray(Z), device),
                        as_tensor(np.ascontiguousarray(weights), device),
                        row_width=3 * Z.shape[1] + 3)


def _resized(source, n_components):
    """The source with chunks sized for a pass of ``n_components``."""
    width = 3 * source.X.shape[1] + 3 * n_components
    if isinstance(source, TensorSource):
        return TensorSource(source.X, source.sample_weight, row_width=width)
    return source.resized(width)


def _source_device(source):
    X = getattr(source, "X", None)
    return X.device if isinstance(X, torch.Tensor) else torch.device("cpu")
