"""How ``TableEncoder`` reads a table: its columns, their kinds and labels.

The columns come as a list of 1-d arrays or Series (times as counts of their
unit, see ``_time``), checked against the fit, with the dependent columns of
the kept relations left out; each column's kind comes from its dtype or from
``categorical_features``.
"""

import numbers

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import _check_feature_names, _check_n_features

from skgen.preprocessing._declared import declared_relations, split_relations
from skgen.preprocessing._relations import Relations
from skgen.preprocessing._table_input import column_kind_from_dtype, is_dataframe
from skgen.preprocessing._time import TimeColumn, is_time_dtype

__all__ = ["ColumnReader"]


class ColumnReader:
    """The column-reading half of :class:`~skgen.preprocessing.TableEncoder`."""

    def _columns(self, X, reset):
        """The table's columns as a list of 1-d arrays or Series.

        Validates the feature count and names against the fit.
        """
        _check_feature_names(self, X, reset=reset)
        if is_dataframe(X):
            if X.shape[1] == 0:
                raise ValueError(
                    f"0 feature(s) (shape={X.shape}) while a minimum of 1 is required."
                )
            _check_n_features(self, X, reset=reset)
            return self._free_columns(self._split(X, reset), X, reset)
        given = self.categorical_features
        any_selected = not (isinstance(given, str) or given is None) and bool(
            np.asarray(given).size
        )
        if not reset and hasattr(X, "shape") and len(X.shape) == 2:
            _check_n_features(self, X, reset=False)
        # Without categorical columns an array must be numeric, as in
        # scikit-learn; with them, each column is checked by its kind.
        X = check_array(
            X,
            dtype=None if any_selected else "numeric",
            ensure_all_finite=False,
            ensure_min_samples=1,
        )
        _check_n_features(self, X, reset=reset)
        return self._free_columns([X[:, j] for j in range(X.shape[1])], X, reset)

    def _free_columns(self, columns, X, reset):
        """The columns the encoder models: all, or the relations' free ones.

        A missing source is filled from its target where it can be.
        """
        if reset:
            self._relations = None
        if self._relations is None:
            return columns
        values = self._relations.infer_sources(self._values(columns, X))
        return [values[j] for j in self._relations.free]

    def _values(self, columns, X):
        """Every column of X as numbers (NaN missing) or objects, by kind."""
        labels = self._all_labels(X, len(columns))
        return [
            np.asarray(c, dtype=object) if kind == "categorical"
            else self._numeric_values(c, label)
            for c, kind, label in zip(columns, self._all_kinds, labels, strict=True)
        ]

    def _find_relations(self, X, columns, kinds, given=None):
        """Keep the relations among the training columns; the free ones back.

        ``given`` (a list of relations) replaces the declared and found ones.
        """
        self._all_kinds = kinds
        self._all_dtypes = [getattr(c, "dtype", None) for c in columns]
        self.relations_ = []
        specs, find = split_relations(self.relations)
        if given is not None:
            specs, find = [], False
        elif not specs and not find:
            return columns, kinds
        values = self._values(columns, X)
        labels = self._all_labels(X, len(columns))
        names = list(X.columns) if is_dataframe(X) else None
        items = list(given or declared_relations(specs, values, kinds, names, labels))
        if find:
            # the declared targets are not modelled, their sources stay free
            targets = {r.target for r in items}
            numeric = [j for j, kind in enumerate(kinds)
                       if kind != "categorical" and j not in targets]
            categorical = [j for j, kind in enumerate(kinds)
                           if kind == "categorical" and j not in targets]
            sources = {j for r in items for j in r.sources}
            items += Relations.find(values, numeric, categorical, sources).items
        if not items:
            return columns, kinds
        found = Relations(items, len(columns))
        self._relations = found
        self.relations_ = [r.describe(labels) for r in found.items]
        return [columns[j] for j in found.free], kinds[found.free]

    def _kinds(self, X, columns):
        names = list(X.columns) if is_dataframe(X) else None
        labels = self._labels(X, len(columns))
        selected = (
            None
            if isinstance(self.categorical_features, str)
            else _selected_columns(self.categorical_features, names, len(columns))
        )
        kinds = []
        for j, column in enumerate(columns):
            dtype = column.dtype
            if selected is not None and selected[j]:
                kind = "categorical"
            elif names is None:
                kind = "integer" if dtype.kind in "iub" else "continuous"
                if dtype.kind not in "fiubO":
                    kind = self._not_numeric(labels[j], dtype)
                elif dtype.kind == "O":
                    self._numeric_values(column, labels[j])
            else:
                kind = column_kind_from_dtype(dtype)
                if kind is None:
                    raise TypeError(
                        f"Column {labels[j]} has the dtype {dtype}, which skgen "
                        "cannot model (complex numbers, intervals and nested "
                        "objects are not supported). Convert it to numbers or to "
                        "a categorical dtype, or drop it."
                    )
                if selected is not None and kind == "categorical":
                    kind = self._not_numeric(labels[j], dtype)
            kinds.append(kind)
        return np.asarray(kinds, dtype=object)

    @staticmethod
    def _not_numeric(label, dtype):
        raise TypeError(
            f"Column {label} is not numeric (dtype {dtype}) and not listed in "
            "categorical_features. List it there, or use "
            "categorical_features='from_dtype' with a DataFrame."
        )

    def _labels(self, X, n_features):
        """The labels of the encoded columns (``n_features`` of them)."""
        if getattr(self, "_relations", None) is None:
            return self._all_labels(X, n_features)
        labels = self._all_labels(X, self.n_features_in_)
        return [labels[j] for j in self._relations.free]

    @staticmethod
    def _all_labels(X, n_features):
        if is_dataframe(X):
            return [repr(name) for name in X.columns]
        return [f"at index {j}" for j in range(n_features)]

    @staticmethod
    def _numeric_values(column, label):
        try:
            if hasattr(column, "to_numpy"):  # pandas, nullable dtypes too
                return column.to_numpy(dtype=np.float64, na_value=np.nan)
            return np.asarray(column, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Column {label} must be numeric: {exc}. Give it a numeric dtype, "
                "or list it in categorical_features."
            ) from exc

    def _checked_numeric(self, column, label):
        """A numeric column as float64, NaN where missing (if allowed)."""
        values = self._numeric_values(column, label)
        if np.isinf(values).any():
            raise ValueError(
                f"Column {label} has infinite values. Replace them, or drop the "
                "rows."
            )
        if not self.allow_missing and np.isnan(values).any():
            raise ValueError(
                f"Column {label} has missing values (NaN). This model takes none: "
                "impute them first (for example with skgen.GenerativeImputer), or "
                "drop the rows."
            )
        return values

    def _categorical_values(self, column, label):
        """A categorical column as objects, and its mask of missing entries."""
        import pandas as pd

        values = np.asarray(column, dtype=object)
        missing = np.asarray(pd.isna(values), dtype=bool)
        if missing.any() and not self.allow_missing:
            raise ValueError(
                f"Column {label} has missing categories. This model takes none: "
                "fill them (for example with a category of their own), or drop "
                "the rows."
            )
        return values, missing

    @staticmethod
    def _levels(column, values):
        """Levels seen in fit, in the categorical dtype's order when it has one."""
        import pandas as pd

        present = pd.unique(values)
        dtype = getattr(column, "dtype", None)
        if isinstance(dtype, pd.CategoricalDtype):
            order = [c for c in dtype.categories if c in set(present)]
            return np.asarray(order, dtype=object)
        try:
            return np.asarray(sorted(present), dtype=object)
        except TypeError:  # mixed types: keep the order of appearance
            return np.asarray(present, dtype=object)

    def _split(self, X, reset=False):
        """Every column of X, times as counts of their unit (see ``_time``)."""
        if not is_dataframe(X):
            if reset:
                self._times = {}
            X = check_array(X, dtype=None, ensure_all_finite=False)
            return [X[:, j] for j in range(X.shape[1])]
        columns = [X.iloc[:, j] for j in range(X.shape[1])]
        if reset:
            self._times = {j: TimeColumn(c) for j, c in enumerate(columns)
                           if is_time_dtype(c.dtype)}
        times = getattr(self, "_times", {})  # none when fitted on an array
        return [times[j].to_counts(c) if j in times else c
                for j, c in enumerate(columns)]


def _selected_columns(categorical_features, names, n_features):
    """Boolean mask of the columns named by ``categorical_features``."""
    mask = np.zeros(n_features, dtype=bool)
    if categorical_features is None:
        return mask
    selected = np.asarray(categorical_features)
    if selected.size == 0:
        return mask
    if selected.dtype == bool:
        if selected.shape != (n_features,):
            raise ValueError(
                f"categorical_features as a boolean mask must have one entry per "
                f"column ({n_features}), got shape {selected.shape}."
            )
        return selected.copy()
    for item in selected.ravel():
        if isinstance(item, str):
            if names is None or item not in list(names):
                raise ValueError(
                    f"categorical_features names the column {item!r}, which is not "
                    "in the data. Pass names that are columns of the DataFrame, or "
                    "column indices."
                )
            mask[list(names).index(item)] = True
        elif isinstance(item, numbers.Integral):
            if not -n_features <= item < n_features:
                raise ValueError(
                    f"categorical_features has the index {item}, out of range for "
                    f"{n_features} columns."
                )
            mask[item] = True
        else:
            raise TypeError(
                "categorical_features must be 'from_dtype', None, a boolean mask, "
                f"or a list of column indices or names; got the entry {item!r}."
            )
    return mask
