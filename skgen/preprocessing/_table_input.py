"""The table front door: what every model that takes tables asks of its input.

Whether X is a table, the kind of a column under
``categorical_features='from_dtype'``, the checks of a table against the fit,
and the error for categories not seen in fit are written here once, for
:class:`~skgen.TabularMixture`, :class:`~skgen.VAE`, :class:`~skgen.GAN`,
:class:`~skgen.GenerativeImputer` and :class:`~skgen.preprocessing.TableEncoder`.
pandas is imported only when a DataFrame is met.
"""

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import _check_feature_names, _check_n_features

__all__ = [
    "check_known_categories",
    "check_table",
    "column_kind_from_dtype",
    "is_dataframe",
    "is_table",
]


def is_dataframe(X):
    """Whether X is a pandas DataFrame (or quacks like one)."""
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")


def column_kind_from_dtype(dtype):
    """The kind of a pandas column under ``categorical_features='from_dtype'``.

    'categorical' (category, boolean, string or object), 'integer',
    'continuous' (floating point), or None for a dtype no model takes
    (datetimes, ...), which the encoder rejects naming the column.
    """
    import pandas as pd

    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return "categorical"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return "categorical"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "continuous"
    return None


def is_table(X, categorical_features="from_dtype"):
    """Whether X goes through a table encoder rather than the numeric path.

    It does when ``categorical_features`` selects at least one column (an
    all-False mask or an empty list selects none), or, with
    ``'from_dtype'``, when X is a DataFrame with a column that is not
    integer or floating point (categorical, boolean, string, object, or a
    dtype the encoder rejects with an error naming the column).
    """
    if categorical_features is None:
        return False
    if not isinstance(categorical_features, str):
        selected = np.asarray(categorical_features)
        return bool(selected.any() if selected.dtype == bool else selected.size)
    return is_dataframe(X) and any(
        column_kind_from_dtype(dtype) not in ("integer", "continuous")
        for dtype in X.dtypes
    )


def check_table(estimator, X, *, ensure_all_finite=False):
    """X checked against the table ``estimator`` was fitted on.

    The feature names and count, as ``validate_data(reset=False)`` checks
    them; a DataFrame comes back as it is (its columns are checked by the
    encoder), anything else as an array of its own dtype.
    """
    _check_feature_names(estimator, X, reset=False)
    if not is_dataframe(X):
        X = check_array(X, dtype=None, ensure_all_finite=ensure_all_finite)
    _check_n_features(estimator, X, reset=False)
    return X


def check_known_categories(estimator, X, remedy):
    """Raise a ValueError naming the columns of X with categories unseen in fit.

    ``estimator.encoder_`` is the fitted encoder; ``remedy`` ends the
    message with what the user can do, which depends on the model.  Returns
    the (n_samples, n_categorical) mask of unseen categories.
    """
    encoder = estimator.encoder_
    unknown = encoder.unknown_mask(X)
    if not unknown.any():
        return unknown
    names = getattr(estimator, "feature_names_in_", None)
    parts = []
    relations = getattr(encoder, "_relations", None)
    for j, unseen in zip(encoder._categorical, unknown.T, strict=True):
        if not unseen.any():
            continue
        if relations is not None:  # an encoded column's place in X
            j = relations.free[j]
        label = repr(names[j]) if names is not None else f"at index {j}"
        values = X.iloc[:, j] if is_dataframe(X) else X[:, j]
        shown = sorted({repr(v) for v in np.asarray(values)[unseen]})[:5]
        parts.append(f"{label} ({', '.join(shown)})")
    raise ValueError(
        f"X has categories not seen in fit in the column(s) {'; '.join(parts)}. "
        + remedy
    )


def check_numbers_only(X, name):
    """Raise a ValueError pointing to the table models when X holds text.

    For the models of numbers only (``GaussianMixture``): a DataFrame with
    categorical, boolean or text columns, or an array of strings, would
    otherwise fail deep in validation on its first string.
    """
    if is_table(X):
        columns = [str(c) for c, dtype in zip(X.columns, X.dtypes, strict=True)
                   if column_kind_from_dtype(dtype) not in ("integer", "continuous")]
        found = f"the columns {columns} are not numbers"
    elif is_dataframe(X) or not isinstance(X, (list, tuple, np.ndarray)):
        return
    else:
        array = np.asarray(X)
        if array.dtype.kind not in "OUS":
            return
        try:
            array.astype(np.float64)
            return
        except ValueError:  # a string that is not a number
            found = "X holds strings"
        except TypeError:  # other objects: validation says what it expects
            return
    raise ValueError(
        f"{name} models numbers only, and {found}. For a table of numbers and "
        "categories use skgen.TabularMixture (or the VAE or GAN, which take "
        "tables); or encode the categories as numbers first, e.g. with "
        "skgen.preprocessing.TableEncoder or OneHotEncoder in a Pipeline."
    )
