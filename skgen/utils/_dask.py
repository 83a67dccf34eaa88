"""Dask helpers shared by the mixtures and the neural models.

Nothing here imports Dask at module level: a Dask collection cannot exist
unless Dask has been imported, so :func:`is_dask_collection` asks
``sys.modules`` first, and the other helpers are only reached with one.
"""

import math
import sys
from functools import reduce
from numbers import Integral

import numpy as np
from sklearn.utils.validation import validate_data

from skgen.utils._missing import is_nan_marker

__all__ = [
    "as_dask_array",
    "is_dask_collection",
    "is_dask_dataframe",
    "map_reduce_blocks",
    "num_samples",
    "tree_reduce",
]

# Partial results merged per task of a reduction tree.
_FAN_IN = 8


def is_dask_collection(X):
    """Whether X is a Dask collection, without importing Dask."""
    if "dask" not in sys.modules:
        return False
    import dask

    return dask.is_dask_collection(X)


def is_dask_dataframe(X):
    """Whether X is a Dask DataFrame (False where dask.dataframe is missing)."""
    if "dask" not in sys.modules:
        return False
    try:
        import dask.dataframe as dd
    except ImportError:  # dask[dataframe] is not installed
        return False
    return isinstance(X, dd.DataFrame)


def num_samples(X):
    """The number of rows of X; computes a Dask DataFrame's lazy row count."""
    n_samples = X.shape[0] if hasattr(X, "shape") else None
    return n_samples if isinstance(n_samples, Integral) else len(X)


def tree_reduce(parts, combine):
    """One Delayed from many, combined ``_FAN_IN`` at a time on the cluster."""
    import dask

    while len(parts) > 1:
        parts = [
            dask.delayed(_combine, pure=True)(combine, parts[i : i + _FAN_IN])
            for i in range(0, len(parts), _FAN_IN)
        ]
    return parts[0]


def _combine(combine, group):
    return reduce(combine, group)


def map_reduce_blocks(func, args, blocks, combine, compute=True):
    """``combine`` of ``func(args, *block)`` over the blocks, on the cluster.

    ``args`` go into the graph once, as one object, whatever the number of
    blocks; each ``block`` is a tuple of Delayed objects and plain values.
    The results are combined in a tree (:func:`tree_reduce`), so only their
    total comes back; with ``compute=False`` the total stays lazy, to be
    computed with others in one pass over the data.
    """
    import dask

    shared = dask.delayed(args, traverse=False)
    parts = [dask.delayed(func, pure=True)(shared, *block) for block in blocks]
    total = tree_reduce(parts, combine)
    return dask.compute(total)[0] if compute else total


def as_dask_array(estimator, X, reset):
    """X as a 2-D float Dask array of known chunks, one chunk across columns.

    Checks the number of features (and the feature names of a DataFrame)
    against the fit as scikit-learn's ``validate_data`` does.  A DataFrame is
    converted with ``to_dask_array(lengths=True)``, which computes the
    length of its partitions.  Blocks that split the columns are joined
    (``rechunk({1: -1})``): each block must hold whole rows.
    """
    import dask.array as da

    name = type(estimator).__name__
    marker = getattr(estimator, "missing_values", np.nan)
    if not is_nan_marker(marker):
        raise ValueError(
            f"missing_values={marker!r}: on a Dask collection missing entries are "
            "marked by NaN only. Replace the marker with NaN (e.g. "
            "X.mask(X == marker)), or set missing_values=np.nan."
        )
    from_dataframe = is_dask_dataframe(X)
    if from_dataframe:
        # The empty pandas frame that describes the partitions carries the
        # column names, which scikit-learn reads from pandas, not from Dask.
        validate_data(estimator, X._meta, skip_check_array=True, reset=reset)
        X = X.to_dask_array(lengths=True)
    elif not isinstance(X, da.Array):
        raise TypeError(
            f"{type(X).__name__} is not supported: pass a dask.array.Array or a "
            "dask.dataframe.DataFrame, or compute the collection first."
        )
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2D Dask array, got {X.ndim}D with shape {X.shape} "
            "instead. Reshape your data, e.g. with X.reshape(-1, 1) for a "
            "single feature."
        )
    if any(math.isnan(size) for sizes in X.chunks for size in sizes):
        raise ValueError(
            "X is a Dask array with unknown chunk sizes (NaN in X.chunks), as "
            "after boolean indexing or DataFrame.to_dask_array() without "
            "lengths. Call X.compute_chunk_sizes() first, or convert a Dask "
            "DataFrame with df.to_dask_array(lengths=True)."
        )
    if X.dtype.kind not in "fiub":
        raise ValueError(
            f"X has dtype {X.dtype}, which is not numeric. {name} needs "
            "numbers here: convert or encode the columns first (mixed column "
            "types in a Dask DataFrame give an object array)."
        )
    if not from_dataframe:
        validate_data(estimator, X, skip_check_array=True, reset=reset)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    return X
