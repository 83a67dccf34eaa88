"""Passes: one E-step and its statistics, batch EM, and inference passes.

Each function composes a family (``families``) with a source
(``sources``): :func:`em_pass` streams a source's chunks through a family,
with bounded memory, and :func:`run_em` alternates passes and M-steps.
Chunks are shared among worker threads by
:func:`~skgen.utils._threads.map_chunks`.
"""

import functools
import math
import threading

import torch

from skgen.mixture._engine.conditional import expected_statistics
from skgen.mixture._engine.families import Workspace, gaussian_family
from skgen.mixture._engine.sources import add_results
from skgen.utils._threads import map_chunks

__all__ = [
    "em_pass",
    "em_pass_with_gaps",
    "log_prob_chunks",
    "normalise_",
    "run_em",
    "squared_distance_sum",
    "stats_of_responsibilities",
]


def normalise_(log_prob):
    """Log-normaliser and responsibilities of ``log_prob`` (n_components, n).

    A log-sum-exp over components, written out because torch's own takes
    exp of terms far below the maximum, whose underflowing results crawl
    through the CPU.  Log-ratios are floored at log(sqrt(tiny)) of the dtype,
    -43.7 in float32 and -354 in float64: a responsibility of 1e-19 (or
    1e-154) instead of less changes nothing at the precision of the dtype,
    and the products that take the responsibilities next meet no denormals.
    ``log_prob`` is overwritten by the responsibilities.
    """
    log_floor = 0.5 * math.log(torch.finfo(log_prob.dtype).tiny)
    log_max = log_prob.amax(0)
    resp = log_prob.sub_(log_max).clamp_(min=log_floor).exp_()
    total = resp.sum(0)
    resp.div_(total)
    return total.log_().add_(log_max), resp


def _sum_over_chunks(one_chunk, chunks, device, nothing):
    """``one_chunk`` of every chunk (see ``map_chunks``), added in chunk order.

    ``nothing()`` is the sum over no chunk.
    """
    results = map_chunks(one_chunk, chunks, device)
    return functools.reduce(add_results, results) if results else nothing()


def em_pass(family, frame, source):
    """One fused E- and M-step pass: ``(stats, total weighted log-likelihood)``."""
    takes_workspace = getattr(family, "takes_workspace", False)
    local = threading.local()

    def one_chunk(chunk):
        _, x, w = chunk
        stats = family.new_stats(frame)
        if takes_workspace:
            workspace = getattr(local, "workspace", None)
            if workspace is None:
                workspace = local.workspace = Workspace()
            z = family.whiten(frame, x, workspace)
            log_norm, resp = normalise_(family.log_prob(frame, z, workspace))
        else:
            z = family.whiten(frame, x)
            log_norm, resp = normalise_(family.log_prob(frame, z))
        if w is not None:
            log_norm = log_norm * w
            resp.mul_(w)
        family.accumulate_(stats, z, resp)
        return stats, log_norm.sum(dtype=torch.float64)

    def nothing():
        zero = torch.zeros((), dtype=torch.float64, device=source.X.device)
        return family.new_stats(frame), zero

    return _sum_over_chunks(one_chunk, source, source.X.device, nothing)


def em_pass_with_gaps(family, frame, mixture, source):
    """:func:`em_pass` over rows that may have missing entries (NaN).

    The complete rows run through the family's pass; the rows with gaps add
    their expected statistics given their observed entries, computed by
    :func:`~skgen.mixture._engine.conditional.expected_statistics` under
    ``mixture``, a fitted Gaussian mixture holding the frame's parameters.
    ``family`` must be a :class:`WhitenedGaussianFamily` (it takes the raw
    moments of those rows, see ``add_moments_``).
    """
    complete, X_gaps, w_gaps = source.gap_split()
    stats, log_lik = em_pass(family, frame, complete)
    if X_gaps.shape[0] == 0:
        return stats, log_lik
    diagonal = family.covariance_type in ("diag", "spherical")
    gap_log_lik, nk, first, second = expected_statistics(
        mixture, X_gaps, w_gaps, diagonal=diagonal
    )
    device = stats["nk"].device

    def as_stat(a):
        return torch.as_tensor(a, dtype=torch.float64, device=device)

    second = as_stat(second)
    if diagonal:  # add_moments_ reads the diagonals of (k, d, d) moments
        second = torch.diag_embed(second)
    family.add_moments_(stats, frame, as_stat(nk), as_stat(first), second)
    return stats, log_lik + gap_log_lik


def run_em(e_step, m_step, params, *, max_iter, tol, lower_bound=-math.inf,
           on_iteration=None):
    """Batch EM: E-steps and M-steps until the lower bound settles.

    ``e_step(params)`` returns ``(state, lower_bound)``: what the M-step
    reads (the pass's statistics, with its family and frame) and the mean
    log-likelihood under ``params``; it raises on a non-finite one.
    ``m_step(state)`` returns the next parameters.  EM stops when the lower
    bound moves by less than ``tol`` or after ``max_iter`` iterations;
    ``on_iteration(n_iter, change)`` is called after each.  Returns
    ``(params, lower_bounds, n_iter, converged)``.
    """
    lower_bounds = []
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        state, bound = e_step(params)
        params = m_step(state)
        change = bound - lower_bound
        lower_bound = bound
        lower_bounds.append(bound)
        if on_iteration is not None:
            on_iteration(n_iter, change)
        if abs(change) < tol:
            converged = True
            break
    return params, lower_bounds, n_iter, converged


def stats_of_responsibilities(family, frame, source, resp):
    """The statistics of given responsibilities ``resp`` (k, n), in ``frame``."""
    def one_chunk(chunk):
        rows, x, w = chunk
        r = resp[:, rows]
        if w is not None:
            r = r * w
        return family.accumulate_(family.new_stats(frame), family.whiten(frame, x), r)

    return _sum_over_chunks(
        one_chunk, source, source.X.device, lambda: family.new_stats(frame)
    )


def squared_distance_sum(X, sample_weight, shift):
    """Weighted sum of the squared distances of the rows to ``shift``, in float64."""
    chunk = 8192

    def one_chunk(start):
        rows = X[start : start + chunk].to(torch.float64) - shift
        squared = (rows**2).sum(1)
        if sample_weight is not None:
            squared = squared * sample_weight[start : start + chunk]
        return squared.sum()

    return _sum_over_chunks(
        one_chunk, range(0, X.shape[0], chunk), X.device,
        lambda: torch.zeros((), dtype=torch.float64, device=X.device),
    )


def log_prob_chunks(covariance_type, params, source, func):
    """``func(rows, log w_k N(x | k))`` for each chunk, the second of shape (k, n).

    The chunks are shared out by :func:`~skgen.utils._threads.map_chunks`;
    the results come back in the chunks' order.
    """
    # Any centre is exact; the mixture's mean keeps the inputs small.
    shift = params["weights"] @ params["means"]
    X = source.X
    spread = float(squared_distance_sum(X, None, shift)) / max(X.shape[0], 1)
    family = gaussian_family(covariance_type, 0.0, params, shift, spread, X.dtype)
    frame = family.frame(params, shift, X.dtype)

    def one_chunk(chunk):
        rows, x, _ = chunk
        return func(rows, family.log_prob(frame, family.whiten(frame, x)))

    return map_chunks(one_chunk, source, X.device)
