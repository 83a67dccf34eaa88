"""An invertible encoder of mixed-type tables.

Every skgen model works on numbers; tables hold numbers, integers, booleans
and categories.  :class:`TableEncoder` maps a table to one float matrix and
back.  It knows the log-Jacobian of its continuous maps and the encoded
interval of each integer value, so that a density of the encoded rows
becomes a density (and probability) of the table's rows.  scikit-learn's
``ColumnTransformer`` has neither an ``inverse_transform`` nor Jacobians,
which is why this is written here.

Columns are of three kinds:

* ``"continuous"``: floating-point numbers;
* ``"integer"``: integers, kept as discrete numbers: the encoder treats the
  value ``v`` as the interval ``[v, v + 1)`` (uniform dequantization), so a
  density of the encoded value integrated over the encoded interval is the
  probability of ``v``; encoding takes the interval's midpoint, and decoding
  rounds down;
* ``"discrete"``: floating-point numbers that repeat (rounded measurements,
  prices in cents): a column with few distinct values compared with its
  rows is a discrete variable over the values seen, encoded like an integer
  column over their ranks, so that samples take the values seen;
* ``"categorical"``: categories (pandas categoricals, strings, objects and
  booleans under ``categorical_features="from_dtype"``), one-hot encoded
  over the levels seen in fit.
"""

import numbers

import numpy as np
from scipy.special import ndtri
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from skgen.preprocessing._table_columns import ColumnReader
from skgen.preprocessing._table_decode import POOLED, Decoder, _draws_for, _missing
from skgen.preprocessing._table_input import is_dataframe
from skgen.preprocessing._table_maps import (
    INTERVAL_KINDS,
    _nearest,
    _PiecewiseLinear,
    _weighted_knots,
)

__all__ = ["POOLED", "TableEncoder"]


class TableEncoder(ColumnReader, Decoder, TransformerMixin, BaseEstimator):
    """Encode a mixed-type table as one float matrix, invertibly.

    Numeric columns (continuous, then integer and discrete) come first in the
    output, each
    mapped by a monotone map; then each categorical column as a one-hot block
    over the levels seen in :meth:`fit`.  :meth:`inverse_transform` maps
    encoded rows (for example a generative model's samples) back to a table
    with the training frame's columns, dtypes and category sets: integers
    come back as integers within the observed range, categories as the
    training frame's categorical dtype, booleans as booleans.
    :meth:`log_jacobian` gives the log-Jacobian of the continuous maps and
    :meth:`integer_intervals` the encoded interval of each integer value, so
    that a density of the encoded rows becomes one of the table's rows.

    Parameters
    ----------
    categorical_features : 'from_dtype', None, array-like of int, str or bool, \
            default='from_dtype'
        Which columns are categorical. ``'from_dtype'``, as in
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`: the
        columns of a DataFrame with a categorical, string, object or boolean
        dtype (a numpy array then has none). Otherwise the indices, names or
        a boolean mask of the categorical columns. The other columns must be
        numeric: an integer dtype makes an ``"integer"`` column, a floating
        one a ``"continuous"`` column. To treat integers as categories, give
        them a categorical dtype or list them here. A column with a single
        value (numeric or not) becomes a categorical column of one level: a
        point mass, sampled back as that value.

    numeric_transform : {'quantile-normal', 'standard'}, default='quantile-normal'
        The map of numeric columns. ``'quantile-normal'``: the column's
        empirical distribution function, interpolated linearly between at
        most ``n_quantiles`` knots and followed by the normal quantile
        function, so that the encoded column is close to a standard normal;
        beyond the training range it is extended by its end slopes.
        ``'standard'``: ``(x - mean) / std``. ``'identity'``: the numbers as
        they are, for a model that standardises and dequantizes them itself
        (the VAE and the GAN); integers are then encoded as themselves and
        decoded rounded down, discrete columns decoded to the nearest value
        seen.

    n_quantiles : int, default=1000
        Largest number of knots of the quantile map.

    discrete_float_ratio : float, default=0.5
        A floating-point column with at most this many distinct values per
        row (of training weight) is ``"discrete"``: a variable over the
        values seen, encoded through their ranks like an integer column.
        Rounded measurements are such columns, and a model of them then
        samples the values seen rather than values between them. 0 makes
        every floating-point column continuous.

    handle_unknown : {'error', 'ignore'}, default='error'
        A category not seen in :meth:`fit`: raise, or encode it as an
        all-zero block (its mask is :meth:`unknown_mask`).

    allow_missing : bool, default=False
        Whether missing entries (NaN, None, ``pd.NA``) are taken: a numeric
        one is encoded as NaN, a categorical one as an all-zero block (its
        mask is :meth:`missing_mask`), and fit learns each column from its
        observed entries. Otherwise they raise.

    random_state : int, RandomState instance or None, default=None
        Draws the dequantization noise of :meth:`fit_transform_dequantized`.

    relations : {'auto'}, list or None, default=None
        ``'auto'`` finds the exact relations between columns in :meth:`fit`
        (a column equal to an affine map of another, a category determined
        by another, a column determined by a pair of categories and by
        neither alone, a number that is the sum or difference of two others,
        each on the same rows as its sources, to a relative tolerance of
        1e-9; and an identifier, a text column with a distinct value in
        each of at least 20 rows) and encodes only the free columns:
        :meth:`transform` drops the dependent ones (after filling a missing
        source from its dependent where the relation can be solved for it)
        and :meth:`inverse_transform` computes them from the decoded
        sources, so that every decoded row satisfies every relation, and
        draws new identifiers. None encodes every column.

        A list declares relations, each a tuple ``(dependent, kind,
        sources)`` of column names (indices for an array), with ``sources``
        one column or a list of them:

        - ``('b', 'equal', 'a')``: a copy (numbers or categories);
        - ``('b', 'affine', 'a')``: ``b = s * a + t``, with ``s`` and ``t``
          read from the rows;
        - ``('total', 'sum', ['net', 'tax'])``: the sum of the sources;
        - ``('net', 'difference', ['gross', 'tax'])``: the first source
          minus the others;
        - ``('country', 'determined_by', 'city')`` or ``('price',
          'determined_by', ['name', 'size'])``: each level (or combination
          of levels) of the sources goes with one value of the dependent;
          a combination not seen in fit gives the dependent's most frequent
          value with the first source's level;
        - ``('order', 'identifier')``: a text column with a distinct value
          in every row.

        :meth:`fit` raises a ValueError naming a declared relation that a
        training row breaks, and the rows; a source may not be computed by
        another declared relation. The string ``'auto'`` in the list also
        finds the relations among the other columns (a declared source is
        never made dependent).

    max_levels : int or None, default=None
        Most one-hot outputs of a categorical column. A column with more
        levels keeps its ``max_levels - 1`` most frequent ones and pools the
        rest as one output, ``POOLED``: decoded, it becomes one of them drawn
        with its share of their training weight, and :meth:`log_jacobian`
        adds the log of that share, so a density of the encoded rows stays
        one of the table's. Memory then grows with the kept levels, not all
        of them. None keeps every level.

    Attributes
    ----------
    kinds_ : ndarray of str
        The kind of each encoded input column (every column, but the
        dependent ones of ``relations_``): 'continuous', 'discrete',
        'integer' or 'categorical'.

    relations_ : list of str
        The relations kept (see ``relations``), in words.

    categories_ : list of ndarray
        The levels of each categorical column seen in fit, in their order in
        the output.

    n_numeric_ : int
        Number of numeric output columns (the first ones).

    n_features_in_ : int
        Number of columns seen in :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in :meth:`fit`, when X is a DataFrame with string
        column names.

    Examples
    --------
    >>> import pandas as pd
    >>> from skgen.preprocessing import TableEncoder
    >>> df = pd.DataFrame({"x": [0.5, 1.5, 2.5, 3.5], "n": [1, 2, 2, 3],
    ...                    "c": pd.Categorical(["a", "b", "a", "a"])})
    >>> enc = TableEncoder().fit(df)
    >>> list(enc.kinds_)
    ['continuous', 'integer', 'categorical']
    >>> enc.transform(df).shape
    (4, 4)
    >>> enc.inverse_transform(enc.transform(df)).equals(df)
    True
    """

    _parameter_constraints: dict = {
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
        "numeric_transform": [
            StrOptions({"quantile-normal", "standard", "identity"})
        ],
        "n_quantiles": [Interval(numbers.Integral, 2, None, closed="left")],
        "discrete_float_ratio": [Interval(numbers.Real, 0, 1, closed="both")],
        "handle_unknown": [StrOptions({"error", "ignore"})],
        "allow_missing": ["boolean"],
        "random_state": ["random_state"],
        "relations": [StrOptions({"auto"}), list, None],
        "max_levels": [Interval(numbers.Integral, 2, None, closed="left"), None],
    }

    def __init__(
        self,
        categorical_features="from_dtype",
        *,
        numeric_transform="quantile-normal",
        n_quantiles=1000,
        discrete_float_ratio=0.5,
        handle_unknown="error",
        allow_missing=False,
        random_state=None,
        relations=None,
        max_levels=None,
    ):
        self.categorical_features = categorical_features
        self.numeric_transform = numeric_transform
        self.n_quantiles = n_quantiles
        self.discrete_float_ratio = discrete_float_ratio
        self.handle_unknown = handle_unknown
        self.allow_missing = allow_missing
        self.random_state = random_state
        self.relations = relations
        self.max_levels = max_levels

    # ----------------------------------------------------------------- fit

    def fit(self, X, y=None, sample_weight=None):
        """Learn each column's kind, map and levels.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The table. Missing values are not supported yet: they raise.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the quantile maps and the standardisation.

        Returns
        -------
        self : TableEncoder
        """
        self._fit(X, sample_weight)
        return self

    def _fit(self, X, sample_weight, relations=None):
        """Fit; ``relations`` (a list) replaces the declared and found ones."""
        self._validate_params()
        columns = self._columns(X, reset=True)
        columns, kinds = self._find_relations(X, columns, self._kinds(X, columns),
                                              relations)
        n_samples = len(columns[0])
        if n_samples < 2:
            raise ValueError(
                f"Found array with {n_samples} sample(s) while a minimum of 2 is "
                "required by TableEncoder."
            )
        weights = np.ones(n_samples)
        if sample_weight is not None:
            weights = _check_sample_weight(
                sample_weight, np.empty((n_samples, 0)), dtype=np.float64,
                ensure_non_negative=True,
            )
        if np.count_nonzero(weights) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 rows of positive weight; "
                f"got {np.count_nonzero(weights)}."
            )
        positive = weights > 0
        labels = self._labels(X, len(columns))
        numeric_values = {}
        for j, kind in enumerate(kinds):
            if kind == "categorical":
                continue
            values = self._checked_numeric(columns[j], labels[j])
            seen = values[positive & ~np.isnan(values)]
            if seen.size == 0:
                raise ValueError(
                    f"Column {labels[j]} has no observed value (in the rows of "
                    "positive weight): there is nothing to model. Drop it."
                )
            # One value (to within 1e-300, below which slopes overflow) is a
            # point mass: a categorical column of one level models it exactly.
            if seen.max() - seen.min() < 1e-300:
                kinds[j] = "categorical"
            elif kind == "continuous" and np.unique(seen).size <= (
                self.discrete_float_ratio * weights.sum()
            ):
                kinds[j] = "discrete"
            numeric_values[j] = values
        self.kinds_ = kinds
        self._is_frame = is_dataframe(X)
        self._dtypes = [getattr(c, "dtype", None) for c in columns]
        self._array_dtype = None if self._is_frame else columns[0].dtype
        self._numeric = [j for j, k in enumerate(kinds) if k == "continuous"] + [
            j for j, k in enumerate(kinds) if k in INTERVAL_KINDS
        ]
        self._categorical = [j for j, k in enumerate(kinds) if k == "categorical"]
        self._maps, self._ranges, self._ranks = [], [], {}
        for j in self._numeric:
            observed = positive & ~np.isnan(numeric_values[j])
            if kinds[j] == "discrete":
                support = np.unique(numeric_values[j][observed])
                self._ranks[j] = _PiecewiseLinear(support, np.arange(support.size))
            values = self._model_values(j, numeric_values[j])
            seen = values[observed]
            lo, hi = seen.min(), seen.max()
            if kinds[j] in INTERVAL_KINDS:
                hi += 1.0
            self._ranges.append((lo, hi))
            self._maps.append(self._numeric_map(seen, weights[observed], kinds[j]))
        self.n_numeric_ = len(self._numeric)
        self.categories_, self._pools = [], {}
        for j in self._categorical:
            values, missing = self._categorical_values(columns[j], labels[j])
            levels = self._levels(columns[j], values[positive & ~missing])
            if levels.size == 0:
                raise ValueError(
                    f"Column {labels[j]} has no observed value (in the rows of "
                    "positive weight): there is nothing to model. Drop it."
                )
            self.categories_.append(self._pooled(len(self.categories_), levels,
                                                 values, missing, weights))
        return columns, labels, weights

    def _pooled(self, i, levels, values, missing, weights):
        """The levels kept for categorical column i; the rest pooled, by share."""
        if self.max_levels is None or levels.size <= self.max_levels:
            return levels
        seen = ~missing & (weights > 0)
        counts = np.bincount(_codes(values[seen], levels), weights[seen],
                             minlength=levels.size)
        return self._pool_by_counts(i, levels, counts)

    def _pool_by_counts(self, i, levels, counts):
        """``_pooled`` from the training weight of each of the ``levels``."""
        self._pools.pop(i, None)
        if self.max_levels is None or levels.size <= self.max_levels:
            return levels
        order = np.argsort(-counts, kind="stable")
        kept = np.sort(order[: self.max_levels - 1])
        rest = np.sort(order[self.max_levels - 1:])
        self._pools[i] = (levels[rest], counts[rest] / counts[rest].sum())
        return np.append(levels[kept], np.asarray([POOLED], dtype=object))

    def _category_codes(self, i, values):
        """Codes of categorical column i's values; a pooled level is its pool's."""
        levels = self.categories_[i]
        codes = _codes(values, levels)
        pool = getattr(self, "_pools", {}).get(i)
        if pool is not None:
            codes[(codes < 0) & (_codes(values, pool[0]) >= 0)] = levels.size - 1
        return codes

    def _model_values(self, j, values):
        """A numeric column in the units its map takes: ranks if discrete."""
        if self.kinds_[j] == "discrete" and self.numeric_transform != "identity":
            return self._ranks[j](values)
        return values

    def _interval_offset(self, n_samples, dequantize):
        """Where an integer's interval is read: its midpoint, or a draw in it.

        Under the identity map the model reads the integers themselves and
        spreads them over their intervals itself.
        """
        if dequantize is not None:
            return dequantize.uniform(size=n_samples)
        return 0.0 if self.numeric_transform == "identity" else 0.5

    def _numeric_map(self, values, weights, kind):
        if self.numeric_transform == "identity":
            return _PiecewiseLinear([0.0, 1.0], [0.0, 1.0])
        if kind in INTERVAL_KINDS:
            values = values + 0.5
        if self.numeric_transform == "standard":
            mean = np.average(values, weights=weights)
            std = np.sqrt(np.average((values - mean) ** 2, weights=weights))
            return _PiecewiseLinear([mean - std, mean + std], [-1.0, 1.0])
        if kind in INTERVAL_KINDS:
            # Knots at the edges of each value's unit interval: the map is
            # then linear inside an interval, as uniform dequantization is.
            knots_at = np.concatenate([values - 0.5, values + 0.5])
            knot_weights = np.concatenate([weights, weights]) * 0.5
            x, level = _weighted_knots(knots_at, knot_weights, self.n_quantiles)
        else:
            x, level = _weighted_knots(values, weights, self.n_quantiles)
        return _PiecewiseLinear(x, ndtri(level))

    # ----------------------------------------------------------- transform

    def transform(self, X):
        """Encode X: numeric columns mapped, then one-hot blocks.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, `n_features_in_`)
            A table with the columns seen in fit.

        Returns
        -------
        Z : ndarray of shape (n_samples, `n_numeric_` + total levels)
        """
        check_is_fitted(self)
        columns = self._columns(X, reset=False)
        return self._encode(columns, self._labels(X, len(columns)))

    def _encode(self, columns, labels, dequantize=None):
        """The encoded matrix; ``dequantize`` is an optional RandomState."""
        n_samples = len(columns[0]) if columns else 0
        width = self.n_numeric_ + sum(c.size for c in self.categories_)
        Z = np.zeros((n_samples, width))
        for out, (j, f) in enumerate(zip(self._numeric, self._maps, strict=True)):
            values = self._model_values(j, self._checked_numeric(columns[j], labels[j]))
            if self.kinds_[j] in INTERVAL_KINDS:
                values = values + self._interval_offset(n_samples, dequantize)
            Z[:, out] = f(values)
        start = self.n_numeric_
        for i, (j, levels) in enumerate(
            zip(self._categorical, self.categories_, strict=True)
        ):
            values, missing = self._categorical_values(columns[j], labels[j])
            codes = self._category_codes(i, values)
            unknown = (codes < 0) & ~missing
            if unknown.any() and self.handle_unknown == "error":
                raise ValueError(
                    f"Column {labels[j]} has categories not seen in fit: "
                    f"{sorted(map(repr, set(values[unknown])))[:5]}. Fit on data "
                    "that has them, or set handle_unknown to score them with a "
                    "floor probability."
                )
            rows = np.flatnonzero(codes >= 0)
            Z[rows, start + codes[rows]] = 1.0
            start += levels.size
        return Z

    def fit_transform_dequantized(self, X, sample_weight=None):
        """Fit, and encode X with integers spread uniformly over their interval.

        A model fitted on these rows sees integer columns as continuous
        ones, whose density over ``[v, v + 1)`` is the probability of
        ``v``; :meth:`transform` then takes the interval's midpoint.
        """
        columns, labels, _ = self._fit(X, sample_weight)
        rng = check_random_state(self.random_state)
        return self._encode(columns, labels, dequantize=rng)

    def unknown_mask(self, X):
        """Boolean (n_samples, n_categorical) mask of categories unseen in fit."""
        check_is_fitted(self)
        columns = self._columns(X, reset=False)
        labels = self._labels(X, len(columns))
        masks = []
        for i, j in enumerate(self._categorical):
            values, missing = self._categorical_values(columns[j], labels[j])
            masks.append((self._category_codes(i, values) < 0) & ~missing)
        n_samples = len(columns[0])
        return np.column_stack(masks) if masks else np.zeros((n_samples, 0), bool)

    def missing_mask(self, X):
        """Boolean (n_samples, `n_features_in_`) mask of the missing entries."""
        check_is_fitted(self)
        if self._relations is not None:
            self._columns(X, reset=False)  # checks X against the fit
            full = self._values(self._split(X), X)
            return np.column_stack([_missing(v) for v in full])
        columns = self._columns(X, reset=False)
        labels = self._labels(X, len(columns))
        masks = []
        for j, column in enumerate(columns):
            if self.kinds_[j] == "categorical":
                masks.append(self._categorical_values(column, labels[j])[1])
            else:
                masks.append(np.isnan(self._checked_numeric(column, labels[j])))
        return np.column_stack(masks)

    def log_jacobian(self, X):
        """Per-row sum of the log-derivatives of the continuous columns' maps.

        A density ``q`` of the encoded continuous columns is the density
        ``q(f(x)) * prod f'(x)`` of the table's: add this to ``log q``.
        Integer columns have no Jacobian: their probabilities are masses of
        intervals (see :meth:`integer_intervals`).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, `n_features_in_`)

        Returns
        -------
        log_jacobian : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        columns = self._columns(X, reset=False)
        labels = self._labels(X, len(columns))
        total = np.zeros(len(columns[0]))
        for j, f in zip(self._numeric, self._maps, strict=True):
            if self.kinds_[j] == "continuous":
                values = self._checked_numeric(columns[j], labels[j])
                observed = ~np.isnan(values)
                total[observed] += f.log_slope(values[observed])
        for i, (levels, shares) in getattr(self, "_pools", {}).items():
            j = self._categorical[i]
            values, _ = self._categorical_values(columns[j], labels[j])
            codes = _codes(values, levels)
            known = codes >= 0
            total[known] += np.log(shares[codes[known]])
        return total

    def integer_intervals(self, X):
        """Encoded edges ``f(v)`` and ``f(v + 1)`` of each integer value.

        The probability of an integer ``v`` under a density ``q`` of its
        encoded column is the mass of ``q`` between these edges.  The
        smallest value seen in fit has no lower edge (-inf) and the largest
        no upper edge (+inf), as :meth:`inverse_transform` clips to that
        range: the probabilities of the values seen in fit then sum to one.
        A value beyond them has the mass of its own tail.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, `n_features_in_`)

        Returns
        -------
        lower, upper : ndarrays of shape (n_samples, n_interval_columns)
            For the integer and discrete columns, in their order among the
            numeric outputs (after the continuous ones). A discrete column's
            edges are those of its value's rank; a value between two seen
            ones has a fractional rank.
        """
        check_is_fitted(self)
        columns = self._columns(X, reset=False)
        labels = self._labels(X, len(columns))
        lower, upper = [], []
        for j, f, (lo, hi) in zip(self._numeric, self._maps, self._ranges, strict=True):
            if self.kinds_[j] in INTERVAL_KINDS:
                values = self._checked_numeric(columns[j], labels[j])
                values = self._model_values(j, values)
                # The end values take the tails, as the samples that
                # inverse_transform clips to the training range do.
                lower.append(np.where(values <= lo, -np.inf, f(values)))
                upper.append(np.where(values >= hi - 1, np.inf, f(values + 1.0)))
        n_samples = len(columns[0])
        if not lower:
            empty = np.zeros((n_samples, 0))
            return empty, empty
        return np.column_stack(lower), np.column_stack(upper)

    def inverse_transform(self, Z, missing=None, missing_value=np.nan):
        """Decode encoded rows into a table like the one seen in fit.

        Numeric columns are mapped back and kept within the training range
        (integers rounded down from their interval); each one-hot block
        becomes the level of its largest entry, so that probabilities or
        relaxed one-hot vectors decode too.

        Parameters
        ----------
        Z : array-like of shape (n_samples, `n_numeric_` + total levels)

        missing : bool array of shape (n_samples, `n_features_in_`), default=None
            Entries to leave missing in the output, whatever ``Z`` holds.

        missing_value : object, default=np.nan
            What a missing entry holds (a DataFrame column stores it as its
            dtype's missing value).

        Returns
        -------
        X : DataFrame or ndarray of shape (n_samples, `n_features_in_`)
            A DataFrame with the training columns and dtypes when fitted on
            one; otherwise an array of the training dtype (object when
            categories were given).
        """
        check_is_fitted(self)
        Z = check_array(Z, dtype=np.float64)
        width = self.n_numeric_ + sum(c.size for c in self.categories_)
        if Z.shape[1] != width:
            raise ValueError(
                f"Z has {Z.shape[1]} columns; this encoder writes {width}."
            )
        out, dtypes = self._decoded(Z)
        if missing is not None:
            missing = np.asarray(missing, dtype=bool)
            free = (range(len(out)) if self._relations is None
                    else self._relations.free)
            for j in free:
                if missing[:, j].any():
                    out[j] = np.where(missing[:, j], missing_value,
                                      out[j].astype(object))
        if self._relations is not None:
            out = self._relations.rebuild(out, self._integer_columns(), _draws_for(Z))
        return self._assemble(out, dtypes)

    def broken_relations(self, X):
        """The rows of X that break a kept relation, and the relation broken.

        Returns
        -------
        rows : ndarray of int
            Indices of the rows where every column of a relation is observed
            and the relation does not hold.
        relations : list of str
            The first relation each of them breaks, in words.
        """
        check_is_fitted(self)
        if self._relations is None:
            return np.zeros(0, dtype=int), []
        self._columns(X, reset=False)
        first = self._relations.broken(self._values(self._split(X), X))
        rows = np.flatnonzero(first >= 0)
        return rows, [self.relations_[i] for i in first[rows]]

    def with_relations(self, X, filled, missing):
        """``filled`` (X with its ``missing`` entries filled), holding the relations.

        A missing source that X's observed entries determine (through an
        observed dependent column) takes that value; then each missing
        dependent entry is computed from the filled sources, as in
        :meth:`inverse_transform`.
        """
        if self._relations is None:
            return filled
        known = self._relations.infer_sources(self._values(self._split(X), X))
        values = self._values(self._split(filled), filled)
        for j in range(len(values)):
            rows = missing[:, j] & ~_missing(known[j])
            values[j] = np.where(rows, known[j], values[j])
        rebuilt = self._relations.rebuild(values, self._integer_columns(),
                                          _draws_for(missing))
        out = filled.copy()
        for j in range(len(values)):
            rows = missing[:, j]
            if not rows.any():
                continue
            if is_dataframe(X):
                import pandas as pd

                dtype = self._all_dtypes[j]
                if j in self._identifiers():  # new identifiers: not the levels
                    dtype = object
                column = pd.Series(rebuilt[j], index=X.index).astype(dtype)
                out[X.columns[j]] = filled.iloc[:, j].astype(dtype).mask(rows, column)
            else:
                out[rows, j] = rebuilt[j][rows]
        return out

    def numeric_inverse(self, Z_numeric):
        """Numeric columns in the data's units from their encoded scores.

        As :meth:`inverse_transform` decodes them: within the training
        range, integer and discrete columns at the value of their interval.

        Parameters
        ----------
        Z_numeric : ndarray of shape (n_samples, `n_numeric_`)

        Returns
        -------
        values : ndarray of shape (n_samples, `n_numeric_`), float64
        """
        out = np.empty_like(Z_numeric, dtype=np.float64)
        for col, (j, f, (lo, hi)) in enumerate(
            zip(self._numeric, self._maps, self._ranges, strict=True)
        ):
            values = f.inverse(Z_numeric[:, col])
            if self.kinds_[j] == "discrete" and self.numeric_transform == "identity":
                values = _nearest(self._ranks[j].x, values)
            elif self.kinds_[j] in INTERVAL_KINDS:
                values = np.clip(np.floor(values), lo, hi - 1)
                if self.kinds_[j] == "discrete":
                    values = self._ranks[j].x[values.astype(np.int64)]
            else:
                values = np.clip(values, lo, hi)
            out[:, col] = values
        return out

    def numeric_forward(self, values):
        """Scores that decode to the value nearest to each of ``values``.

        ``values`` (n_samples, `n_numeric_`) are in the data's units and need
        not be values a column takes (a mean, say): a continuous column maps
        them as they are, an integer column rounds them, a discrete column
        takes the nearest value seen in fit.
        """
        out = np.empty_like(values, dtype=np.float64)
        for col, (j, f) in enumerate(zip(self._numeric, self._maps, strict=True)):
            v = self._model_values(j, values[:, col])
            if self.kinds_[j] in INTERVAL_KINDS:
                v = np.round(v) + self._interval_offset(len(v), None)
            out[:, col] = f(v)
        return out

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: numeric names, then ``name_level``."""
        check_is_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = np.asarray([f"x{j}" for j in range(self.n_features_in_)], object)
        if self._relations is not None:
            names = names[self._relations.free]
        out = [str(names[j]) for j in self._numeric]
        for j, levels in zip(self._categorical, self.categories_, strict=True):
            out += [f"{names[j]}_{level}" for level in levels]
        return np.asarray(out, dtype=object)


def adopt_encoder(estimator, encoder):
    """Give ``estimator`` a fitted table encoder and the column checks it made.

    ``encoder_``, ``n_features_in_`` and ``feature_names_in_`` (removed when
    the table had no string column names), as ``validate_data`` would set
    them, for a model that reads tables through the encoder.
    """
    estimator.encoder_ = encoder
    estimator.n_features_in_ = encoder.n_features_in_
    if hasattr(encoder, "feature_names_in_"):
        estimator.feature_names_in_ = encoder.feature_names_in_
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_


def _codes(values, levels):
    """Index of each value in ``levels``, -1 for a value not among them."""
    lookup = {level: i for i, level in enumerate(levels)}
    return np.fromiter(
        (lookup.get(v, -1) for v in values), dtype=np.int64, count=len(values)
    )
