"""The EM engine of skgen's mixtures: families, sources and passes.

It imports no estimator.  ``families`` turn chunks into statistics and
statistics into parameters; ``sources`` give the chunks (in memory, or the
blocks of a Dask collection); ``passes`` compose them (the E-step, batch
EM, scoring); ``conditional`` answers rows with missing entries from their
observed ones (expected statistics, imputation, conditional draws).

EM is split along two independent axes:

* a *family* says how a chunk of rows becomes per-component log-densities and
  sufficient statistics, and how summed statistics become parameters (here
  the Gaussian of each covariance type, in two numerical forms);
* a *source* says where the chunks come from (an in-memory tensor cut into
  row chunks sized from ``working_memory``, or the blocks of a Dask
  collection).

:func:`em_pass` composes them: one E-step and the statistics of the M-step in
a single streaming pass, with bounded memory.  A source runs a pass through
its ``map_reduce`` method: an in-memory source is one block; a Dask source
runs the same pass on each of its blocks, on the workers, and adds the
results up with :func:`add_results`.

Numerics.  Two forms compute the same Gaussian pass.  The expanded form
(:class:`ExpandedGaussianFamily`) writes the log-density as one GEMM on the
feature map ``[x x^T, x, 1]`` and is the fastest; it cancels when a
component is narrow compared with its distance to the data's mean, as
``E[x x^T] - mu mu^T`` does.  :func:`gaussian_family` bounds that loss for
each pass and switches to the whitened form when it would exceed 1e-4
relative.  In the whitened form (:class:`WhitenedGaussianFamily`) each row
is whitened per component, ``z_k = (x - mu_k) U_k`` with
``U_k`` the upper Cholesky factor of the precision, as scikit-learn does, so
that the log-density is ``-0.5 |z_k|^2`` plus a constant.  The statistics are
gathered in the same whitened frame, ``(sum r, sum r z, sum r z z^T)`` per
component, and mapped back to the data's units in float64 at the M-step.  A
row that a component explains has ``|z_k|`` of order one whatever its
distance to the origin, so float32 keeps its precision on tight clusters far
from the data's mean; the expanded form ``E[x x^T] - mu mu^T`` would lose it
as the square of (distance / standard deviation).  The arithmetic on a chunk
runs in the input's dtype; each chunk's statistics are added into float64
totals, and the M-step runs in float64.
"""
