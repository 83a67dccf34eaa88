"""Dask for the EM engine: a source of blocks, and lazy inference.

Only imported when a Dask collection meets a mixture, so that ``import
skgen`` never imports Dask.

A :class:`DaskSource` is the blocks of a Dask array whose blocks span all the
columns.  Its ``map_reduce`` runs the engine's own functions
(:func:`~skgen.mixture._engine.passes.em_pass` and the data's moments) on each block,
where the block lies, each block wrapped in the in-memory
:class:`~skgen.mixture._engine.sources.TensorSource`; the per-block results (a few
float64 tensors) are added up in a tree on the cluster, and only their sum
comes back.  What travels to the workers is the pass's frame: parameters,
never data.

The initialisation draws from a uniform random sample of at most
``max(10_000, 50 * n_components)`` rows of positive weight, gathered by
keeping the rows of smallest random keys block by block, then over the
blocks.  When the data have no more rows than that, all of them are
gathered in order and the initialisation is the in-memory one.
"""

import math
from functools import partial
from numbers import Integral

import dask
import dask.array as da
import numpy as np
import torch
from dask.utils import parse_bytes
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from skgen.mixture._base import FitData, restored_on_failure, weighted_sum
from skgen.mixture._engine.families import row_width
from skgen.mixture._engine.passes import squared_distance_sum
from skgen.mixture._engine.sources import RowSource, TensorSource, add_results
from skgen.utils._dask import (
    as_dask_array,
    is_dask_dataframe,
    map_reduce_blocks,
    tree_reduce,
)
from skgen.utils._missing import check_gap_counts
from skgen.utils._torch import as_tensor

__all__ = [
    "DaskSource",
    "map_blocks",
    "partial_fit_blocks",
    "prepare_fit",
    "sample_dask",
]

# The initialisation's sample: at least this many rows, and this many per
# component.
_INIT_SAMPLE_ROWS = 10_000
_INIT_ROWS_PER_COMPONENT = 50
# ----------------------------------------------------------------- source


class DaskSource(RowSource):
    """The row blocks of a Dask array, with their sample weights.

    ``X`` is a 2-D Dask array of known chunk sizes and a single chunk along
    the columns; ``sample_weight`` is None or a 1-D Dask array chunked like
    X's rows.  Each block becomes a :class:`~skgen.mixture._engine.sources.TensorSource`
    on the worker that holds it, cut into chunks as in memory.
    """

    def __init__(self, X, sample_weight=None, row_width=None):
        self.X = X
        self.sample_weight = sample_weight
        self.row_width = row_width

    device = torch.device("cpu")

    def resized(self, row_width):
        """The same blocks, cut into chunks for ``row_width``."""
        return DaskSource(self.X, self.sample_weight, row_width=row_width)

    def blocks(self):
        """Delayed ``(x, w)`` of each row block; ``w`` is None without weights."""
        x_blocks = self.X.to_delayed().ravel()
        if self.sample_weight is None:
            return [(x, None) for x in x_blocks]
        w_blocks = self.sample_weight.to_delayed().ravel()
        return list(zip(x_blocks, w_blocks, strict=True))

    def map_reduce(self, func, *args, compute=True):
        """The sum over blocks of ``func(*args, block_source)``.

        ``args`` go into the graph once, as one object, whichever the number
        of blocks.  With ``compute=False`` the lazy (Delayed) sum is returned,
        to be computed with others in one pass over the data.
        """
        return map_reduce_blocks(
            partial(_on_block, func, self.row_width), args, self.blocks(),
            add_results, compute=compute,
        )

    def sample_rows(self, n_rows, seed):
        """Lazy ``(x, w)``: a uniform sample of at most n_rows rows, w > 0.

        Every row of positive weight gets a random key, from a generator
        seeded by ``seed`` and the block's index; each block keeps the rows
        of its n_rows smallest keys, and the tree keeps the n_rows smallest
        of all: a sample without replacement in which every subset of
        n_rows rows is equally likely.
        """
        parts = [
            dask.delayed(_block_sample, pure=True)(x, w, n_rows, seed, index)
            for index, (x, w) in enumerate(self.blocks())
        ]
        return dask.delayed(_drop_keys)(
            tree_reduce(parts, partial(_smallest_keys, n_rows=n_rows))
        )


def _on_block(func, width, args, x, w):
    """``func(*args, source)`` with the block as an in-memory source."""
    x = as_tensor(np.asarray(x), "cpu")
    w = None if w is None else as_tensor(np.asarray(w), "cpu")
    return func(*args, TensorSource(x, w, row_width=width))


def _block_sample(x, w, n_rows, seed, index):
    rng = np.random.default_rng([seed, index])
    keys = rng.random(x.shape[0])
    if w is not None:
        keys[~(w > 0)] = np.inf
    n_keep = min(n_rows, int(np.isfinite(keys).sum()))
    keep = np.argpartition(keys, n_keep - 1)[:n_keep] if n_keep else keys[:0]
    keep = keep.astype(np.intp)
    return keys[keep], x[keep], None if w is None else w[keep]


def _smallest_keys(a, b, n_rows):
    keys = np.concatenate([a[0], b[0]])
    x = np.concatenate([a[1], b[1]])
    w = None if a[2] is None else np.concatenate([a[2], b[2]])
    if keys.shape[0] > n_rows:
        keep = np.argpartition(keys, n_rows - 1)[:n_rows]
        keys, x = keys[keep], x[keep]
        w = None if w is None else w[keep]
    return keys, x, w


def _drop_keys(sample):
    return sample[1], sample[2]


# ------------------------------------------------------------- validation


def _as_dask_weights(sample_weight, X):
    """sample_weight as a float Dask array chunked like X's rows, or None."""
    if sample_weight is None:
        return None
    if is_dask_dataframe(sample_weight) or hasattr(sample_weight, "to_dask_array"):
        sample_weight = sample_weight.to_dask_array(lengths=True)
    if not isinstance(sample_weight, da.Array):
        sample_weight = check_array(
            sample_weight, ensure_2d=False, dtype=X.dtype, ensure_all_finite=False
        )
        sample_weight = da.from_array(sample_weight, chunks=(X.chunks[0],))
    if any(math.isnan(size) for size in sample_weight.chunks[0]):
        raise ValueError(
            "sample_weight is a Dask array with unknown chunk sizes. Call "
            "sample_weight.compute_chunk_sizes() first."
        )
    if sample_weight.shape != (X.shape[0],):
        raise ValueError(
            f"sample_weight.shape == {sample_weight.shape}, expected "
            f"{(X.shape[0],)}!"
        )
    sample_weight = sample_weight.astype(X.dtype)
    if sample_weight.chunks[0] != X.chunks[0]:
        sample_weight = sample_weight.rechunk((X.chunks[0],))
    return sample_weight


# --------------------------------------------------------------------- fit


def prepare_fit(estimator, X, sample_weight, random_state, do_init):
    """Validate a Dask collection and gather what EM needs, lazily.

    Two passes over the data: the weighted sums and the checks (no infinity,
    no row or column without an observed entry, weights), then the spread
    about the mean together with the sample for the initialisation.  NaN
    marks a missing entry: then the passes split each block's rows with and
    without gaps, as in memory, and the initialisation draws from sampled
    rows whose gaps hold the columns' observed means.  Returns a
    ``FitData`` whose source is a :class:`DaskSource`.
    """
    if torch.device(estimator.device).type != "cpu":
        raise ValueError(
            f"device={estimator.device!r} applies to data in memory. With a Dask "
            "collection the EM runs on the workers' CPUs: use device='cpu', or "
            "compute X into memory to fit on the GPU."
        )
    X = as_dask_array(estimator, X, reset=True)
    n_samples, n_features = X.shape
    if n_samples < 2:
        raise ValueError(
            f"Found array with {n_samples} sample(s) (shape={X.shape}) while a "
            "minimum of 2 is required by GaussianMixture."
        )
    estimator._check_n_samples(n_samples)
    inits = estimator._checked_inits(n_features)
    sample_weight = _as_dask_weights(sample_weight, X)
    width = row_width(estimator.covariance_type, estimator.n_components, n_features)
    source = DaskSource(X, sample_weight, row_width=width)

    summary = source.map_reduce(_block_summary)
    if int(summary["infinite_x"]):
        raise ValueError(
            "Input X contains infinity. Replace it with a finite value, or with "
            "NaN to mark the entry as missing."
        )
    gaps = bool(int(summary["missing_x"]))
    if gaps:
        empty_columns = np.flatnonzero(summary["observed_count"].numpy() == 0)
        check_gap_counts(int(summary["empty_rows"]), (), empty_columns, "the mixture")
    if sample_weight is not None:
        if int(summary["nonfinite_w"]):
            raise ValueError("Input sample_weight contains NaN or infinity.")
        estimator._check_weight_counts(
            int(summary["negative_w"]), int(summary["positive_w"]),
            estimator.n_components,
        )
    total_weight = summary["weight"]
    # Rows and means are taken relative to the observed entries' mean.
    shift = summary["observed_first"] / summary["observed_weight"]

    # With gaps the passes take the whitened form, which needs no spread.
    lazy_spread = (dask.delayed(math.inf) if gaps else source.map_reduce(
        _squared_distance_block, shift, compute=False))
    need_rows = do_init and any(init is None for init in inits)
    n_rows = max(_INIT_SAMPLE_ROWS, _INIT_ROWS_PER_COMPONENT * estimator.n_components)
    if not need_rows:
        spread_sum = dask.compute(lazy_spread)[0]
        init_rows = None
    else:
        if n_samples <= n_rows:
            lazy_rows = (X, sample_weight)
        else:
            seed = int(random_state.randint(np.iinfo(np.int32).max))
            lazy_rows = source.sample_rows(n_rows, seed)
        spread_sum, (rows, rows_weight) = dask.compute(lazy_spread, lazy_rows)
        if gaps:  # the initialisation draws from rows filled with the means
            rows = np.where(np.isnan(rows), shift.numpy().astype(rows.dtype), rows)
        rows_tensor = as_tensor(rows, "cpu")
        weight_tensor = None if rows_weight is None else as_tensor(rows_weight, "cpu")
        init_source = TensorSource(rows_tensor, weight_tensor, row_width=width)
        init_total = float(weighted_sum(rows_tensor, weight_tensor)[0])
        init_rows = (rows, init_source, rows_weight, init_total)
    return FitData(
        source=source, dtype=X.dtype, device=torch.device("cpu"), shift=shift,
        spread=float(spread_sum / total_weight), total_weight=float(total_weight),
        inits=inits, init_rows=init_rows, gaps=gaps,
    )


def _block_summary(source):
    """A block's weighted sums and the counts that validate it."""
    x, w = source.X, source.sample_weight
    missing = torch.isnan(x)
    observed = (~missing).to(torch.float64)
    weight, first = weighted_sum(x.nan_to_num(0.0), w)
    row_weight = observed.new_ones(x.shape[0]) if w is None else w.to(torch.float64)
    summary = {
        "weight": weight,
        "observed_weight": row_weight @ observed,
        "observed_first": first,
        "observed_count": observed.sum(0),
        "infinite_x": torch.isinf(x).sum(),
        "missing_x": missing.sum(),
        "empty_rows": missing.all(1).sum(),
    }
    if w is not None:
        summary["nonfinite_w"] = (~torch.isfinite(w)).sum()
        summary["negative_w"] = (w < 0).sum()
        summary["positive_w"] = (w > 0).sum()
    return summary


def _squared_distance_block(shift, source):
    return squared_distance_sum(source.X, source.sample_weight, shift)


# --------------------------------------------------------------- inference

_OUTPUTS = {
    "score_samples": "_score_samples_array",
    "predict": "_predict_array",
    "predict_proba": "_predict_proba_array",
}


def map_blocks(estimator, method, X):
    """``estimator.method(X)`` as a lazy Dask array, computed block by block.

    Each block is validated (no infinity; NaN marks a missing entry) and
    answered on its worker by the in-memory method; a row's result does not
    depend on the other rows of its block.
    """
    X = as_dask_array(estimator, X, reset=False)
    if method == "predict":
        dtype, chunks = np.int64, (X.chunks[0],)
    elif method == "score_samples":
        dtype, chunks = X.dtype, (X.chunks[0],)
    else:
        dtype, chunks = X.dtype, (X.chunks[0], (estimator.n_components,))
    ndim = len(chunks)
    return da.map_blocks(
        _apply_to_block,
        X,
        estimator=estimator,
        method=_OUTPUTS[method],
        dtype=dtype,
        chunks=chunks,
        drop_axis=None if ndim == 2 else 1,
        meta=np.empty((0,) * ndim, dtype=dtype),
    )


def _apply_to_block(x, estimator, method):
    x = check_array(x, dtype=[np.float64, np.float32], ensure_min_samples=0,
                    ensure_all_finite="allow-nan")
    return getattr(estimator, method)(x)


# ------------------------------------------------------------ partial_fit


def partial_fit_blocks(estimator, X, sample_weight):
    """``estimator.partial_fit`` on each row block of X in turn, as batches.

    The collection is validated whole (feature count and names), then each
    block, with its weights, is computed and passed on; the client holds one
    block at a time.  A failure in a block leaves the model as the previous
    block left it (unfitted if it was the first).
    """
    with restored_on_failure(estimator):
        first = not hasattr(estimator, "converged_")
        X = as_dask_array(estimator, X, reset=first)
        sample_weight = _as_dask_weights(sample_weight, X)
        blocks = iter(DaskSource(X, sample_weight).blocks())
        if first:
            _partial_fit_block(estimator, *next(blocks))
    for x_block, w_block in blocks:
        _partial_fit_block(estimator, x_block, w_block)


def _partial_fit_block(estimator, x_block, w_block):
    x, w = dask.compute(x_block, w_block)
    first = not hasattr(estimator, "converged_")
    data = estimator._prepare_fit(x, w, reset=first, check_features=False)
    estimator._stepwise_update(data, first)


# ---------------------------------------------------------------- sampling


def sample_dask(estimator, n_samples, *, chunk_size="auto", random_state=None):
    """Draw many rows from a fitted mixture as lazy Dask collections.

    Each block of ``chunk_size`` rows is one task that calls the estimator's
    own ``sample`` with a generator of its own, seeded by a child of
    ``numpy.random.SeedSequence(random_state)``: the rows follow the law of
    ``estimator.sample``, no block needs another, and the same
    ``random_state`` and ``chunk_size`` give the same bits whatever the
    order in which the blocks are computed.  Nothing is drawn until the
    result is computed.

    Read more in the :ref:`User Guide <scale>`.

    Parameters
    ----------
    estimator : GaussianMixture or TabularMixture
        A fitted mixture.

    n_samples : int
        Number of rows, at least 1.

    chunk_size : int or "auto", default="auto"
        Rows per block. ``"auto"`` makes blocks of about Dask's
        ``array.chunk-size`` configuration (128 MiB by default).  Each block
        draws its own number of rows of each component, so the bits depend
        on the chunk size as well as on ``random_state``.

    random_state : int, RandomState instance or None, default=None
        Seed of the draws. None uses the estimator's ``random_state``; when
        that is None too, the seed comes from the operating system's entropy
        (different at every call).  A RandomState instance gives one number
        for the seed.  The global random state is never used.

    Returns
    -------
    X : dask.array.Array or dask.dataframe.DataFrame
        For a GaussianMixture, a Dask array of shape (n_samples,
        n_features) in the dtype of the model's ``means_``; within each
        block the rows are grouped by component, as ``sample`` returns
        them.  For a TabularMixture, what its ``sample`` returns, as a Dask
        DataFrame with a default integer index (a Dask array for a model
        fitted on an array).

    y : dask.array.Array of shape (n_samples,)
        For a GaussianMixture only: the component of each row.

    Examples
    --------
    >>> import numpy as np
    >>> from skgen.mixture import GaussianMixture, sample_dask
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> model = GaussianMixture(2, random_state=0).fit(X)
    >>> X_big, y_big = sample_dask(model, 1_000_000, chunk_size=250_000,
    ...                            random_state=0)
    >>> X_big.shape, X_big.numblocks
    ((1000000, 2), (4, 1))
    >>> X_big[:1000].compute().shape
    (1000, 2)
    """
    # Each mixture says how its blocks become one collection.
    blocks_of = getattr(estimator, "_sample_dask_blocks", None)
    if blocks_of is None:
        raise TypeError(
            f"sample_dask draws from a skgen GaussianMixture or TabularMixture, "
            f"got {type(estimator).__name__}. Call the estimator's own sample "
            "method instead."
        )
    check_is_fitted(estimator)
    if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or (
        n_samples < 1
    ):
        raise ValueError(
            f"Invalid value for 'n_samples': {n_samples!r}. The sampling requires "
            "at least one sample (an integer >= 1)."
        )
    n_features = estimator.n_features_in_
    if isinstance(chunk_size, str) and chunk_size == "auto":
        target = parse_bytes(dask.config.get("array.chunk-size"))
        chunk_size = max(1, target // (8 * n_features))
    elif isinstance(chunk_size, bool) or not isinstance(chunk_size, Integral) or (
        chunk_size < 1
    ):
        raise ValueError(
            f"Invalid value for 'chunk_size': {chunk_size!r}. Give the number of "
            "rows per block (an integer >= 1) or 'auto'."
        )
    chunk_size = int(min(chunk_size, n_samples))
    sizes = [chunk_size] * (n_samples // chunk_size)
    if n_samples % chunk_size:
        sizes.append(n_samples % chunk_size)
    seeds = [
        child.generate_state(4)
        for child in _seed_sequence(estimator, random_state).spawn(len(sizes))
    ]
    return blocks_of(sizes, seeds)


def _seed_sequence(estimator, random_state):
    """The SeedSequence of a call, never from numpy's global state."""
    if random_state is None:
        random_state = estimator.random_state
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, np.random.RandomState):
        return np.random.SeedSequence(
            random_state.randint(np.iinfo(np.int32).max, size=4)
        )
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(
                f"random_state={random_state!r}: a seed must be a non-negative "
                "integer."
            )
        return np.random.SeedSequence(int(random_state))
    raise ValueError(
        f"random_state={random_state!r} cannot be used to seed the draws: give "
        "an int, a numpy RandomState instance or None."
    )


def _block_generator(seed):
    # The estimators' sample methods take a RandomState; this one runs on
    # the block's own PCG64 stream.
    return np.random.RandomState(np.random.PCG64(seed))


def gaussian_sample_blocks(estimator, sizes, seeds):
    """A GaussianMixture's draws of ``sizes`` rows as ``(X, y)`` Dask arrays."""
    shared = dask.delayed(estimator, traverse=False)
    dtype = np.asarray(estimator.means_).dtype
    n_features = estimator.n_features_in_
    blocks = [
        dask.delayed(_gaussian_block, pure=True, nout=2)(shared, size, seed, dtype)
        for size, seed in zip(sizes, seeds, strict=True)
    ]
    X = da.concatenate([
        da.from_delayed(
            x, shape=(size, n_features), dtype=dtype,
            meta=np.empty((0, 0), dtype=dtype),
        )
        for (x, _), size in zip(blocks, sizes, strict=True)
    ])
    y = da.concatenate([
        da.from_delayed(
            labels, shape=(size,), dtype=np.int64, meta=np.empty(0, dtype=np.int64)
        )
        for (_, labels), size in zip(blocks, sizes, strict=True)
    ])
    return X, y


def _gaussian_block(estimator, size, seed, dtype):
    X, y = estimator.sample(size, random_state=_block_generator(seed))
    return X.astype(dtype, copy=False), y.astype(np.int64, copy=False)


def tabular_sample_blocks(estimator, sizes, seeds):
    """A TabularMixture's draws of ``sizes`` rows as a Dask DataFrame (or array)."""
    shared = dask.delayed(estimator, traverse=False)
    # The empty frame (or array) that describes every block: a one-row draw
    # from a fixed stream has the columns, dtypes and category sets.
    meta = estimator.sample(1, random_state=_block_generator(0))[:0]
    starts = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    blocks = [
        dask.delayed(_tabular_block, pure=True)(shared, size, seed, start)
        for size, seed, start in zip(sizes, seeds, starts[:-1], strict=True)
    ]
    if isinstance(meta, np.ndarray):
        return da.concatenate([
            da.from_delayed(
                block, shape=(size, meta.shape[1]), dtype=meta.dtype, meta=meta
            )
            for block, size in zip(blocks, sizes, strict=True)
        ])
    import dask.dataframe as dd

    divisions = (*starts[:-1], starts[-1] - 1)
    return dd.from_delayed(blocks, meta=meta, divisions=divisions)


def _tabular_block(estimator, size, seed, start):
    X = estimator.sample(size, random_state=_block_generator(seed))
    if not isinstance(X, np.ndarray):
        # The blocks' indexes continue one another, as in one large frame.
        X.index = range(start, start + size)
    return X
