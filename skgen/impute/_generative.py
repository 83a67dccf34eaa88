"""Imputation by conditioning a fitted density model on the observed entries."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import MissingIndicator
from sklearn.utils import get_tags
from sklearn.utils._missing import is_pandas_na, is_scalar_nan
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    MissingValues,
    StrOptions,
)
from sklearn.utils.validation import (
    FLOAT_DTYPES,
    _check_feature_names,
    _check_feature_names_in,
    _check_n_features,
    check_is_fitted,
    validate_data,
)

from skgen.mixture._engine import conditional as _conditional
from skgen.preprocessing._table_input import is_dataframe, is_table
from skgen.utils._random import check_generator

__all__ = ["GenerativeImputer"]

# The default model: a GaussianMixture with its number of components and
# covariance type chosen over this grid; its steps widen so that large tables
# can reach the tens of components their structure may need.
_GRID_COMPONENTS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64)
_GRID_COVARIANCES = ("full", "diag")
# Hidden entries that the choice needs (else hidden again with fresh masks,
# up to _MAX_MASKS times), and the fewest it trusts (else BIC).
_CHECK_ENTRIES = 1000
_MAX_MASKS = 5
_MIN_CHECK_ENTRIES = 10
# The search fits candidates on at most this many rows, with at most this
# many EM iterations: it ranks them, and only the kept ones are fitted on X.
_SEARCH_ROWS = 2000
_SEARCH_ITER = 30
# More components are tried until the error has not fallen this many times.
_PATIENCE = 2


def _is_gaussian_mixture(estimator):
    return hasattr(estimator, "covariance_type")


def _conditions(estimator):
    """Whether the imputer can condition this (unfitted) model."""
    return _is_gaussian_mixture(estimator) or all(
        callable(getattr(estimator, name, None))
        for name in ("impute", "sample_conditional")
    )


def _candidates(n_samples, n_features, by_bic):
    """(covariance_type, n_components) of the grid, fewest components first.

    A full covariance needs more rows than features per component (else it
    is singular, and its likelihood unbounded), a diagonal one two rows per
    component. Chosen by BIC, without hidden entries to expose a nearly
    singular fit, a full covariance needs as many rows per component as it
    has parameters.
    """
    for covariance_type in _GRID_COVARIANCES:
        if covariance_type != "full":
            per_component = 2
        elif by_bic:
            per_component = n_features * (n_features + 3) // 2 + 1
        else:
            per_component = n_features + 1
        yield covariance_type, [
            k for k in _GRID_COMPONENTS if n_samples >= k * per_component
        ]


def _hidden_entries(observed, share, rng):
    """A mask of observed entries to hide, each with probability ``share``.

    A row keeps at least one observed entry, so that every row still
    conditions the model on something.
    """
    hidden = observed & (rng.random(observed.shape) < share)
    emptied = np.flatnonzero(observed.any(axis=1) & ~(observed & ~hidden).any(axis=1))
    if emptied.size:
        # Give back one hidden entry of each emptied row, drawn at random.
        keys = rng.random((emptied.size, observed.shape[1]))
        keys = np.where(hidden[emptied], keys, -1.0)
        hidden[emptied, keys.argmax(axis=1)] = False
    return hidden


def _polish(model, X, seed):
    """``model`` fitted again on X by EM started from its parameters."""
    from skgen.mixture import GaussianMixture

    return GaussianMixture(
        model.n_components, covariance_type=model.covariance_type,
        weights_init=model.weights_, means_init=model.means_,
        precisions_init=model.precisions_, random_state=seed,
    ).fit(X)


def _ensemble(predictions, target, size):
    """Indices of up to ``size`` candidates whose averaged predictions err least.

    Greedy forward selection: start from the best candidate and add, while
    the error falls, the one that lowers it most.
    """
    def rmse(prediction):
        return float(np.sqrt(np.mean((prediction - target) ** 2)))

    chosen = [int(np.argmin([rmse(p) for p in predictions]))]
    total, best = predictions[chosen[0]].copy(), rmse(predictions[chosen[0]])
    while len(chosen) < size:
        errors = [np.inf if i in chosen else rmse((total + p) / (len(chosen) + 1))
                  for i, p in enumerate(predictions)]
        index = int(np.argmin(errors))
        if errors[index] >= best:
            break
        chosen.append(index)
        total += predictions[index]
        best = errors[index]
    return chosen, best


def _select_mixture(X, seed, selection, holdout, n_fits):
    """The default model: GaussianMixture models fitted on X (NaN marks a gap).

    Returns the fitted mixtures whose conditional laws the imputer averages
    and a dict describing the choice (the ``selection_`` attribute).

    With ``selection="imputation"``, the candidates are judged on a random
    subset of at most ``_SEARCH_ROWS`` rows: a share ``holdout`` of its
    observed entries is hidden (again with fresh masks while fewer than
    ``_CHECK_ENTRIES`` are hidden, at most ``_MAX_MASKS`` masks); every
    candidate is fitted on the rest, with at most ``_SEARCH_ITER`` EM
    iterations, and imputes them. For each covariance type the number of
    components grows until that error has not fallen twice in a row. Up to
    ``n_fits`` candidates whose averaged imputations of the hidden entries
    err least are kept (greedy forward selection) and fitted again on X by
    EM started from their search fits. With too few entries to hide, or
    ``selection="bic"``, the candidate with the lowest BIC, fitted
    ``n_fits`` times on X from different starts (once for one component).
    """
    from skgen.mixture import GaussianMixture

    n_samples = X.shape[0]
    if n_samples < 2:
        raise ValueError(
            "GenerativeImputer needs at least 2 rows with an observed entry to "
            f"fit its mixture; got {n_samples} sample{'' if n_samples == 1 else 's'}."
        )

    def fit(data, covariance_type, n_components, seed, max_iter=100):
        return GaussianMixture(
            n_components, covariance_type=covariance_type, random_state=seed,
            max_iter=max_iter,
        ).fit(data)

    rng = np.random.default_rng(seed)
    masks, search = [], X
    if selection == "imputation":
        if n_samples > _SEARCH_ROWS:
            rows = np.sort(rng.choice(n_samples, _SEARCH_ROWS, replace=False))
            search = X[rows]
        observed = ~np.isnan(search)
        expected = max(holdout * observed.sum(), 1.0)
        n_masks = int(np.clip(np.ceil(_CHECK_ENTRIES / expected), 1, _MAX_MASKS))
        masks = [_hidden_entries(observed, holdout, rng) for _ in range(n_masks)]
        if sum(int(mask.sum()) for mask in masks) < _MIN_CHECK_ENTRIES:
            masks, search = [], X
    by_bic = not masks
    seeds = rng.integers(2**31 - 1, size=len(masks) + n_fits)
    masked = [np.where(mask, np.nan, search) for mask in masks]
    target = np.concatenate([search[mask] for mask in masks]) if masks else None
    best, best_score, failure, scores = None, np.inf, None, {}
    fits, predictions = {}, {}
    for covariance_type, grid in _candidates(search.shape[0], X.shape[1], by_bic):
        type_best, worse = np.inf, 0
        for n_components in grid:
            try:
                with warnings.catch_warnings():
                    # Only the models kept, fitted again below, may warn.
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    if by_bic:
                        models = [fit(X, covariance_type, n_components, seeds[0])]
                    else:
                        models = [
                            fit(data, covariance_type, n_components, s,
                                _SEARCH_ITER)
                            for data, s in zip(masked, seeds, strict=False)
                        ]
            except ValueError as error:
                # Ill-defined covariances: too many components for the rows.
                failure = failure or error
                break
            key = covariance_type, n_components
            # Imputation error rather than a likelihood: BIC and held-out
            # likelihoods reward components collapsed on the values of a
            # discrete column.
            if by_bic:
                score = models[0].bic(X)
            else:
                predictions[key] = np.concatenate([
                    _conditional.conditional_mean(model, data)[mask]
                    for model, data, mask in zip(models, masked, masks, strict=True)
                ])
                score = float(np.sqrt(np.mean((predictions[key] - target) ** 2)))
            fits[key] = models
            scores[key] = score
            if score < best_score:
                best, best_score = key, score
            if score < type_best:
                type_best, worse = score, 0
            else:
                worse += 1
                if worse == _PATIENCE:
                    break
    if best is None:
        raise failure
    covariance_type, n_components = best
    choice = {
        "covariance_type": covariance_type,
        "n_components": n_components,
        "criterion": "bic" if by_bic else "rmse",
        "scores": scores,
    }
    if by_bic:
        # One component's EM does not depend on its start: one fit is enough.
        n_fits = 1 if n_components == 1 else n_fits
        members = fits[best] + [
            fit(X, covariance_type, n_components, s) for s in seeds[1:n_fits]
        ]
    else:
        keys = list(predictions)
        chosen, ensemble_score = _ensemble(
            [predictions[key] for key in keys], target, n_fits)
        members = [
            _polish(fits[keys[index]][0], X, seeds[len(masks) + i])
            for i, index in enumerate(chosen)
        ]
        choice["members"] = [keys[index] for index in chosen]
        choice["ensemble_score"] = ensemble_score
    choice["n_members"] = len(members)
    return members, choice


def _fit_density(estimator, X, missing, default, needed, why, alternative):
    """Fit the density model of the imputer on X, whose gaps are ``missing``.

    This is the one place that decides which rows the model learns from:
    every row with an observed entry for a model that accepts missing
    values (EM over the observed entries, for skgen's mixtures), and the rows
    without any for one that does not, of which it needs ``needed``
    (``why`` says why, ``alternative`` names a model that takes gaps).
    ``default()`` fits the model of ``estimator=None``. X is an array or a
    DataFrame.
    """
    observed = ~missing.all(axis=1)  # rows with nothing observed teach nothing
    X, missing = X[observed], missing[observed]
    if estimator is None:
        return default(X)
    model = clone(estimator)
    if get_tags(model).input_tags.allow_nan:
        return model.fit(X)
    complete = ~missing.any(axis=1)
    n_complete = int(complete.sum())
    if n_complete < needed:
        raise ValueError(
            f"{type(model).__name__} does not accept missing values, so "
            "GenerativeImputer fits it on the rows of X without any, and needs "
            f"at least {needed}{why}; got {n_complete} "
            f"sample{'' if n_complete == 1 else 's'} without missing values "
            f"out of {X.shape[0]}. Use {alternative}, which fits on rows with "
            "gaps."
        )
    return model.fit(X[complete])


def _is_table(X, estimator):
    """Whether X is imputed as a table.

    A table is a DataFrame with a non-numeric or boolean column, or any
    DataFrame for a model that takes categorical columns.
    """
    if is_table(X, "from_dtype"):
        return True
    categorical = estimator is not None and get_tags(estimator).input_tags.categorical
    return is_dataframe(X) and categorical


class GenerativeImputer(TransformerMixin, BaseEstimator):
    """Impute missing values from a density model conditioned on the rest.

    Each row's missing entries are filled from the model's conditional law
    given the row's observed entries: its expectation
    (``strategy="mean"``, the imputation with the least expected squared
    error under the model) or a draw from it (``strategy="sample"``). Draws
    made with different ``random_state`` give multiple imputations, whose
    spread shows the uncertainty that a single filled value hides. For a
    Gaussian mixture, both are exact: the conditional law of the missing
    entries is again a Gaussian mixture, with posterior weights.

    Read more in the :ref:`User Guide <impute>`.

    Parameters
    ----------
    estimator : estimator object, default=None
        The density model, fitted on the standardised columns. A Gaussian
        mixture (:class:`skgen.GaussianMixture` or
        :class:`sklearn.mixture.GaussianMixture`, any covariance type) or a
        model with ``impute`` and ``sample_conditional`` methods. A model
        that accepts missing values (``allow_nan`` tag, as
        :class:`skgen.GaussianMixture`) is fitted on every row; another one
        on the rows without missing values, of which it needs more than
        features.

        On a table (a DataFrame with categorical, string or boolean
        columns, or any DataFrame with a model that takes categorical
        columns, as :class:`skgen.TabularMixture`), the model is fitted on
        the DataFrame as it is, without standardisation; None is then a
        :class:`skgen.TabularMixture` with its defaults.

        None fits :class:`skgen.GaussianMixture` models (EM over the observed
        entries) with full or diagonal covariances and 1 to 64 components
        (1-6, 8, 10, 12, 16, 20, 24, 32, 48, 64; full only with more rows
        than features per component), chosen as ``selection`` says.

    missing_values : int, float or np.nan, default=np.nan
        The placeholder of the missing values; all its occurrences are
        imputed. With a value other than NaN, X must not contain NaN.

    strategy : {"mean", "sample"}, default="mean"
        ``"mean"`` fills with the conditional expectation
        ``E[x_miss | x_obs]``; ``"sample"`` with one draw from the conditional
        law ``p(x_miss | x_obs)``.

    selection : {"imputation", "bic"}, default="imputation"
        How the default model (``estimator=None`` on an array) is chosen.
        ``"imputation"`` judges each candidate by what it is used for: a
        share ``holdout`` of the observed entries of at most 2000 rows
        (drawn with ``random_state``; X itself is not changed) is hidden,
        every candidate is fitted on the rest of those rows (at most 30 EM
        iterations) and imputes them, and the covariance type and number of
        components with the least squared error win (components are added
        until that error has not fallen twice in a row). While fewer than
        1000 entries are hidden, up to five masks are drawn and their errors
        pooled. The winner and the candidates whose averaged imputations of
        the hidden entries err least (see ``n_fits``) are then fitted on X by
        EM started from their search fits. ``"bic"`` fits each candidate on
        X and keeps the one with the lowest Bayesian information criterion:
        the likelihood favours components collapsed on the values of a
        discrete column, which impute badly. With fewer than 10 entries to
        hide, ``"imputation"`` falls back to ``"bic"``. Ignored for a given
        ``estimator`` and on tables.

    holdout : float in (0, 1), default=0.1
        The share of the observed entries hidden to judge the candidates
        with ``selection="imputation"``. A row keeps at least one observed
        entry.

    n_fits : int >= 1, default=3
        The most mixtures whose conditional laws the imputation averages:
        its mean is the average of their conditional means, and a draw
        comes from one of them, picked at random for each row. With
        ``selection="imputation"``, the best candidate, then, while the
        error on the hidden entries falls, the candidate whose addition
        lowers it most (mixtures that err differently average to a smaller
        error); each member adds the time of one fit on X. With
        ``selection="bic"``, the winner fitted ``n_fits`` times from
        different random starts (once for one component). Ignored for a
        given ``estimator`` and on tables.

    random_state : int, RandomState instance, Generator or None, default=None
        Seeds the default model's fit and, with ``strategy="sample"``, the
        draws. It is read at each call of :meth:`transform`: an integer gives
        the same draws at every call, and changing it with ``set_params``
        between calls gives new ones without refitting. A RandomState or
        Generator instance gives new draws at each call. None takes fresh
        entropy from the operating system.

    add_indicator : bool, default=False
        Append the :class:`~sklearn.impute.MissingIndicator` columns of the
        features with missing values during fit to the output.

    keep_empty_features : bool, default=False
        Whether the features that have only missing values during fit are
        kept in the output, filled with 0 as in scikit-learn's imputers. By
        default they are dropped, with a warning at fit.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted density model, over the non-empty features, standardised
        with ``location_`` and ``scale_``; for the default model, the
        first fit of the chosen mixture.

    estimators_ : list of estimator objects
        The fitted models whose conditional laws are averaged to impute:
        ``[estimator_]``, or for the default model its members (up to
        ``n_fits``), the chosen mixture (``estimator_``) first.

    selection_ : dict or None
        The default model's choice: ``"covariance_type"``,
        ``"n_components"``, ``"n_members"`` (the length of
        ``estimators_``), ``"criterion"`` (``"rmse"``, the error on the
        hidden entries in standard deviations of each column, or ``"bic"``)
        and ``"scores"``, that criterion for each (covariance type, number
        of components) fitted; with ``"rmse"``, also ``"members"``, the
        (covariance type, number of components) of each member, and
        ``"ensemble_score"``, the error of their averaged imputations of the
        hidden entries. None for a given ``estimator`` and on tables.

    location_ : ndarray of shape (n_features_out,) or None
        Mean of the observed entries of each non-empty feature; None for a
        table.

    scale_ : ndarray of shape (n_features_out,) or None
        Standard deviation of the observed entries of each non-empty feature
        (1 where it is 0); None for a table.

    indicator_ : :class:`~sklearn.impute.MissingIndicator` or None
        The indicator of missing values, None when ``add_indicator=False``.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when X has feature names
        that are all strings.

    See Also
    --------
    sklearn.impute.SimpleImputer : Fill with a statistic of each column.
    sklearn.impute.IterativeImputer : Regress each feature on the others in
        turn.
    sklearn.impute.KNNImputer : Average the nearest complete neighbours.
    skgen.GaussianMixture : The default density model.

    Notes
    -----
    A row with no observed entry conditions on nothing: it is filled with the
    model's mean, or a draw from the model itself. Multiple imputation with
    ``strategy="sample"`` draws from the fitted model, whose parameters are
    taken as known; with few rows, their uncertainty is not in the spread.

    Examples
    --------
    >>> import numpy as np
    >>> from skgen.impute import GenerativeImputer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]], size=200)
    >>> X_gaps = X.copy()
    >>> X_gaps[:20, 1] = np.nan
    >>> imputer = GenerativeImputer(random_state=0).fit(X_gaps)
    >>> filled = imputer.transform(X_gaps)
    >>> bool(np.isnan(filled).any())
    False
    >>> error = np.abs(filled[:20, 1] - X[:20, 1]).mean()
    >>> naive = np.abs(np.nanmean(X_gaps[:, 1]) - X[:20, 1]).mean()
    >>> bool(error < naive)
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"]), None],
        "missing_values": [MissingValues(numeric_only=True)],
        "strategy": [StrOptions({"mean", "sample"})],
        "selection": [StrOptions({"imputation", "bic"})],
        "holdout": [Interval(Real, 0, 1, closed="neither")],
        "n_fits": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state", np.random.Generator],
        "add_indicator": ["boolean"],
        "keep_empty_features": ["boolean"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        missing_values=np.nan,
        strategy="mean",
        selection="imputation",
        holdout=0.1,
        n_fits=3,
        random_state=None,
        add_indicator=False,
        keep_empty_features=False,
    ):
        self.estimator = estimator
        self.missing_values = missing_values
        self.strategy = strategy
        self.selection = selection
        self.holdout = holdout
        self.n_fits = n_fits
        self.random_state = random_state
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features

    # ------------------------------------------------------------ helpers

    def _nan_marker(self):
        return is_scalar_nan(self.missing_values) or is_pandas_na(self.missing_values)

    def _validate(self, X, reset):
        """X as a float array and its mask of missing entries."""
        nan_marker = self._nan_marker()
        try:
            X = validate_data(
                self,
                X,
                reset=reset,
                dtype=FLOAT_DTYPES,
                ensure_all_finite="allow-nan" if nan_marker else True,
            )
        except ValueError as error:
            if not nan_marker and "NaN" in str(error):
                raise ValueError(
                    f"X contains NaN, but missing_values={self.missing_values!r}: "
                    "the NaN would not be imputed. Set missing_values=np.nan, or "
                    f"encode every missing entry as {self.missing_values!r}."
                ) from error
            raise
        missing = np.isnan(X) if nan_marker else X == self.missing_values
        return X, missing

    def _feature_description(self, mask):
        if hasattr(self, "feature_names_in_"):
            return [str(name) for name in self.feature_names_in_[mask]]
        return [int(index) for index in np.flatnonzero(mask)]

    # ---------------------------------------------------------------- fit

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the density model on X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing entries marked by ``missing_values``.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted imputer.
        """
        if self.estimator is not None and not _conditions(self.estimator):
            raise TypeError(
                "GenerativeImputer needs a model it can condition: a Gaussian "
                "mixture (with a covariance_type) or a model with impute and "
                f"sample_conditional methods; got {self.estimator!r}."
            )
        self._table = _is_table(X, self.estimator)
        if self._table:
            return self._fit_table(X)
        X, missing = self._validate(X, reset=True)
        empty = missing.all(axis=0)
        if empty.all():
            raise ValueError(
                "Every feature of X is missing in every row: there is nothing "
                "to learn an imputation from."
            )
        if empty.any() and not self.keep_empty_features:
            warnings.warn(
                "Skipping features without any observed values: "
                f"{self._feature_description(empty)}. They are dropped from the "
                "output; keep_empty_features=True keeps them, filled with 0.",
                UserWarning,
                stacklevel=3,
            )
        self._empty_features = empty
        data = np.where(missing, np.nan, X)[:, ~empty].astype(np.float64)
        self.location_ = np.nanmean(data, axis=0)
        scale = np.nanstd(data, axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        seed = int(check_generator(self.random_state).integers(2**31 - 1))
        self.selection_ = None

        def default(X):
            members, self.selection_ = _select_mixture(
                X, seed, self.selection, self.holdout, self.n_fits
            )
            return members

        # Fewer complete rows than features leave no full covariance.
        fitted = _fit_density(
            self.estimator, (data - self.location_) / self.scale_,
            np.isnan(data), default,
            needed=data.shape[1] + 1, why=" (one more than the features)",
            alternative="skgen.GaussianMixture",
        )
        self.estimators_ = fitted if isinstance(fitted, list) else [fitted]
        self.estimator_ = self.estimators_[0]
        if self.add_indicator:
            self.indicator_ = MissingIndicator(
                missing_values=self.missing_values, error_on_new=False
            ).fit(X)
        else:
            self.indicator_ = None
        return self

    # ---------------------------------------------------------- transform

    def transform(self, X):
        """Impute all missing values in X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing entries marked by ``missing_values``.

        Returns
        -------
        X_imputed : ndarray or DataFrame of shape (n_samples, n_features_out)
            X with its missing entries filled (the observed ones unchanged;
            a DataFrame, with the columns' dtypes, for a table),
            without the features empty during fit unless
            ``keep_empty_features=True``, followed by the indicator columns
            when ``add_indicator=True``.
        """
        check_is_fitted(self)
        if self._table:
            return self._transform_table(X)
        X, missing = self._validate(X, reset=False)
        valid = ~self._empty_features
        data = np.where(missing, np.nan, X)[:, valid].astype(np.float64)
        standard = (data - self.location_) / self.scale_
        if self.strategy == "mean":
            filled = self._impute(standard)
        else:
            filled = self._draw(standard)
        filled = filled * self.scale_ + self.location_
        # The observed entries exactly as given.
        filled = np.where(missing[:, valid], filled, data)
        if self.keep_empty_features:
            out = np.where(missing, 0.0, X).astype(np.float64)
            out[:, valid] = filled
        else:
            out = filled
        out = out.astype(X.dtype, copy=False)
        if self.add_indicator:
            out = np.hstack([out, self.indicator_.transform(X).astype(out.dtype)])
        return out

    def _impute(self, X):
        if _is_gaussian_mixture(self.estimator_):
            # The mean of the average of the members' conditional laws.
            return np.mean([
                _conditional.conditional_mean(member, X)
                for member in self.estimators_
            ], axis=0)
        return np.asarray(self.estimator_.impute(X), dtype=np.float64)

    def _draw(self, X):
        rng = check_generator(self.random_state)
        if _is_gaussian_mixture(self.estimator_):
            members = self.estimators_
            if len(members) == 1:
                return _conditional.sample_conditional(
                    members[0], X, 1, random_state=rng
                )[0]
            # A draw of the average law: a member per row, then its conditional.
            pick = rng.integers(len(members), size=X.shape[0])
            out = np.empty_like(X)
            for index, member in enumerate(members):
                rows = pick == index
                if rows.any():
                    out[rows] = _conditional.sample_conditional(
                        member, X[rows], 1, random_state=rng
                    )[0]
            return out
        drawn = self._draw_with(X, rng)
        return np.asarray(drawn, dtype=np.float64).reshape(X.shape)

    def _draw_with(self, X, rng):
        """One draw of the model's conditional, seeded from ``rng``.

        An integer seed suits every model (scikit-learn's check_random_state
        takes no Generator).
        """
        seed = int(rng.integers(np.iinfo(np.int32).max))
        return self.estimator_.sample_conditional(X, 1, random_state=seed)

    # -------------------------------------------------------------- tables

    def _table_missing(self, X):
        if not self._nan_marker():
            raise ValueError(
                "On a table, missing entries must be NaN, None or pd.NA; got "
                f"missing_values={self.missing_values!r}. Replace the marker "
                "with NaN first (e.g. DataFrame.replace)."
            )
        return X.isna().to_numpy()

    def _fit_table(self, X):
        _check_feature_names(self, X, reset=True)
        _check_n_features(self, X, reset=True)
        missing = self._table_missing(X)
        if X.shape[0] < 2:
            raise ValueError(
                f"GenerativeImputer needs at least 2 rows; got {X.shape[0]}."
            )
        empty = missing.all(axis=0)
        if empty.all():
            raise ValueError(
                "Every column of X is missing in every row: there is nothing "
                "to learn an imputation from."
            )
        if empty.any():
            if self.keep_empty_features:
                raise ValueError(
                    "keep_empty_features=True would fill the columns "
                    f"{self._feature_description(empty)} with 0, which a table's "
                    "categorical column cannot hold: drop them, or keep them "
                    "out of the imputer (e.g. with a ColumnTransformer)."
                )
            warnings.warn(
                "Skipping features without any observed values: "
                f"{self._feature_description(empty)}. They are dropped from the "
                "output.",
                UserWarning,
                stacklevel=3,
            )
        self._empty_features = empty
        self.location_ = self.scale_ = None
        seed = int(check_generator(self.random_state).integers(2**31 - 1))
        data = X.loc[:, ~empty]
        from skgen.mixture import TabularMixture

        self.estimator_ = _fit_density(
            self.estimator, data, missing[:, ~empty],
            lambda X: TabularMixture(random_state=seed).fit(X),
            needed=2, why="", alternative="skgen.TabularMixture",
        )
        self.estimators_ = [self.estimator_]
        self.selection_ = None
        self.indicator_ = None
        if self.add_indicator:
            self.indicator_ = MissingIndicator(error_on_new=False).fit(
                np.where(missing, np.nan, 0.0)
            )
        return self

    def _transform_table(self, X):
        import pandas as pd

        if not hasattr(X, "columns"):
            raise TypeError(
                "This GenerativeImputer was fitted on a DataFrame (a table); "
                f"transform needs a DataFrame too, got {type(X).__name__}."
            )
        _check_feature_names(self, X, reset=False)
        _check_n_features(self, X, reset=False)
        missing = self._table_missing(X)
        data = X.loc[:, ~self._empty_features]
        if self.strategy == "mean":
            filled = self.estimator_.impute(data)
        else:
            rng = check_generator(self.random_state)
            filled = self._draw_with(data, rng).xs(0, level="draw")
        filled = pd.DataFrame(filled, index=data.index, columns=data.columns)
        # The observed entries exactly as given, in the column's dtype.
        filled = data.where(data.notna(), filled)
        if self.add_indicator:
            names = self.indicator_.get_feature_names_out(
                self.feature_names_in_
            )
            indicator = pd.DataFrame(
                self.indicator_.transform(np.where(missing, np.nan, 0.0)),
                index=X.index,
                columns=names,
            )
            filled = pd.concat([filled, indicator], axis=1)
        return filled

    def get_feature_names_out(self, input_features=None):
        """Get output feature names for transformation.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input features. None uses ``feature_names_in_``, or
            ``["x0", "x1", ..., "x(n_features_in_ - 1)"]`` without it.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The imputed features (without the features empty during fit
            unless ``keep_empty_features=True``), then the indicator's.
        """
        check_is_fitted(self, "n_features_in_")
        input_features = _check_feature_names_in(self, input_features)
        names = (
            input_features
            if self.keep_empty_features
            else input_features[~self._empty_features]
        )
        if self.add_indicator:
            indicator = self.indicator_.get_feature_names_out(input_features)
            names = np.concatenate([names, indicator])
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._nan_marker()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
