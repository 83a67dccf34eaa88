"""Imputation by conditioning a fitted density model on the observed entries."""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.impute import MissingIndicator
from sklearn.utils._missing import is_pandas_na, is_scalar_nan
from sklearn.utils._param_validation import HasMethods, MissingValues, StrOptions
from sklearn.utils.validation import (
    FLOAT_DTYPES,
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from skgen.mixture import _conditional
from skgen.mixture._conditional import _check_generator

__all__ = ["GenerativeImputer"]

# The default model: a GaussianMixture with its number of components and
# covariance type chosen over this grid.
_GRID_COMPONENTS = range(1, 11)
_GRID_COVARIANCES = ("full", "diag")
# Rows with gaps that score the candidate models, at most.
_MAX_CHECK_ROWS = 2000


def _is_gaussian_mixture(estimator):
    return hasattr(estimator, "covariance_type")


def _conditions(estimator):
    """Whether the imputer can condition this (unfitted) model."""
    return _is_gaussian_mixture(estimator) or all(
        callable(getattr(estimator, name, None))
        for name in ("impute", "sample_conditional")
    )


def _select_mixture(X, X_check, seed):
    """GaussianMixture fitted on X, over the default grid.

    With rows X_check not used in the fit, one observed entry of each is
    hidden and imputed by every candidate, and the candidate kept imputes
    them with the least mean squared error. Without such rows, the one with
    the lowest BIC on X.
    """
    from skgen.mixture import GaussianMixture

    n_samples, n_features = X.shape
    candidates = []
    for covariance_type in _GRID_COVARIANCES:
        for n_components in _GRID_COMPONENTS:
            # A full covariance needs more rows than features per component
            # (else it is singular, and its likelihood unbounded), a diagonal
            # one two rows per component.
            per_component = n_features + 1 if covariance_type == "full" else 2
            if n_samples < n_components * per_component:
                break
            candidate = GaussianMixture(
                n_components, covariance_type=covariance_type, random_state=seed
            )
            try:
                candidate.fit(X)
            except ValueError:
                # Ill-defined covariances: too many components for the rows.
                break
            candidates.append(candidate)
    if not X_check.shape[0]:
        return min(candidates, key=lambda model: model.bic(X))
    # Imputation error rather than held-out likelihood: a likelihood rewards
    # components collapsed on the values of a discrete column.
    rng = np.random.default_rng(seed)
    rows = np.arange(X_check.shape[0])
    observed = ~np.isnan(X_check)
    hidden = np.array([rng.choice(np.flatnonzero(row)) for row in observed])
    truth = X_check[rows, hidden]
    X_hidden = X_check.copy()
    X_hidden[rows, hidden] = np.nan
    errors = [
        (_conditional.conditional_mean(model, X_hidden)[rows, hidden] - truth) ** 2
        for model in candidates
    ]
    return candidates[int(np.argmin([error.mean() for error in errors]))]


def _fit_density(estimator, X, seed):
    """Fit the density model of the imputer on X, where NaN marks a gap.

    This is the one place that decides which rows the model learns from.
    Until GaussianMixture fits with missing entries (EM over the observed
    entries of every row), it learns from the rows without any NaN; once it
    does, pass X whole here (and choose the default model by BIC, or on
    held-out entries).
    """
    complete = ~np.isnan(X).any(axis=1)
    n_complete = int(complete.sum())
    # Fewer complete rows than features leave no full covariance, and a model
    # of a few rows then imputes worse than the column means.
    needed = X.shape[1] + 1
    if n_complete < needed:
        raise ValueError(
            "GenerativeImputer fits its model on the rows of X without missing "
            f"values, and needs at least {needed} (one more than the features); "
            f"got {n_complete} sample{'' if n_complete == 1 else 's'} without "
            f"missing values out of {X.shape[0]}. Fitting on rows with gaps "
            "is not available yet: give more complete rows, or drop the "
            "columns with the most missing values."
        )
    if estimator is not None:
        return clone(estimator).fit(X[complete])
    # The rows with gaps are left out of the fit, so their observed entries
    # score the candidates on held-out data: BIC does not see a model
    # over-fitted to a few complete rows in many dimensions. A row scores
    # the imputation of one of its entries from the others: two at least.
    check = X[~complete & ((~np.isnan(X)).sum(axis=1) >= 2)]
    if check.shape[0] > _MAX_CHECK_ROWS:
        chosen = np.random.default_rng(seed).choice(
            check.shape[0], _MAX_CHECK_ROWS, replace=False
        )
        check = check[np.sort(chosen)]
    return _select_mixture(X[complete], check, seed)


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
        model with ``impute`` and ``sample_conditional`` methods. None fits
        :class:`skgen.GaussianMixture` models with 1 to 10 components and
        full or diagonal covariances (full only with more rows than features
        per component).

        Until the mixture learns from rows with missing entries, the model is
        fitted on the rows of X without any; a ValueError says so when there
        are not more of them than features. The default then hides one
        observed entry in each of the other rows (at most 2000, drawn with
        ``random_state``), and keeps the candidate that imputes them with the
        least squared error; or the one with the lowest BIC when every row is
        complete.

    missing_values : int, float or np.nan, default=np.nan
        The placeholder of the missing values; all its occurrences are
        imputed. With a value other than NaN, X must not contain NaN.

    strategy : {"mean", "sample"}, default="mean"
        ``"mean"`` fills with the conditional expectation
        ``E[x_miss | x_obs]``; ``"sample"`` with one draw from the conditional
        law ``p(x_miss | x_obs)``.

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
        with ``location_`` and ``scale_``.

    location_ : ndarray of shape (n_features_out,)
        Mean of the observed entries of each non-empty feature.

    scale_ : ndarray of shape (n_features_out,)
        Standard deviation of the observed entries of each non-empty feature
        (1 where it is 0).

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
        random_state=None,
        add_indicator=False,
        keep_empty_features=False,
    ):
        self.estimator = estimator
        self.missing_values = missing_values
        self.strategy = strategy
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
        seed = int(_check_generator(self.random_state).integers(2**31 - 1))
        self.estimator_ = _fit_density(
            self.estimator, (data - self.location_) / self.scale_, seed
        )
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
        X_imputed : ndarray of shape (n_samples, n_features_out)
            X with its missing entries filled (the observed ones unchanged),
            without the features empty during fit unless
            ``keep_empty_features=True``, followed by the indicator columns
            when ``add_indicator=True``.
        """
        check_is_fitted(self)
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
            return _conditional.conditional_mean(self.estimator_, X)
        return np.asarray(self.estimator_.impute(X), dtype=np.float64)

    def _draw(self, X):
        rng = _check_generator(self.random_state)
        if _is_gaussian_mixture(self.estimator_):
            return _conditional.sample_conditional(
                self.estimator_, X, 1, random_state=rng
            )[0]
        drawn = self.estimator_.sample_conditional(X, 1, random_state=rng)
        return np.asarray(drawn, dtype=np.float64).reshape(X.shape)

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
