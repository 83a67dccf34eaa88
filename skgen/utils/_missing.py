"""The ``missing_values`` marker of the models that take missing entries."""

import numpy as np
from sklearn.utils._missing import is_pandas_na, is_scalar_nan

__all__ = [
    "MissingnessModel",
    "check_empty_rows",
    "check_gap_counts",
    "check_gaps",
    "fill_missing",
    "is_nan_marker",
    "nan_marked",
]


def is_nan_marker(missing_values):
    """Whether the marker is NaN (or ``pd.NA``): the data need no rewriting."""
    return bool(is_scalar_nan(missing_values) or is_pandas_na(missing_values))


def nan_marked(X, missing_values):
    """X with the entries equal to ``missing_values`` turned into NaN.

    As scikit-learn's imputers: with a marker other than NaN, a NaN in X is
    an error (it would be neither a value nor a gap).  A DataFrame stays a
    DataFrame (its names are checked by the caller); an array becomes a
    float64 copy, or an object copy with None for an object array.
    """
    if is_nan_marker(missing_values):
        return X
    if hasattr(X, "iloc") and hasattr(X, "columns"):
        present = X.isna().to_numpy()
        marked = X.mask(X == missing_values)
    else:
        array = np.asarray(X)
        if array.dtype.kind == "O":
            import pandas as pd

            present = np.asarray(pd.isna(array), dtype=bool)
            marked = array.copy()
            marked[array == missing_values] = None
        else:
            present = np.isnan(array) if array.dtype.kind in "fc" else False
            marked = array.astype(np.float64, copy=True)
            marked[array == missing_values] = np.nan
    if np.any(present):
        raise ValueError(
            f"X contains NaN, but missing_values={missing_values!r}: the NaN would "
            "be neither a value nor a missing entry. Set missing_values=np.nan, or "
            f"encode every missing entry as {missing_values!r}."
        )
    return marked


def check_gaps(missing, model):
    """Missing entries are fine; a row or column with nothing observed is not.

    ``missing`` is the (n_samples, n_features) mask of the data a model is
    fitted on, ``model`` what the message calls the model.
    """
    rows = np.flatnonzero(missing.all(axis=1))
    check_gap_counts(rows.size, rows[:1], np.flatnonzero(missing.all(axis=0)), model)


def check_gap_counts(n_empty_rows, first_empty_row, empty_columns, model):
    """:func:`check_gaps` from counts, as blocks of a Dask array give them.

    ``first_empty_row`` is a sequence holding the index of the first empty
    row, or empty where it is not known.
    """
    if n_empty_rows:
        example = f", e.g. row {first_empty_row[0]}" if len(first_empty_row) else ""
        raise ValueError(
            f"{n_empty_rows} row(s) of X have no observed entry (all missing)"
            f"{example}: they carry no information. Drop them before fitting."
        )
    if len(empty_columns):
        raise ValueError(
            f"Column(s) {list(map(int, empty_columns))} of X have no observed "
            f"entry (all missing): {model} cannot model them. Drop them before "
            "fitting."
        )


def fill_missing(X, values, missing):
    """X with its ``missing`` entries taken from the table ``values``."""
    if hasattr(X, "iloc"):
        filled = X.copy()
        for j, name in enumerate(X.columns):
            if missing[:, j].any():
                column = values.iloc[:, j].set_axis(X.index)
                filled[name] = X[name].mask(missing[:, j], column)
        return filled
    filled = np.array(X, dtype=np.asarray(values).dtype, copy=True)
    filled[missing] = np.asarray(values)[missing]
    return filled


def check_empty_rows(missing, empty_rows):
    """Raise on rows of ``missing`` with nothing observed, unless allowed.

    ``empty_rows`` is a model's parameter: 'error' raises a ValueError that
    names the rows, 'prior' lets them through (the model then answers them
    from its prior).  Returns the indices of the empty rows.
    """
    rows = np.flatnonzero(missing.all(axis=1))
    if rows.size and empty_rows == "error":
        shown = ", ".join(map(str, rows[:5])) + (", ..." if rows.size > 5 else "")
        raise ValueError(
            f"{rows.size} row(s) of X have no observed entry (all missing): "
            f"row(s) {shown}. The density of nothing observed is 1 for every "
            "row, which is not a score. Drop these rows, or set "
            "empty_rows='prior' to score them 0 (log 1) with the mixing "
            "weights as their component probabilities."
        )
    return rows


class MissingnessModel:
    """Which entries of a row are missing, given the row's other entries.

    For every column with gaps in training, a logistic regression of its
    missing indicator on the row's other features (standardised, a gap at
    the mean) gives the chance that a new row misses it: a synthetic table
    then keeps each column's missing share and its dependence on the other
    columns.  ``columns`` lists the columns modelled, in the order of the
    missing mask given to :meth:`fit`.
    """

    def fit(self, features, missing, own, sample_weight=None):
        """``own[j]`` are the features of column j, left out of its model."""
        from sklearn.linear_model import LogisticRegression

        weights = np.ones(len(features)) if sample_weight is None else sample_weight
        seen = ~np.isnan(features) * weights[:, None]
        values = np.nan_to_num(features)
        total = np.maximum(seen.sum(axis=0), np.finfo(float).tiny)
        self.centre = (seen * values).sum(axis=0) / total
        scale = np.sqrt((seen * (values - self.centre) ** 2).sum(axis=0) / total)
        self.scale = np.where(scale > 0, scale, 1.0)
        standardised = self._standardised(features)
        self.columns = np.flatnonzero(missing.any(axis=0) & ~missing.all(axis=0))
        self.coef = np.zeros((self.columns.size, features.shape[1]))
        self.intercept = np.zeros(self.columns.size)
        for i, j in enumerate(self.columns):
            others = np.setdiff1d(np.arange(features.shape[1]), own[j])
            fitted = LogisticRegression().fit(standardised[:, others], missing[:, j],
                                              sample_weight=sample_weight)
            self.coef[i, others] = fitted.coef_[0]
            self.intercept[i] = fitted.intercept_[0]
        self.n_columns = missing.shape[1]
        return self

    def _standardised(self, features):
        return np.nan_to_num((features - self.centre) / self.scale, nan=0.0)

    def draw(self, features, uniform):
        """The missing mask of rows with these features, from ``uniform`` draws.

        ``uniform`` holds one draw in [0, 1) per row and modelled column.
        """
        mask = np.zeros((features.shape[0], self.n_columns), dtype=bool)
        if self.columns.size:
            logits = self._standardised(features) @ self.coef.T + self.intercept
            mask[:, self.columns] = uniform < 1.0 / (1.0 + np.exp(-logits))
        return mask
