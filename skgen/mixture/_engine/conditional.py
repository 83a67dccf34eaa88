"""Inference on a fitted Gaussian mixture from partly observed rows.

Every function here takes a fitted mixture (any object with ``weights_``,
``means_``, ``covariances_`` and ``covariance_type``, as
:class:`skgen.GaussianMixture` and :class:`sklearn.mixture.GaussianMixture`
have) and a batch of rows in which NaN marks the entries that are not known.
It answers, exactly and for the four covariance types:

* :func:`component_log_prob`: the log-density of each row's observed entries
  under each component, ``log N(x_obs; mu_k[obs], Sigma_k[obs, obs])``;
* :func:`estimate_log_prob_resp`: the E-step over the observed entries, the
  mixture's log-density of them and the posterior component probabilities;
  :func:`score_samples` and :func:`predict_proba` return one of the two;
* :func:`conditional_mean`: ``E[x_miss | x_obs]``, the mixture of the
  components' conditional means weighted by those posterior probabilities;
* :func:`sample_conditional`: draws from the exact conditional
  ``p(x_miss | x_obs)``, a component from the posterior, then its Gaussian
  conditional;
* :func:`expected_statistics`: the expected sufficient statistics that an
  EM step over the observed entries needs.

For a full or tied covariance, rows are grouped by missingness pattern.  A
pattern shared by many rows is answered from one factorisation: the
covariance permuted to (observed, missing) order and factorised by Cholesky,
``P Sigma P^T = L L^T``, so that ``L_oo`` is the Cholesky factor of the
observed block (for the log-density), ``L_mo`` maps the whitened observed
entries to the conditional mean, and ``L_mm`` is the Cholesky factor of the
conditional covariance (the Schur complement).  The other rows (most rows,
when many columns have gaps) are answered in precision form: only the
precision's block on the row's missing entries, c by c, is inverted per row
and component, all rows of a stack at once (:func:`_precision_block`).  Draws
use the factors of the first form.  Chunks of rows are sized from
``sklearn.get_config()["working_memory"]``.  Diagonal covariances need no
factorisation: the observed entries are independent given the component, and
the statistics of an EM step are matrix products over the rows.

A row with no observed entry conditions on nothing: its observed log-density
is 0 (the probability of observing nothing is one), its posterior is the
mixing weights, its conditional mean the mixture's mean, and its draws come
from the mixture itself.  The computation runs in float64 whatever the dtype
of the mixture's parameters.
"""

from numbers import Integral

import numpy as np
import torch
from sklearn import get_config
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from skgen.utils._random import check_generator

__all__ = [
    "component_log_prob",
    "conditional_mean",
    "estimate_log_prob_resp",
    "expected_statistics",
    "predict_proba",
    "sample_conditional",
    "score_samples",
]

_COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
_LOG_2PI = np.log(2.0 * np.pi)
_NOT_POSITIVE_DEFINITE = (
    "A covariance matrix of the mixture is not positive definite; refit it, "
    "or increase reg_covar."
)


# ---------------------------------------------------------------------------
# Parameters and input
# ---------------------------------------------------------------------------


class _Parameters:
    """The mixture's parameters in float64, in the layout the blocks use.

    ``covariances`` is (k, d, d) for 'full', (1, d, d) for 'tied' (one
    factorisation serves every component), and the variances (k, d) for
    'diag' and 'spherical'.
    """

    def __init__(self, mixture):
        check_is_fitted(mixture, ["weights_", "means_", "covariances_"])
        covariance_type = getattr(mixture, "covariance_type", None)
        if covariance_type not in _COVARIANCE_TYPES:
            raise ValueError(
                "The mixture's covariance_type must be one of "
                f"{_COVARIANCE_TYPES}; got {covariance_type!r}."
            )
        self.covariance_type = covariance_type
        self.weights = np.asarray(mixture.weights_, dtype=np.float64)
        self.means = np.asarray(mixture.means_, dtype=np.float64)
        if self.means.ndim != 2 or self.weights.shape != self.means.shape[:1]:
            raise ValueError(
                "The mixture's means_ must have shape (n_components, "
                f"n_features) and weights_ shape (n_components,); got "
                f"{self.means.shape} and {self.weights.shape}."
            )
        k, d = self.means.shape
        covariances = np.asarray(mixture.covariances_, dtype=np.float64)
        expected = {
            "full": (k, d, d),
            "tied": (d, d),
            "diag": (k, d),
            "spherical": (k,),
        }[covariance_type]
        if covariances.shape != expected:
            raise ValueError(
                f"A '{covariance_type}' mixture with {k} components over {d} "
                f"features must have covariances_ of shape {expected}; got "
                f"{covariances.shape}."
            )
        if covariance_type == "tied":
            covariances = covariances[None]
        elif covariance_type == "spherical":
            covariances = np.repeat(covariances[:, None], d, axis=1)
        self.covariances = covariances
        self.diagonal = covariance_type in ("diag", "spherical")
        if self.diagonal and not np.all(covariances > 0.0):
            raise ValueError(
                "The mixture's variances must be positive; refit it, or "
                "increase reg_covar."
            )
        with np.errstate(divide="ignore"):
            self.log_weights = np.log(self.weights)

    @property
    def n_components(self):
        return self.means.shape[0]

    @property
    def n_features(self):
        return self.means.shape[1]


def _check_X(X, n_features):
    """X as a float64 array of width n_features; NaN allowed, inf refused."""
    X = check_array(
        X,
        dtype=np.float64,
        ensure_all_finite="allow-nan",
        ensure_min_samples=0,
        input_name="X",
    )
    if X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but the mixture was fitted on "
            f"{n_features} features: give one column per feature, with NaN "
            "where a value is unknown."
        )
    return X


def _patterns(missing, min_rows=1):
    """Group the rows by missingness pattern.

    Returns ``(shared, scattered)``: a list of (rows, observed columns,
    missing columns) for each pattern of at least ``min_rows`` rows, and the
    sorted rows of the other patterns.
    """
    n_samples = missing.shape[0]
    if n_samples == 0:
        return [], np.empty(0, dtype=np.intp)
    packed = np.ascontiguousarray(np.packbits(missing, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    in_shared = counts[inverse] >= min_rows
    scattered = np.flatnonzero(~in_shared)
    shared_rows = np.flatnonzero(in_shared)
    if not shared_rows.size:
        return [], scattered
    inverse = inverse[shared_rows]
    order = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse)[np.unique(inverse)])[:-1]
    shared = []
    for rows in np.split(shared_rows[order], bounds):
        pattern = missing[rows[0]]
        shared.append((rows, np.flatnonzero(~pattern), np.flatnonzero(pattern)))
    return shared, scattered


def _chunk_rows(bytes_per_row, cap=None):
    """Rows per chunk so that the temporaries fit in working_memory."""
    budget = get_config()["working_memory"] * 2**20
    rows = max(1, int(budget // max(bytes_per_row, 1)))
    return rows if cap is None else min(rows, cap)


def _slices(n, size):
    return (slice(start, min(start + size, n)) for start in range(0, n, size))


# ---------------------------------------------------------------------------
# The per-block computation
# ---------------------------------------------------------------------------


class _Block:
    """A chunk of rows with their per-component conditional answers.

    Full and tied covariances are handled in *permuted* order: each row's
    columns are put in (observed, missing) order, ``order``, and ``inverse``
    puts them back. The rows of a block share one order (a pattern's block,
    first axis 1) or each has its own (rows that are alone in their pattern,
    factorised together in one batched call).

    Attributes
    ----------
    rows : ndarray of shape (n_rows,)
        Indices of the rows in X.
    missing : ndarray of shape (n_rows, n_features)
        The rows' missing entries, in X's column order.
    log_prob : ndarray of shape (n_rows, k)
        ``log N(x_obs; mu_k[obs], Sigma_k[obs, obs])`` per row and component.
    filled : ndarray of shape (k, n_rows, n_features)
        Each row completed by each component's conditional mean, in X's
        column order (the observed entries are the row's own).
    std : ndarray of shape (k, n_features)
        Diagonal covariances only: the standard deviations.
    factor : ndarray of shape (1 or k, 1 or n_rows, n_features, n_features)
        Full and tied only: the Cholesky factor of the permuted covariance.
    order, inverse : ndarray of shape (1 or n_rows, n_features)
        Full and tied only: the permutation and its inverse.
    n_obs : ndarray of shape (1 or n_rows,)
        Full and tied only: the number of observed entries.
    """

    __slots__ = ("rows", "missing", "log_prob", "filled", "std", "factor",
                 "order", "inverse", "n_obs", "missing_index", "conditional_inverse")

    def __init__(self):
        self.factor = self.std = self.missing_index = None

    def noise(self, component, eps):
        """Conditional noise of the missing entries, zero on the observed ones.

        ``component`` (n_draws, n_rows) picks each draw's component and
        ``eps`` (n_draws, n_rows, n_features) holds standard normal draws.
        """
        eps = eps * self.missing
        if self.factor is None:
            return self.std[component] * eps
        eps = np.take_along_axis(eps, np.broadcast_to(self.order, eps.shape), -1)
        factor = self.factor
        if factor.shape[1] == 1:  # one order: a matrix product per component
            noise = np.empty_like(eps)
            if factor.shape[0] == 1:
                noise = eps @ factor[0, 0].T
            else:
                for j in range(factor.shape[0]):
                    chosen = component == j
                    noise[chosen] = eps[chosen] @ factor[j, 0].T
        else:  # one factor per row: every component, then the chosen one
            every = np.einsum("krij,srj->ksri", factor, eps)
            if factor.shape[0] == 1:
                noise = every[0]
            else:
                draws, rows = np.indices(component.shape)
                noise = every[component, draws, rows]
        return np.take_along_axis(
            noise, np.broadcast_to(self.inverse, noise.shape), -1
        )

    def conditional_covariances(self):
        """Each component's conditional covariance, zero off the missing block.

        Returns an array of shape (1 or k, 1 or n_rows, d, d) in X's column
        order; for diagonal covariances, the diagonals (k, n_rows, d).
        """
        if self.factor is None:
            return self.std[:, None, :] ** 2 * self.missing
        d = self.order.shape[1]
        missing_position = np.arange(d) >= self.n_obs[:, None]
        # Columns of the observed positions dropped, L L^T is the Schur
        # complement on the missing block and zero elsewhere.
        masked = self.factor * missing_position[None, :, None, :]
        index = np.broadcast_to(self.inverse[None, :, :, None], masked.shape)
        masked = np.take_along_axis(masked, index, axis=2)
        return masked @ masked.swapaxes(-1, -2)

    def covariance_sum(self, wresp, diagonal=False):
        """``sum_r wresp[r, k] Cov_k[x_r | x_r,obs]`` of shape (k, d, d).

        The conditional covariances are zero off each row's missing block;
        ``diagonal=True`` returns only their diagonals, (k, d).
        """
        k = wresp.shape[1]
        if self.std is not None:
            variances = self.std**2 * (wresp.T @ self.missing)
            return variances if diagonal else _diag_embed(variances)
        if self.missing_index is not None:
            return self._scattered_covariance_sum(wresp, diagonal)
        cond_cov = self.conditional_covariances()
        if cond_cov.shape[1] == 1:  # one pattern: one covariance per component
            total = wresp.sum(axis=0)[:, None, None] * cond_cov[:, 0]
        else:
            cond_cov = np.broadcast_to(cond_cov, (k, *cond_cov.shape[1:]))
            total = np.einsum("rk,krde->kde", wresp, cond_cov)
        return np.diagonal(total, axis1=1, axis2=2).copy() if diagonal else total

    def _scattered_covariance_sum(self, wresp, diagonal):
        """:meth:`covariance_sum` of a precision-form block.

        Each row's conditional covariance lives on its own missing columns:
        the weighted entries are added at their (component, column, column)
        positions by one ``bincount`` (scikit-learn and numpy have no batched
        scatter-add of small matrices).
        """
        k = wresp.shape[1]
        d = self.missing.shape[1]
        # Padded entries (index -1) have zero weight.
        index = np.maximum(self.missing_index, 0).T  # (c, rows)
        weighted = self.conditional_inverse * wresp.T  # (c, c, k, rows)
        if diagonal:
            c = index.shape[0]
            cells = np.arange(k)[None, :, None] * d + index[:, None, :]
            values = weighted[np.arange(c), np.arange(c)]
            return np.bincount(cells.ravel(), values.ravel(), k * d).reshape(k, d)
        cells = index[:, None, None, :] * d + index[None, :, None, :]
        cells = cells + np.arange(k)[:, None] * d * d
        total = np.bincount(cells.ravel(), weighted.ravel(), k * d * d)
        return total.reshape(k, d, d)


def _diagonal_blocks(params, X, missing):
    k, d = params.n_components, params.n_features
    std = np.sqrt(params.covariances)
    log_std = np.log(std)
    chunk = _chunk_rows(8 * 6 * k * d)
    for batch in _slices(X.shape[0], chunk):
        block = _Block()
        block.rows = np.arange(batch.start, batch.stop)
        block.missing = missing[batch]
        block.factor = None
        block.std = std
        observed = ~block.missing
        rows = np.where(observed, X[batch], 0.0)
        white = (rows[None] - params.means[:, None]) / std[:, None] * observed
        log_det = 2.0 * (log_std @ observed.T).T
        mahalanobis = np.einsum("krd,krd->rk", white, white)
        n_obs = observed.sum(axis=1)[:, None]
        block.log_prob = -0.5 * (n_obs * _LOG_2PI + log_det + mahalanobis)
        block.filled = np.where(block.missing, params.means[:, None], X[batch])
        yield block


def _gaussian_block(params, X, missing, rows, order, n_obs):
    """The block of ``rows``, whose columns are permuted by ``order``."""
    k, d = params.n_components, params.n_features
    block = _Block()
    block.rows, block.missing, block.std = rows, missing[rows], None
    block.order, block.n_obs = order, n_obs
    block.inverse = np.argsort(order, axis=1)
    covariances = params.covariances
    try:
        factor = np.linalg.cholesky(
            covariances[:, order[:, :, None], order[:, None, :]]
        )
    except np.linalg.LinAlgError:
        raise ValueError(_NOT_POSITIVE_DEFINITE) from None
    block.factor = factor
    observed_position = np.arange(d) < n_obs[:, None]  # (1 or r, d)
    x = X[rows]
    x_perm = np.take_along_axis(x, np.broadcast_to(order, x.shape), axis=1)
    means_perm = params.means[:, order]  # (k, 1 or r, d)
    # The observed entries relative to each mean, zero on the missing ones:
    # solving L w = diff then gives the whitened observed entries
    # L_oo^-1 (x_o - mu_o) on the observed positions.
    diff = np.where(observed_position, x_perm[None] - means_perm, 0.0)
    n_rows = rows.size
    if order.shape[0] == 1:
        if factor.shape[0] == 1:  # tied: one factor for every component
            white = np.linalg.solve(factor[0, 0], diff.reshape(-1, d).T)
            white = white.T.reshape(k, n_rows, d)
        else:
            white = np.linalg.solve(factor[:, 0], diff.swapaxes(1, 2)).swapaxes(1, 2)
    elif factor.shape[0] == 1:
        white = np.linalg.solve(factor[0], diff.transpose(1, 2, 0)).transpose(2, 0, 1)
    else:
        white = np.linalg.solve(factor, diff[..., None])[..., 0]
    white *= observed_position
    mahalanobis = np.einsum("krd,krd->rk", white, white)
    log_diag = np.log(np.diagonal(factor, axis1=-2, axis2=-1))
    log_det = 2.0 * (log_diag * observed_position).sum(axis=-1).T  # (1 or r, .)
    block.log_prob = -0.5 * (n_obs[:, None] * _LOG_2PI + log_det + mahalanobis)
    # mu + L w: the observed entries on the observed positions, and each
    # component's conditional mean mu_m + L_mo w_o on the missing ones.
    if order.shape[0] == 1:
        shift = np.matmul(factor[:, 0], white.swapaxes(1, 2)).swapaxes(1, 2)
    else:
        shift = np.matmul(factor, white[..., None])[..., 0]
    filled = means_perm + shift
    filled = np.take_along_axis(
        filled, np.broadcast_to(block.inverse, filled.shape), axis=-1
    )
    block.filled = np.where(block.missing, filled, x)
    return block


def _diag_embed(diagonals):
    """(k, d) diagonals as (k, d, d) diagonal matrices."""
    k, d = diagonals.shape
    out = np.zeros((k, d, d))
    out[:, np.arange(d), np.arange(d)] = diagonals
    return out


# Stacks of SPD matrices up to this size are inverted by the vectorised loops
# below, larger ones by LAPACK through torch.  numpy's and torch's batched
# linalg call LAPACK once per matrix, which for the few-by-few blocks of missing
# entries costs more than the arithmetic; looping over the c columns instead,
# each step one array operation over the whole stack, leaves only the
# arithmetic, until its temporaries grow with c.
_SMALL_SPD = 8


def _spd_inverse_logdet(A):
    """Inverse and log-determinant of a stack of SPD matrices, stack last.

    ``A`` has shape (c, c, *batch); returns the inverses in the same layout
    and the log-determinants, of shape batch.
    """
    c = A.shape[0]
    batch = A.shape[2:]
    shape = A.shape
    A = np.ascontiguousarray(A).reshape(c, c, -1)
    if c > _SMALL_SPD:
        stacked = torch.from_numpy(np.ascontiguousarray(np.moveaxis(A, -1, 0)))
        factor, info = torch.linalg.cholesky_ex(stacked)
        if bool((info != 0).any()):
            factor = None
        else:
            diagonal = torch.diagonal(factor, dim1=1, dim2=2)
            log_det = 2.0 * torch.log(diagonal).sum(1).numpy()
            inverse = np.moveaxis(torch.cholesky_inverse(factor).numpy(), 0, -1)
            return inverse.reshape(shape), log_det.reshape(batch)
    else:
        # Cholesky A = L L^T, one column at a time.
        factor = np.zeros_like(A)
        for j in range(c):
            column = A[j:, j]
            if j:
                column = column - np.einsum("ipb,pb->ib", factor[j:, :j], factor[j, :j])
            if not np.all(column[0] > 0.0):
                factor = None
                break
            root = np.sqrt(column[0])
            factor[j, j] = root
            factor[j + 1:, j] = column[1:] / root
    if factor is None:
        raise ValueError(_NOT_POSITIVE_DEFINITE)
    diagonal = factor[np.arange(c), np.arange(c)]
    log_det = 2.0 * np.log(diagonal).sum(0)
    # M = L^-1 by forward substitution, a row at a time; A^-1 = M^T M.
    scale = 1.0 / diagonal
    inverse_factor = np.zeros_like(A)
    for i in range(c):
        inverse_factor[i, i] = scale[i]
        if i:
            inverse_factor[i, :i] = -scale[i] * np.einsum(
                "pb,pjb->jb", factor[i, :i], inverse_factor[:i, :i]
            )
    inverse = np.einsum("pab,pcb->acb", inverse_factor, inverse_factor)
    return inverse.reshape(shape), log_det.reshape(batch)


def _precision_block(params, precision, X, missing, rows, missing_index):
    """The block of ``rows`` in precision form.

    With the precision ``P = Sigma^-1`` and ``delta`` the row minus the mean
    with zeros on the missing entries, the missing block ``S = P_mm`` gives
    everything (Schur complements): ``Sigma_oo^-1 = P_oo - P_om S^-1 P_mo``,
    so the observed Mahalanobis term is ``delta^T P delta - b^T S^-1 b``
    with ``b = (P delta)_m``, ``log det Sigma_oo = log det S - log det P``,
    the conditional mean is ``mu_m - S^-1 b`` and the conditional covariance
    ``S^-1``.  Only ``S``, c by c, is factorised per row and component,
    instead of the observed block; the rest is one matrix product per
    component, as for complete rows.

    ``missing_index`` (rows, c) lists each row's missing columns, padded
    with -1, so that rows with fewer gaps share the stack: a padded entry
    adds an identity block to S and a zero to b, which changes no answer.
    """
    inverse_cov, log_det_precision = precision
    k, d = params.n_components, params.n_features
    block = _Block()
    block.rows, block.missing = rows, missing[rows]
    block.missing_index = missing_index
    n_rows, c = missing_index.shape
    observed = ~block.missing
    x = np.where(block.missing, 0.0, X[rows])
    delta = x[None] - observed[None] * params.means[:, None, :]  # (k, r, d)
    p_delta = np.matmul(delta, inverse_cov)
    mahalanobis = np.einsum("krd,krd->kr", delta, p_delta)
    filled = np.broadcast_to(x, (k, n_rows, d)).copy()
    log_det = -log_det_precision[:, None]
    if c:
        valid = (missing_index >= 0).T  # (c, r)
        index = np.maximum(missing_index, 0).T
        # b and S in the (c, ..., r) layout of _spd_inverse_logdet.
        b = np.moveaxis(p_delta[:, np.arange(n_rows), index], 1, 0) * valid[:, None]
        S = np.moveaxis(inverse_cov[:, index[:, None, :], index[None, :, :]], 0, 2)
        pair = valid[:, None] & valid[None, :]  # (c, c, r)
        eye = np.eye(c, dtype=bool)[:, :, None]
        S = np.where(pair[:, :, None], S, eye[:, :, None])
        inverse, log_det_S = _spd_inverse_logdet(S)  # (c, c, 1 or k, r)
        solved = (inverse * b[None]).sum(axis=1)  # (c, k, r)
        mahalanobis -= np.einsum("ikr,ikr->kr", solved, b)
        log_det = log_det + log_det_S
        conditional = params.means.T[index].swapaxes(1, 2) - solved  # (c, k, r)
        slot, row = np.nonzero(valid)
        filled[:, row, index[slot, row]] = conditional[slot, :, row].T
        block.conditional_inverse = inverse * pair[:, :, None]
    n_observed = observed.sum(axis=1)
    block.log_prob = (-0.5 * (n_observed * _LOG_2PI + log_det + mahalanobis)).T
    block.filled = filled
    return block


def _padded_width(c):
    """The stack width serving rows with c gaps: few widths, at most 1.5 c."""
    width = 1
    while width < c:
        width = max(width + 1, (3 * width) // 2)
    return width


def _precision_blocks(params, X, missing, rows):
    """Precision-form blocks of ``rows``, grouped by padded number of gaps."""
    covariances = params.covariances
    try:
        factor = np.linalg.cholesky(covariances)
    except np.linalg.LinAlgError:
        raise ValueError(_NOT_POSITIVE_DEFINITE) from None
    k, d = params.n_components, params.n_features
    eye = np.broadcast_to(np.eye(d), covariances.shape)
    inverse_factor = np.linalg.solve(factor, eye)
    inverse_cov = inverse_factor.swapaxes(1, 2) @ inverse_factor
    log_det_precision = -2.0 * np.log(np.diagonal(factor, axis1=1, axis2=2)).sum(1)
    precision = (inverse_cov, log_det_precision)
    counts = missing[rows].sum(axis=1)
    widths = np.array([_padded_width(c) for c in range(d + 1)])[counts]
    for width in np.unique(widths):
        group = rows[widths == width]
        # Each row's missing columns in order, then -1 up to the width.
        slots = np.full((group.size, d + width), -1)
        slots[:, :d] = np.where(missing[group], np.arange(d), d)
        slots[:, :d].sort(axis=1)
        missing_index = np.where(slots < d, slots, -1)[:, :width]
        # Small chunks keep the stacks of c-by-c matrices in cache.
        chunk = _chunk_rows(8 * k * (6 * d + 4 * width * width + 6 * width),
                            cap=max(1, _PRECISION_CHUNK // k))
        for batch in _slices(group.size, chunk):
            yield _precision_block(
                params, precision, X, missing, group[batch], missing_index[batch]
            )


# Patterns with fewer rows than this are answered in precision form, row by
# row in batches; larger ones share one factorisation per pattern.
_SHARED_PATTERN_ROWS = 32
# Rows times components of a precision-form chunk.
_PRECISION_CHUNK = 2048


def _blocks(params, X, missing, precision_form=True):
    """Yield the :class:`_Block` chunks covering every row of X.

    Rows whose missingness pattern is shared by many rows share one
    factorisation per pattern; the others are answered in precision form
    (:func:`_precision_block`), or, with ``precision_form=False`` (to draw,
    which needs the factors of the conditional covariances), by batched
    factorisations of their permuted covariances.
    """
    if params.diagonal:
        yield from _diagonal_blocks(params, X, missing)
        return
    k, d = params.n_components, params.n_features
    k_factors = params.covariances.shape[0]
    pattern_chunk = _chunk_rows(8 * 6 * k * d)
    shared, scattered = _patterns(
        missing, _SHARED_PATTERN_ROWS if precision_form else 2
    )
    for rows, obs, miss in shared:
        order = np.concatenate([obs, miss])[None]
        n_obs = np.array([obs.size])
        for batch in _slices(rows.size, pattern_chunk):
            yield _gaussian_block(params, X, missing, rows[batch], order, n_obs)
    if not scattered.size:
        return
    if precision_form:
        yield from _precision_blocks(params, X, missing, scattered)
        return
    # A factor per row, factorised in batches.
    n_obs = (~missing[scattered]).sum(axis=1)
    order = np.argsort(missing[scattered], axis=1, kind="stable")
    chunk = _chunk_rows(8 * 4 * k_factors * d * d, cap=256)
    for batch in _slices(scattered.size, chunk):
        yield _gaussian_block(
            params, X, missing, scattered[batch], order[batch], n_obs[batch]
        )


def _resp(params, log_prob):
    """Log of the normaliser and log posterior from per-component log-densities."""
    weighted = log_prob + params.log_weights
    top = weighted.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(weighted - top).sum(axis=1)) + top[:, 0]
    return log_norm, weighted - log_norm[:, None]


def _prepare(mixture, X):
    params = _Parameters(mixture)
    X = _check_X(X, params.n_features)
    return params, X, np.isnan(X)


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------


def component_log_prob(mixture, X):
    """Log-density of each row's observed entries under each component.

    Parameters
    ----------
    mixture : fitted Gaussian mixture
        An object with ``weights_``, ``means_``, ``covariances_`` and
        ``covariance_type`` as :class:`skgen.GaussianMixture` has them.

    X : array-like of shape (n_samples, n_features)
        The rows, with NaN where an entry is unknown.

    Returns
    -------
    log_prob : ndarray of shape (n_samples, n_components)
        ``log N(x_obs; mu_k[obs], Sigma_k[obs, obs])``: the marginal
        log-density of the observed entries under component k, without its
        weight. It is 0 for a row with no observed entry.
    """
    params, X, missing = _prepare(mixture, X)
    out = np.empty((X.shape[0], params.n_components))
    for block in _blocks(params, X, missing):
        out[block.rows] = block.log_prob
    return out


def estimate_log_prob_resp(mixture, X):
    """E-step over the observed entries of each row.

    Parameters
    ----------
    mixture : fitted Gaussian mixture
        An object with ``weights_``, ``means_``, ``covariances_`` and
        ``covariance_type``.

    X : array-like of shape (n_samples, n_features)
        The rows, with NaN where an entry is unknown.

    Returns
    -------
    log_prob_norm : ndarray of shape (n_samples,)
        The mixture's log-density of each row's observed entries (0 for a row
        with none).

    log_resp : ndarray of shape (n_samples, n_components)
        Log posterior probability of each component given the observed
        entries (the log mixing weights for a row with none).
    """
    params, X, missing = _prepare(mixture, X)
    log_prob = np.empty((X.shape[0], params.n_components))
    for block in _blocks(params, X, missing):
        log_prob[block.rows] = block.log_prob
    return _resp(params, log_prob)


def score_samples(mixture, X):
    """Marginal log-density of each row's observed entries under the mixture.

    Parameters
    ----------
    mixture : fitted Gaussian mixture
        An object with ``weights_``, ``means_``, ``covariances_`` and
        ``covariance_type``.

    X : array-like of shape (n_samples, n_features)
        The rows, with NaN where an entry is unknown.

    Returns
    -------
    log_prob : ndarray of shape (n_samples,)
        ``log sum_k w_k N(x_obs; mu_k[obs], Sigma_k[obs, obs])``; for a row
        without NaN, the mixture's log-density. A row with no observed entry
        gets 0.
    """
    return estimate_log_prob_resp(mixture, X)[0]


def predict_proba(mixture, X):
    """Posterior probability of each component given the observed entries.

    Parameters
    ----------
    mixture : fitted Gaussian mixture
        An object with ``weights_``, ``means_``, ``covariances_`` and
        ``covariance_type``.

    X : array-like of shape (n_samples, n_features)
        The rows, with NaN where an entry is unknown.

    Returns
    -------
    resp : ndarray of shape (n_samples, n_components)
        Each row sums to one; a row with no observed entry gets the mixing
        weights.
    """
    return np.exp(estimate_log_prob_resp(mixture, X)[1])


def conditional_mean(mixture, X):
    """Fill each row's missing entries with their conditional expectation.

    The conditional mean ``E[x_miss | x_obs] = sum_k p(k | x_obs)
    E_k[x_miss | x_obs]`` is the imputation that minimises the expected
    squared error under the mixture.

    Parameters
    ----------
    mixture : fitted Gaussian mixture
        An object with ``weights_``, ``means_``, ``covariances_`` and
        ``covariance_type``.

    X : array-like of shape (n_samples, n_features)
        The rows, with NaN where an entry is unknown.

    Returns
    -------
    X_filled : ndarray of shape (n_samples, n_features)
        A float64 copy of X whose NaN are replaced by their conditional mean;
        the observed entries are unchanged. A row with no observed entry gets
        the mixture's mean.
    """
    params, X, missing = _prepare(mixture, X)
    out = X.copy()
    for block in _blocks(params, X, missing):
        resp = np.exp(_resp(params, block.log_prob)[1])
        out[block.rows] = np.einsum("rk,krd->rd", resp, block.filled)
        # The observed entries exactly as given.
        out[block.rows] = np.where(block.missing, out[block.rows], X[block.rows])
    return out


def sample_conditional(mixture, X, n_samples=1, *, random_state=None):
    """Draw each row's missing entries from their exact conditional law.

    For each row and each draw, a component is drawn from the posterior
    ``p(k | x_obs)``, then the missing entries from that component's Gaussian
    conditional ``N(E_k[x_miss | x_obs], Cov_k[x_miss | x_obs])``; together
    the draws follow ``p(x_miss | x_obs)`` under the mixture. Draws are
    independent across rows and across the ``n_samples`` repetitions.

    Parameters
    ----------
    mixture : fitted Gaussian mixture
        An object with ``weights_``, ``means_``, ``covariances_`` and
        ``covariance_type``.

    X : array-like of shape (n_rows, n_features)
        The rows, with NaN where an entry is to be drawn.

    n_samples : int, default=1
        Number of draws per row.

    random_state : int, RandomState instance, Generator or None, default=None
        The randomness of this call. None draws fresh entropy from the
        operating system (numpy's global state is not used).

    Returns
    -------
    X_drawn : ndarray of shape (n_samples, n_rows, n_features)
        ``X_drawn[i]`` is X, in float64, with its NaN replaced by the i-th
        draw; the observed entries are unchanged. A row with no observed
        entry is drawn from the mixture itself.
    """
    if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or (
        n_samples < 1
    ):
        raise ValueError(
            f"n_samples must be an integer >= 1 (the number of draws per row); "
            f"got {n_samples!r}."
        )
    params, X, missing = _prepare(mixture, X)
    rng = check_generator(random_state)
    out = np.repeat(X[None], n_samples, axis=0)
    k = params.n_components
    for block in _blocks(params, X, missing, precision_form=False):
        if not block.missing.any():
            continue
        n_rows = block.rows.size
        resp = np.exp(_resp(params, block.log_prob)[1])
        # A component per draw and row by inverse CDF of the posterior.
        cdf = np.cumsum(resp, axis=1)
        uniform = rng.random((n_samples, n_rows)) * cdf[:, -1]
        component = (uniform[..., None] >= cdf[None]).sum(axis=-1)
        np.minimum(component, k - 1, out=component)
        eps = rng.standard_normal((n_samples, n_rows, params.n_features))
        drawn = block.filled[component, np.arange(n_rows)]
        # The noise is exactly zero on the observed entries.
        drawn += block.noise(component, eps)
        out[:, block.rows] = drawn
    return out


def expected_statistics(mixture, X, sample_weight=None, *, diagonal=False):
    """Expected sufficient statistics of an EM step over the observed entries.

    With responsibilities ``r_ik = p(k | x_i,obs)`` and the conditional
    moments of each row's missing entries under component k, returns the sums
    an M-step turns into parameters. For rows without NaN they are the usual
    complete-data statistics.

    Parameters
    ----------
    mixture : fitted Gaussian mixture
        An object with ``weights_``, ``means_``, ``covariances_`` and
        ``covariance_type``.

    X : array-like of shape (n_samples, n_features)
        The rows, with NaN where an entry is unknown.

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights that multiply the responsibilities.

    diagonal : bool, default=False
        Whether to return only the diagonals of ``second``, (k, d): all that
        a diagonal or spherical M-step needs.

    Returns
    -------
    log_likelihood : float
        ``sum_i w_i log p(x_i,obs)``, the observed-data log-likelihood of
        the current parameters.

    resp_sum : ndarray of shape (n_components,)
        ``sum_i w_i r_ik``.

    first : ndarray of shape (n_components, n_features)
        ``sum_i w_i r_ik E_k[x_i | x_i,obs]``.

    second : ndarray of shape (n_components, n_features, n_features)
        ``sum_i w_i r_ik E_k[x_i x_i^T | x_i,obs]``: the outer product of the
        completed row plus the conditional covariance on the missing block.
    """
    params, X, missing = _prepare(mixture, X)
    if sample_weight is None:
        sample_weight = np.ones(X.shape[0])
    else:
        sample_weight = check_array(
            sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight"
        )
        if sample_weight.shape != (X.shape[0],) or np.any(sample_weight < 0):
            raise ValueError(
                "sample_weight must hold one non-negative weight per row of X; "
                f"got shape {sample_weight.shape} for {X.shape[0]} rows."
            )
    if diagonal and params.diagonal:
        return _diagonal_statistics(params, X, missing, sample_weight)
    k, d = params.n_components, params.n_features
    log_likelihood = 0.0
    resp_sum = np.zeros(k)
    first = np.zeros((k, d))
    second = np.zeros((k, d) if diagonal else (k, d, d))
    for block in _blocks(params, X, missing):
        log_norm, log_resp = _resp(params, block.log_prob)
        weight = sample_weight[block.rows]
        log_likelihood += float(weight @ log_norm)
        wresp = np.exp(log_resp) * weight[:, None]  # (rows, k)
        resp_sum += wresp.sum(axis=0)
        weighted = block.filled * wresp.T[:, :, None]  # (k, rows, d)
        first += weighted.sum(axis=1)
        if diagonal:
            second += (weighted * block.filled).sum(axis=1)
        else:
            second += np.matmul(weighted.swapaxes(1, 2), block.filled)
        if block.missing.any():
            second += block.covariance_sum(wresp, diagonal)
    return log_likelihood, resp_sum, first, second


def _diagonal_statistics(params, X, missing, sample_weight):
    """:func:`expected_statistics` of a diagonal mixture, diagonals only.

    Given its component, each missing entry is the component's mean with its
    variance, independent of the rest, so every sum is a matrix product over
    the rows (observed entries, their squares, the mask) as for complete rows.
    Rows and means are taken about the mixture's mean, to keep the expanded
    squares small.
    """
    k, d = params.n_components, params.n_features
    shift = params.weights @ params.means
    means = params.means - shift
    variances = params.covariances
    inverse = 1.0 / variances
    constant = _LOG_2PI + np.log(variances) + means**2 * inverse
    coefficients = np.concatenate(
        [constant, inverse, -2.0 * means * inverse], axis=1
    ).T  # (3d, k)
    log_likelihood = 0.0
    resp_sum = np.zeros(k)
    first = np.zeros((k, d))
    second = np.zeros((k, d))
    for batch in _slices(X.shape[0], _chunk_rows(8 * (4 * d + 3 * k))):
        gaps = missing[batch]
        x = np.where(gaps, 0.0, X[batch] - shift)
        features = np.concatenate([~gaps, x**2, x], axis=1)
        log_prob = -0.5 * (features @ coefficients)
        log_norm, log_resp = _resp(params, log_prob)
        weight = sample_weight[batch]
        log_likelihood += float(weight @ log_norm)
        wresp = np.exp(log_resp) * weight[:, None]
        resp_sum += wresp.sum(axis=0)
        # Columns: [sum r x, sum r x^2, sum r m] over the rows.
        sums = wresp.T @ np.concatenate([x, x**2, gaps], axis=1)
        missing_mass = sums[:, 2 * d:]
        first += sums[:, :d] + means * missing_mass
        second += sums[:, d:2 * d] + (means**2 + variances) * missing_mass
    # Back from the mixture's mean to the origin.
    second += 2.0 * shift * first + resp_sum[:, None] * shift**2
    first += resp_sum[:, None] * shift
    return log_likelihood, resp_sum, first, second
