"""Outlier detection from the scores of any density model."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    check_is_fitted,
    validate_data,
)

from skgen.outlier._conventions import OutlierConventionsMixin

__all__ = ["DensityOutlierDetector"]


class DensityOutlierDetector(OutlierConventionsMixin, BaseEstimator):
    """Outlier detector built on any density model's ``score_samples``.

    Rows whose log-density is below the ``contamination`` quantile of the
    training scores are outliers. This follows scikit-learn's outlier
    conventions (those of :class:`~sklearn.ensemble.IsolationForest`), so that
    a density model whose own ``predict`` means something else, such as
    :class:`skgen.GaussianMixture`'s cluster labels, can serve as a detector.
    A row of zero density, scored ``-inf`` (as a
    :class:`~sklearn.neighbors.KernelDensity` with a ``"tophat"`` kernel
    scores every row out of its reach), is the most abnormal row and gets
    the label -1; scores of NaN or ``+inf`` raise a ValueError.

    Parameters
    ----------
    estimator : estimator, default=None
        Any estimator with ``fit`` and ``score_samples`` (higher meaning more
        normal): a skgen model, :class:`~sklearn.neighbors.KernelDensity`,
        :class:`~sklearn.mixture.GaussianMixture` or a
        :class:`~sklearn.pipeline.Pipeline` ending in one. It is cloned at
        fit. None takes ``skgen.GaussianMixture()``.
    contamination : float in (0, 0.5], default=0.1
        The expected share of outliers in the training data; it sets
        ``offset_``.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone of ``estimator``.
    offset_ : float
        The ``contamination`` percentile of the training scores:
        ``decision_function = score_samples - offset_``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.ensemble.IsolationForest : A tree-based detector with the same
        conventions.

    Examples
    --------
    >>> import numpy as np
    >>> from skgen.outlier import DensityOutlierDetector
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(size=(200, 2)), [[6.0, 6.0]]]
    >>> detector = DensityOutlierDetector(contamination=0.01).fit(X)
    >>> int(detector.predict([[6.0, 6.0]])[0]), int(detector.predict([[0.0, 0.0]])[0])
    (-1, 1)
    """

    _parameter_constraints: dict = {
        "estimator": [None, HasMethods(["fit", "score_samples"])],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
    }

    def __init__(self, estimator=None, *, contamination=0.1):
        self.estimator = estimator
        self.contamination = contamination

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the density model on X and set ``offset_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, which may contain outliers, and missing entries
            (NaN) when the density model takes them (its ``allow_nan`` tag,
            as :class:`skgen.GaussianMixture`).
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted detector.
        """
        self.estimator_ = clone(self._density_model())
        X = self._validated(X, reset=True)
        self.estimator_.fit(X)
        self._set_offset(self._checked_scores(X))
        return self

    def _density_model(self):
        """``estimator``, or the default ``skgen.GaussianMixture()`` for None."""
        if self.estimator is None:
            from skgen.mixture import GaussianMixture

            return GaussianMixture()
        return self.estimator

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Missing entries go through to a density model that takes them.
        tags.input_tags.allow_nan = get_tags(self._density_model()).input_tags.allow_nan
        return tags

    def _checked_scores(self, X):
        scores = np.asarray(self.estimator_.score_samples(X), dtype=np.float64)
        # -inf is a density of zero, the most abnormal score there is (a
        # tophat or Epanechnikov kernel gives it to every row out of reach);
        # NaN cannot be ranked, and +inf is the log-density of a point mass,
        # which only a degenerate model gives.
        bad = np.isnan(scores) | np.isposinf(scores)
        if np.any(bad):
            raise ValueError(
                f"{type(self.estimator_).__name__}.score_samples returned "
                f"{int(bad.sum())} NaN or +inf values; the density model cannot "
                "rank these rows. Check the data for degenerate features, or "
                "regularise the model."
            )
        return scores

    def score_samples(self, X):
        """The density model's scores (log-densities): lower is more abnormal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``estimator_.score_samples(X)``: ``-inf`` for a row of zero
            density, which :meth:`predict` labels -1. NaN or ``+inf`` raise
            a ValueError.
        """
        check_is_fitted(self)
        return self._checked_scores(self._validated(X, reset=False))

    def _validated(self, X, reset):
        """X checked against the fit; a table as it is for a model of tables.

        A model that takes categorical columns (its ``categorical`` input
        tag, as :class:`skgen.TabularMixture`) validates the table itself:
        only the column count and names are checked here. Missing entries
        (NaN) pass to a model whose ``allow_nan`` tag says it takes them.
        """
        if get_tags(self.estimator_).input_tags.categorical:
            _check_feature_names(self, X, reset=reset)
            _check_n_features(self, X, reset=reset)
            return X
        allow_nan = get_tags(self.estimator_).input_tags.allow_nan
        return validate_data(
            self, X, dtype=[np.float64, np.float32], reset=reset,
            ensure_min_samples=2 if reset else 1,
            ensure_all_finite="allow-nan" if allow_nan else True,
        )
