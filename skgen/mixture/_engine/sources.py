"""Sources: where the chunks of a pass come from.

A source has ``width`` (the columns of its chunks), ``device`` and
``resized(row_width)`` (the same rows in chunks for another working space),
and runs a pass through ``map_reduce(func, *args)``: the sum of
``func(*args, block_source)`` over its blocks.  An in-memory source also
has ``X``, ``sample_weight`` and yields ``(rows, x, w)`` chunks.  Data in
memory are one block (:class:`TensorSource`); ``skgen.mixture._dask`` and
``skgen.mixture._dask_tables`` give the blocks of Dask collections, each
block a :class:`TensorSource` on its worker.
"""

import numpy as np
import torch
from sklearn import get_config

__all__ = ["RowSource", "TensorSource", "add_results"]


# On the CPU a chunk is kept within _CPU_CHUNK_BYTES of working space, and
# the data are cut into at least _CPU_MIN_CHUNKS chunks, so that the worker
# threads of a pass can share them out, of at least _CPU_MIN_CHUNK_ROWS and
# at most _CPU_MAX_CHUNK_ROWS rows: each chunk costs a fixed overhead per
# operation, which many small chunks would pay again and again.
_CPU_CHUNK_BYTES = 32 * 2**20
_CPU_MIN_CHUNKS = 8
_CPU_MIN_CHUNK_ROWS = 4096
_CPU_MAX_CHUNK_ROWS = 65536


class RowSource:
    """What every source of rows answers from its 2-D ``X``: rows and columns.

    A source also has ``device``, ``map_reduce(func, *args)`` (the sum of
    ``func(*args, chunk)`` over its chunks) and ``resized(row_width)``.
    """

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def width(self):
        """The number of columns of a chunk."""
        return self.X.shape[1]


class TensorSource(RowSource):
    """Row chunks of an in-memory tensor, with their sample weights.

    The chunk size follows ``working_memory``, counting ``row_width``
    elements of working space per row; on the CPU it is also bounded so
    that the pass's worker threads have chunks to share (see the constants
    above).  It depends on the data alone, never on the number of threads,
    so that the sums of a pass have the same bits with any number.
    """

    def __init__(self, X, sample_weight=None, row_width=None):
        self.X = X
        self.sample_weight = sample_weight
        self._gap_split = None
        n_features = X.shape[1]
        row_bytes = (row_width or n_features) * X.element_size()
        budget = get_config()["working_memory"] * 2**20
        if X.device.type == "cpu":
            share = max(-(-X.shape[0] // _CPU_MIN_CHUNKS), _CPU_MIN_CHUNK_ROWS)
            rows = min(min(budget, _CPU_CHUNK_BYTES) // row_bytes, share)
            self.chunk_rows = int(min(max(rows, 16), _CPU_MAX_CHUNK_ROWS))
        else:
            self.chunk_rows = int(max(budget // row_bytes, 16))

    @property
    def device(self):
        return self.X.device

    def resized(self, row_width):
        """The same rows, cut into chunks for ``row_width``."""
        return TensorSource(self.X, self.sample_weight, row_width=row_width)

    def __iter__(self):
        """Yield ``(rows, x, w)``: a slice, its rows and their weights or None."""
        n_samples = self.X.shape[0]
        for start in range(0, n_samples, self.chunk_rows):
            rows = slice(start, min(start + self.chunk_rows, n_samples))
            w = None if self.sample_weight is None else self.sample_weight[rows]
            yield rows, self.X[rows], w

    def map_reduce(self, func, *args):
        """``func(*args, self)``: data in memory are a single block."""
        return func(*args, self)

    def gap_split(self):
        """``(complete, X_gaps, w_gaps)``: the rows without and with NaN.

        ``complete`` is a source of the rows without a missing entry, cut
        into chunks of the same size; ``X_gaps`` (float64, numpy) and
        ``w_gaps`` (or None) are the other rows and their weights.  Computed
        once per source: EM reads the split at every iteration.
        """
        if self._gap_split is None:
            missing = torch.isnan(self.X).any(1)
            if not bool(missing.any()):
                self._gap_split = (self, self.X[:0].cpu().numpy(), None)
            else:
                complete = ~missing
                w = self.sample_weight
                rows = TensorSource(
                    self.X[complete].contiguous(),
                    None if w is None else w[complete].contiguous(),
                )
                rows.chunk_rows = self.chunk_rows
                X_gaps = self.X[missing].cpu().numpy().astype(np.float64)
                w_gaps = None if w is None else w[missing].cpu().numpy()
                self._gap_split = (rows, X_gaps, w_gaps)
        return self._gap_split


def add_results(a, b):
    """The sum of two blocks' results: tensors, numbers, or dicts and tuples of them.

    Statistics and log-likelihoods are sums over rows, so the result of a
    whole data set is the sum of its blocks' results, in any grouping.
    """
    if isinstance(a, dict):
        return {key: add_results(a[key], b[key]) for key in a}
    if isinstance(a, tuple):
        return tuple(add_results(x, y) for x, y in zip(a, b, strict=True))
    return a + b
