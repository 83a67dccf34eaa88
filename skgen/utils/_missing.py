"""The ``missing_values`` marker of the models that take missing entries."""

import numpy as np
from sklearn.utils._missing import is_pandas_na, is_scalar_nan

__all__ = ["check_gaps", "is_nan_marker", "nan_marked"]


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
    if rows.size:
        raise ValueError(
            f"{rows.size} row(s) of X have no observed entry (all missing), "
            f"e.g. row {rows[0]}: they carry no information. Drop them "
            "before fitting."
        )
    columns = np.flatnonzero(missing.all(axis=0))
    if columns.size:
        raise ValueError(
            f"Column(s) {columns.tolist()} of X have no observed entry (all "
            f"missing): {model} cannot model them. Drop them before fitting."
        )
