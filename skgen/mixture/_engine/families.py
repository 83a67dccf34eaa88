"""Families: how a chunk of rows becomes log-densities and statistics.

A family turns a chunk of rows into per-component log-densities and
sufficient statistics, and summed statistics into parameters: the Gaussian
of each covariance type in two numerical forms (whitened and expanded, see
the package's docstring), the Gaussian that takes missing entries on a
diagonal, the categorical, the interval-censored Gaussian, and products of
them.  A family knows nothing of where the chunks come from (the sources)
nor of the estimator that composes it.
"""

import math

import torch

__all__ = [
    "CategoricalFamily",
    "ExpandedGaussianFamily",
    "IntervalGaussianFamily",
    "LinearProductFamily",
    "MaskedDiagonalGaussianFamily",
    "ProductFamily",
    "WhitenedGaussianFamily",
    "Workspace",
    "gaussian_family",
    "product_family",
    "row_width",
]


_QUADRATIC = ("full", "tied")


# Relative precision the expanded form may lose before the whitened one is
# used instead (see gaussian_family).
_EXPANDED_TOLERANCE = 1e-4


class Workspace:
    """Buffers for the temporaries of a pass, reused from chunk to chunk.

    A pass allocates the same few large temporaries for every chunk.  Where
    glibc's mmap threshold is fixed, as in Dask's workers (which set
    ``MALLOC_TRIM_THRESHOLD_``), each of them is a fresh mapping that the
    kernel zero-fills page by page, and each free unmaps it again: taken from
    here they are mapped once a pass.  One workspace serves one pass in one
    thread.
    """

    def __init__(self):
        self._buffers = {}

    def take(self, name, shape, like):
        """A contiguous tensor of ``shape``, dtype and device of ``like``."""
        numel = math.prod(shape)
        buffer = self._buffers.get(name)
        if (
            buffer is None
            or buffer.numel() < numel
            or buffer.dtype != like.dtype
            or buffer.device != like.device
        ):
            buffer = torch.empty(numel, dtype=like.dtype, device=like.device)
            self._buffers[name] = buffer
        return buffer[:numel].view(shape)


def _take(workspace, name, shape, like):
    """A buffer of the workspace, or a new tensor without one."""
    if workspace is None:
        return torch.empty(shape, dtype=like.dtype, device=like.device)
    return workspace.take(name, shape, like)


class WhitenedGaussianFamily:
    """Gaussian components of one covariance type.

    Parameters are dicts of float64 tensors: ``weights`` (k,), ``means``
    (k, d), ``covariances`` and ``prec_chol``, the upper Cholesky factor of
    the precision, shaped as in scikit-learn for the covariance type.
    """

    def __init__(self, covariance_type, reg_covar):
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar

    # ------------------------------------------------------------- frames

    def frame(self, params, shift, dtype):
        """The constants of a pass, for rows centred on ``shift``.

        ``shift`` is any point of the data's space; rows and means are both
        taken relative to it, which keeps the inputs of the whitening small.
        """
        means, prec_chol = params["means"], params["prec_chol"]
        n_components, n_features = means.shape
        centred = means - shift
        kind = self.covariance_type
        if kind == "full":
            weight = prec_chol
            bias = (centred[:, None, :] @ prec_chol)[:, 0, :]
            log_det = torch.log(torch.diagonal(prec_chol, dim1=-2, dim2=-1)).sum(-1)
        elif kind == "tied":
            weight = prec_chol
            bias = centred @ prec_chol
            log_det = torch.log(torch.diagonal(prec_chol)).sum().expand(n_components)
        elif kind == "diag":
            weight = prec_chol
            bias = centred * prec_chol
            log_det = torch.log(prec_chol).sum(-1)
        else:
            weight = prec_chol[:, None].expand(n_components, n_features)
            bias = centred * weight
            log_det = n_features * torch.log(prec_chol)
        constant = (
            torch.log(params["weights"])
            + log_det
            - 0.5 * n_features * math.log(2 * math.pi)
        )
        return {
            "weight": weight.to(dtype).contiguous(),
            "bias": bias.to(dtype).contiguous(),
            "constant": constant.to(dtype),
            "shift": shift.to(dtype),
            "params": params,
        }

    def identity_frame(self, centres, shift, dtype):
        """A frame that only centres: ``z_k = x - centres_k`` (for the init)."""
        n_components, n_features = centres.shape
        eye = torch.eye(n_features, dtype=torch.float64, device=centres.device)
        prec_chol = {
            "full": eye.expand(n_components, -1, -1),
            "tied": eye,
            "diag": torch.ones_like(centres),
            "spherical": centres.new_ones(n_components),
        }[self.covariance_type]
        weights = centres.new_full((n_components,), 1.0 / n_components)
        params = {"weights": weights, "means": centres, "prec_chol": prec_chol}
        return self.frame(params, shift, dtype)

    # ------------------------------------------------------ chunk -> values

    def whiten(self, frame, x):
        """``z`` of shape (k, n, d) for a chunk ``x`` (n, d), rows not centred."""
        x = x - frame["shift"]
        weight, bias = frame["weight"], frame["bias"]
        if self.covariance_type == "full":
            return torch.matmul(x, weight).sub_(bias[:, None, :])
        if self.covariance_type == "tied":
            return (x @ weight)[None] - bias[:, None, :]
        return x[None] * weight[:, None, :] - bias[:, None, :]

    def log_prob(self, frame, z):
        """``log w_k + log N(x | k)`` of shape (k, n) from the whitened rows."""
        return (z * z).sum(-1).mul_(-0.5).add_(frame["constant"][:, None])

    # ------------------------------------------------ chunk -> statistics

    def new_stats(self, frame):
        """Zero statistics in float64 for the pass of ``frame``."""
        bias = frame["bias"]
        n_components, n_features = bias.shape
        opts = {"dtype": torch.float64, "device": bias.device}
        second_shape = {
            "full": (n_components, n_features, n_features),
            "tied": (n_features, n_features),
        }.get(self.covariance_type, (n_components, n_features))
        return {
            "nk": torch.zeros(n_components, **opts),
            "first": torch.zeros((n_components, n_features), **opts),
            "second": torch.zeros(second_shape, **opts),
        }

    def accumulate_(self, stats, z, resp):
        """Add a chunk's ``(sum r, sum r z, sum r z z^T)`` to ``stats``.

        ``z`` is (k, n, d) and ``resp`` (k, n), weights already applied.
        """
        f64 = torch.float64
        stats["nk"] += resp.sum(1, dtype=f64)
        stats["first"] += torch.bmm(resp[:, None, :], z)[:, 0, :].to(f64)
        weighted = z * resp[:, :, None]
        if self.covariance_type == "full":
            second = torch.bmm(weighted.mT, z)
        elif self.covariance_type == "tied":
            n_features = z.shape[-1]
            second = weighted.reshape(-1, n_features).T @ z.reshape(-1, n_features)
        else:
            second = (weighted * z).sum(1)
        stats["second"] += second.to(f64)
        return stats

    def add_moments_(self, stats, frame, nk, first, second):
        """Add raw moments about the origin to whitened statistics.

        ``nk`` (k,), ``first`` (k, d) and ``second`` (k, d, d) are float64
        tensors of ``sum r``, ``sum r x`` and ``sum r x x^T``, as the expected
        statistics of rows with missing entries come; they are centred on
        each component's mean and whitened like the rows of a pass.
        """
        params = frame["params"]
        mu, prec_chol = params["means"], params["prec_chol"]
        centred_first = first - nk[:, None] * mu
        outer = first[:, :, None] * mu[:, None, :]
        mean_outer = mu[:, :, None] * mu[:, None, :]
        centred_second = second - outer - outer.mT + nk[:, None, None] * mean_outer
        kind = self.covariance_type
        stats["nk"] += nk
        if kind == "full":
            stats["first"] += (centred_first[:, None, :] @ prec_chol)[:, 0, :]
            stats["second"] += prec_chol.mT @ centred_second @ prec_chol
        elif kind == "tied":
            stats["first"] += centred_first @ prec_chol
            stats["second"] += prec_chol.T @ centred_second.sum(0) @ prec_chol
        else:
            scale = prec_chol if kind == "diag" else prec_chol[:, None]
            diagonal = torch.diagonal(centred_second, dim1=-2, dim2=-1)
            stats["first"] += centred_first * scale
            stats["second"] += diagonal * scale**2
        return stats

    # --------------------------------------------- statistics -> parameters

    def m_step(self, frame, stats, eps):
        """New ``(nk, means, covariances)`` from the statistics of ``frame``.

        The statistics are whitened by the frame's parameters: they are
        mapped back with ``x - mu_k = z U_k^{-1}`` in float64.
        """
        params = frame["params"]
        prec_chol = params["prec_chol"]
        nk = stats["nk"] + 10 * eps
        mean_z = stats["first"] / nk[:, None]
        kind = self.covariance_type
        reg = self.reg_covar
        if kind in _QUADRATIC:
            eye = torch.eye(
                prec_chol.shape[-1], dtype=prec_chol.dtype, device=prec_chol.device
            )
            unwhiten = torch.linalg.solve_triangular(
                prec_chol, eye.expand_as(prec_chol), upper=True
            )
            if kind == "full":
                offset = (mean_z[:, None, :] @ unwhiten)[:, 0, :]
                scatter = unwhiten.mT @ stats["second"] @ unwhiten
                covariances = scatter / nk[:, None, None] - (
                    offset[:, :, None] * offset[:, None, :]
                )
            else:
                offset = mean_z @ unwhiten
                scatter = unwhiten.T @ stats["second"] @ unwhiten
                covariances = (scatter - (nk[:, None] * offset).T @ offset) / nk.sum()
            covariances.diagonal(dim1=-2, dim2=-1).add_(reg)
        else:
            scale = prec_chol if kind == "diag" else prec_chol[:, None]
            offset = mean_z / scale
            covariances = stats["second"] / nk[:, None] / scale**2 - offset**2 + reg
            if kind == "spherical":
                covariances = covariances.mean(1)
        return nk, params["means"] + offset, covariances


# --- the expanded form: helpers of ExpandedGaussianFamily ---


def _n_features_map(n_features, covariance_type):
    """Number of rows of the feature map phi for one sample."""
    if covariance_type in _QUADRATIC:
        return n_features * (n_features + 1) // 2 + n_features + 1
    return 2 * n_features + 1


def _build_features(x, shift, covariance_type, out):
    """Fill ``out`` (n_phi, n_rows) with phi(x - shift) for a chunk ``x``."""
    n_features = x.shape[1]
    n_second = out.shape[0] - n_features - 1
    # The centred rows go straight to their place in phi, which then serves
    # as the transposed chunk for the products.
    xt = torch.sub(x.T, shift[:, None], out=out[n_second : n_second + n_features])
    if covariance_type in _QUADRATIC:
        # Row block i holds x_i * x_j for j >= i: the row-major upper
        # triangle, the order of torch.triu_indices.
        row = 0
        for i in range(n_features):
            width = n_features - i
            torch.mul(xt[i : i + 1], xt[i:], out=out[row : row + width])
            row += width
    else:
        torch.mul(xt, xt, out=out[:n_features])
    out[-1] = 1.0
    return out


def _precision_matrices(prec_chol, covariance_type, n_components, n_features):
    """Precision matrices or vectors, broadcast to every component."""
    if covariance_type == "full":
        return prec_chol @ prec_chol.mT
    if covariance_type == "tied":
        return (prec_chol @ prec_chol.mT).expand(n_components, -1, -1)
    if covariance_type == "diag":
        return prec_chol**2
    return (prec_chol**2)[:, None].expand(n_components, n_features)


def _log_det_cholesky(prec_chol, covariance_type, n_components, n_features):
    if covariance_type == "full":
        return torch.log(torch.diagonal(prec_chol, dim1=-2, dim2=-1)).sum(-1)
    if covariance_type == "tied":
        log_det = torch.log(torch.diagonal(prec_chol)).sum()
        return log_det.expand(n_components)
    if covariance_type == "diag":
        return torch.log(prec_chol).sum(-1)
    return n_features * torch.log(prec_chol)


def _coefficients(params, shift, covariance_type):
    """The (n_components, n_phi) matrix A with A . phi(x) = log w_k N(x|k)."""
    weights, means, prec_chol = params["weights"], params["means"], params["prec_chol"]
    n_components, n_features = means.shape
    mu = means - shift
    precisions = _precision_matrices(
        prec_chol, covariance_type, n_components, n_features
    )
    if covariance_type in _QUADRATIC:
        rows, cols = torch.triu_indices(n_features, n_features, device=mu.device)
        quadratic = precisions[:, rows, cols] * torch.where(rows == cols, -0.5, -1.0)
        linear = (precisions @ mu[:, :, None])[:, :, 0]
    else:
        quadratic = -0.5 * precisions
        linear = precisions * mu
    # mu^T P mu, computed through the Cholesky factor as a sum of squares.
    if covariance_type == "full":
        mahalanobis = ((mu[:, None, :] @ prec_chol)[:, 0, :] ** 2).sum(-1)
    elif covariance_type == "tied":
        mahalanobis = ((mu @ prec_chol) ** 2).sum(-1)
    else:
        mahalanobis = (precisions * mu**2).sum(-1)
    log_weights = torch.log(weights)
    constant = (
        -0.5 * (n_features * math.log(2 * math.pi) + mahalanobis)
        + _log_det_cholesky(prec_chol, covariance_type, n_components, n_features)
        + log_weights
    )
    return torch.cat([quadratic, linear, constant[:, None]], dim=1)


def _unpack_second_moments(stats, covariance_type, n_features):
    """Per-component sums of r x x^T (or r x**2) from the statistics."""
    if covariance_type in _QUADRATIC:
        n_quadratic = n_features * (n_features + 1) // 2
        rows, cols = torch.triu_indices(n_features, n_features, device=stats.device)
        n_components = stats.shape[1]
        second = stats.new_zeros((n_components, n_features, n_features))
        second[:, rows, cols] = stats[:n_quadratic].T
        second[:, cols, rows] = stats[:n_quadratic].T
        return second, n_quadratic
    return stats[:n_features].T, n_features


def _parameters_from_stats(stats, shift, covariance_type, reg_covar, eps):
    """M-step: (weights before normalisation, means, covariances).

    ``shift`` is the centre the statistics were gathered around: one point
    of shape (n_features,), or one per component, (n_components, n_features).
    """
    n_features = shift.shape[-1]
    second, offset = _unpack_second_moments(stats, covariance_type, n_features)
    nk = stats[-1] + 10 * eps
    mu = stats[offset : offset + n_features].T / nk[:, None]
    if covariance_type == "full":
        covariances = second / nk[:, None, None] - mu[:, :, None] * mu[:, None, :]
        covariances.diagonal(dim1=-2, dim2=-1).add_(reg_covar)
    elif covariance_type == "tied":
        scatter = second.sum(0) - (nk[:, None] * mu).T @ mu
        covariances = scatter / nk.sum()
        covariances.diagonal().add_(reg_covar)
    else:
        covariances = second / nk[:, None] - mu**2 + reg_covar
        if covariance_type == "spherical":
            covariances = covariances.mean(1)
    return nk, mu + shift, covariances


class _LinearInFeatures:
    """The pass of a family whose log-density is ``coef_k . phi(x)``.

    ``whiten`` gives the feature map ``phi`` (n_phi, n) of a chunk and the
    frame holds ``coef`` (k, n_phi): the log-densities are one GEMM and the
    statistics ``phi R^T`` another, gathered in float64.
    """

    def features(self, frame, x):
        return self.whiten(frame, x)

    def log_prob(self, frame, phi, workspace=None):
        """``log N(x | k)`` (plus ``log w_k`` where ``coef`` has it), (k, n)."""
        coef = frame["coef"]
        out = _take(workspace, "log_prob", (coef.shape[0], phi.shape[1]), phi)
        return torch.matmul(coef, phi, out=out)

    def new_stats(self, frame):
        """Zero statistics ``phi R^T`` in float64."""
        coef = frame["coef"]
        return {"phi": torch.zeros(
            (coef.shape[1], coef.shape[0]), dtype=torch.float64, device=coef.device
        )}

    def accumulate_(self, stats, phi, resp):
        """Add a chunk's ``phi R^T``, ``resp`` (k, n) weights applied."""
        stats["phi"] += (phi @ resp.T).to(torch.float64)
        return stats

    def stats_of_features(self, block):
        return {"phi": block}


class ExpandedGaussianFamily(_LinearInFeatures):
    """Gaussian components whose log-density is one GEMM on a feature map.

    Each row of a chunk becomes ``phi(x - shift)``: the upper triangle of
    ``x x^T`` (``x**2`` for diag and spherical), then ``x``, then ``1``.
    Then ``log w_k N(x | k) = A_k . phi`` for a coefficient matrix ``A``, and
    the statistics ``(sum r, sum r x, sum r x x^T)`` are ``phi R^T``: two
    large GEMMs a chunk.  The expanded quadratic form cancels in finite
    precision when a component is narrow compared with its distance to the
    shift; :func:`gaussian_family` picks this family only when that loss is
    negligible for the dtype.
    """

    def __init__(self, covariance_type, reg_covar):
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar

    def frame(self, params, shift, dtype):
        """The coefficient matrix of a pass, for rows centred on ``shift``."""
        coef = _coefficients(params, shift, self.covariance_type)
        return {"coef": coef.to(dtype), "shift": shift, "params": params}

    takes_workspace = True

    def whiten(self, frame, x, workspace=None):
        """The feature map ``phi`` (n_phi, n) of a chunk ``x`` (n, d)."""
        n_phi = _n_features_map(x.shape[1], self.covariance_type)
        out = _take(workspace, "phi", (n_phi, x.shape[0]), x)
        shift = frame["shift"].to(x.dtype)
        return _build_features(x, shift, self.covariance_type, out)

    def m_step(self, frame, stats, eps):
        """New ``(nk, means, covariances)`` from the statistics."""
        return _parameters_from_stats(
            stats["phi"], frame["shift"], self.covariance_type, self.reg_covar, eps
        )


class MaskedDiagonalGaussianFamily(_LinearInFeatures):
    """Diagonal Gaussian components over rows with missing entries (NaN).

    A missing entry drops out of its row's log-density, which is then the
    density of the observed entries: with independent columns this is the
    exact marginal.  The log-density stays linear in a feature map,
    ``[o x**2, o x, o]`` per column with ``o`` the observed indicator, so the
    family composes in a :class:`LinearProductFamily`; its statistics are
    the per-column ``(sum r o, sum r o x, sum r o x**2)`` and the M-step
    estimates each column from the rows that observe it.  Parameters are
    ``means`` and ``prec_chol`` as in the diagonal Gaussian families; the
    component weights are the product's (a missing entry must not drop
    them).
    """

    def __init__(self, reg_covar):
        self.reg_covar = reg_covar

    def frame(self, params, shift, dtype):
        means, prec_chol = params["means"], params["prec_chol"]
        precisions = prec_chol**2
        constant = (
            -0.5 * precisions * means**2
            + torch.log(prec_chol)
            - 0.5 * math.log(2 * math.pi)
        )
        coef = torch.cat([-0.5 * precisions, precisions * means, constant], dim=1)
        return {"coef": coef.to(dtype).contiguous()}

    def whiten(self, frame, x):
        """The feature map ``[o x**2, o x, o]`` (3d, n) of a chunk with NaN."""
        observed = ~torch.isnan(x)
        filled = torch.where(observed, x, 0.0)
        return torch.cat([filled * filled, filled, observed.to(x.dtype)], dim=1).T

    def m_step(self, frame, stats, eps):
        """``(n_kj, means, variances)``: ``n_kj`` (k, d) counts each column."""
        phi = stats["phi"]
        d = phi.shape[0] // 3
        counts = phi[2 * d :].T + 10 * eps
        means = phi[d : 2 * d].T / counts
        variances = phi[:d].T / counts - means**2 + self.reg_covar
        return counts, means, variances


class CategoricalFamily:
    """Categorical components over one-hot blocks of columns.

    A chunk holds, for each categorical column, a one-hot block over its
    levels (an all-zero block: a value outside them, which then adds
    nothing).  ``log P(x | k)`` is then one GEMM with the components' log
    probabilities, and ``sum r x`` (the counts of each level) is the
    sufficient statistic: the same two-GEMM pass as the expanded Gaussian.

    Parameters are ``{"log_proba": (k, total levels)}`` in float64.  The
    M-step is the posterior mode under a Dirichlet prior of
    ``prior_strength`` pseudo-rows spread as ``prior`` (the levels' shares
    in the data, say), so that a small component keeps some probability on
    every level and the mixture keeps the data's marginal shares.
    """

    def __init__(self, block_sizes, prior, prior_strength):
        self.block_sizes = list(block_sizes)
        self.prior = prior
        self.prior_strength = prior_strength

    def frame(self, params, shift, dtype):
        return {"coef": params["log_proba"].to(dtype)}

    def whiten(self, frame, x):
        return x

    def log_prob(self, frame, x):
        """``log P(x | k)`` of shape (k, n)."""
        return frame["coef"] @ x.T

    def new_stats(self, frame):
        coef = frame["coef"]
        return {"counts": torch.zeros(coef.shape, dtype=torch.float64,
                                      device=coef.device)}

    def accumulate_(self, stats, x, resp):
        stats["counts"] += (resp @ x).to(torch.float64)
        return stats

    def features(self, frame, x):
        return x.T

    def stats_of_features(self, block):
        return {"counts": block.T}

    def m_step(self, frame, stats, eps):
        """New ``{"log_proba"}``, each block normalised over its levels."""
        counts = stats["counts"] + self.prior_strength * self.prior
        parts, start = [], 0
        for size in self.block_sizes:
            block = counts[:, start : start + size]
            total = block.sum(1, keepdim=True).clamp(min=10 * eps)
            parts.append(torch.log(block / total))
            start += size
        return {"log_proba": torch.cat(parts, dim=1)}


class IntervalGaussianFamily:
    """Diagonal Gaussian components scored on intervals (discrete values).

    A row holds, for each of ``d`` columns, the edges ``(lower, upper)`` of
    its value's interval in the model's units, as ``[lower_1..d,
    upper_1..d]``; its log-probability under component k is
    ``sum_j log(Phi(b_j) - Phi(a_j))`` with ``a, b`` the standardised edges.
    It scores only: the model is fitted on dequantized values, whose
    Gaussian density this integrates over each interval.  Parameters are
    ``means`` and ``covariances`` (k, d).
    """

    def frame(self, params, shift, dtype):
        return {
            "means": params["means"].to(dtype),
            "inv_std": torch.rsqrt(params["covariances"]).to(dtype),
        }

    def whiten(self, frame, x):
        """Standardised edges ``(a, b)``, each (k, n, d)."""
        d = x.shape[1] // 2
        means, inv_std = frame["means"][:, None, :], frame["inv_std"][:, None, :]
        return ((x[:, :d] - means) * inv_std, (x[:, d:] - means) * inv_std)

    def log_prob(self, frame, z):
        a, b = z
        # Phi(b) - Phi(a) = Phi(-a) - Phi(-b): take the side where both edges
        # are in the lower tail, so that neither CDF rounds to one.
        flip = a > 0
        low = torch.where(flip, -b, a)
        high = torch.where(flip, -a, b)
        log_high = torch.special.log_ndtr(high)
        log_low = torch.special.log_ndtr(low)
        mass = log_high + torch.log(-torch.expm1(log_low - log_high))
        # A missing value (NaN edges) drops out: its mass is one.
        return torch.nan_to_num(mass, nan=0.0).sum(-1)


class ProductFamily:
    """Components whose column groups are independent given the component.

    ``parts`` is a sequence of ``(family, columns)``: each family models the
    slice ``columns`` of a chunk, and a component's log-density is the sum of
    its parts' plus ``log w_k``.  Parameters are ``{"weights": (k,),
    "parts": (params of each part, ...)}``; a part's own weights, where its
    frame reads them, are ones.  The statistics are the parts' with
    ``nk = sum r``; the M-step returns ``(nk, (each part's m_step result))``.
    """

    def __init__(self, parts):
        self.parts = list(parts)

    def frame(self, params, shift, dtype):
        frames = tuple(
            family.frame(part_params, part_shift, dtype)
            for (family, _), part_params, part_shift in zip(
                self.parts, params["parts"], shift, strict=True
            )
        )
        return {"parts": frames, "log_weights": torch.log(params["weights"]).to(dtype)}

    def whiten(self, frame, x):
        return tuple(
            family.whiten(part_frame, x[:, columns])
            for (family, columns), part_frame in zip(
                self.parts, frame["parts"], strict=True
            )
        )

    def log_prob(self, frame, z):
        """``log w_k + sum of the parts' log-densities``, shape (k, n)."""
        total = None
        for (family, _), part_frame, part_z in zip(
            self.parts, frame["parts"], z, strict=True
        ):
            part = family.log_prob(part_frame, part_z)
            total = part if total is None else total.add_(part)
        return total.add_(frame["log_weights"][:, None])

    def new_stats(self, frame):
        k = frame["log_weights"].shape[0]
        nk = torch.zeros(k, dtype=torch.float64, device=frame["log_weights"].device)
        parts = tuple(
            family.new_stats(part_frame)
            for (family, _), part_frame in zip(self.parts, frame["parts"], strict=True)
        )
        return {"nk": nk, "parts": parts}

    def accumulate_(self, stats, z, resp):
        stats["nk"] += resp.sum(1, dtype=torch.float64)
        for (family, _), part_stats, part_z in zip(
            self.parts, stats["parts"], z, strict=True
        ):
            family.accumulate_(part_stats, part_z, resp)
        return stats

    def m_step(self, frame, stats, eps):
        results = tuple(
            family.m_step(part_frame, part_stats, eps)
            for (family, _), part_frame, part_stats in zip(
                self.parts, frame["parts"], stats["parts"], strict=True
            )
        )
        return stats["nk"], results


class LinearProductFamily(_LinearInFeatures, ProductFamily):
    """A product whose parts are all linear in a feature map: one GEMM a chunk.

    When every part's log-density is ``coef_k . phi(x)`` (the expanded
    Gaussian, the categorical), so is their sum: the parts' feature maps are
    stacked, with a row of ones for ``log w_k``, and a pass costs one GEMM
    for the log-densities and one for the statistics ``Phi R^T``, as for a
    single family.  Parameters, statistics split by part and M-step are
    those of :class:`ProductFamily`.
    """

    def frame(self, params, shift, dtype):
        frame = super().frame(params, shift, dtype)
        coefs = [part_frame["coef"] for part_frame in frame["parts"]]
        coefs.append(frame["log_weights"][:, None])
        frame["coef"] = torch.cat(coefs, dim=1).contiguous()
        return frame

    def whiten(self, frame, x):
        """The stacked feature map (n_features_total, n) of a chunk."""
        maps = [
            family.features(part_frame, x[:, columns])
            for (family, columns), part_frame in zip(
                self.parts, frame["parts"], strict=True
            )
        ]
        maps.append(x.new_ones((1, x.shape[0])))
        return torch.cat(maps, dim=0)

    def m_step(self, frame, stats, eps):
        phi, start, parts = stats["phi"], 0, []
        for (family, _), part_frame in zip(self.parts, frame["parts"], strict=True):
            width = part_frame["coef"].shape[1]
            block = family.stats_of_features(phi[start : start + width])
            parts.append(family.m_step(part_frame, block, eps))
            start += width
        return phi[-1], tuple(parts)


def product_family(parts):
    """A :class:`LinearProductFamily` when every part allows, else a product."""
    if all(hasattr(family, "features") for family, _ in parts):
        return LinearProductFamily(parts)
    return ProductFamily(parts)


def gaussian_family(covariance_type, reg_covar, params, shift, spread, dtype):
    """The family for a pass: expanded (fast) or whitened (robust).

    The expanded form loses about ``eps * lambda_max(P_k) * r^2`` of relative
    precision in component k, where ``r^2`` is the squared distance of its
    rows to the shift: bounded here by ``spread`` (the data's mean squared
    distance to the shift) plus that of the component's mean.  It is used
    while this stays below ``_EXPANDED_TOLERANCE``, which holds in float64
    on all but extreme data and in float32 on well-scaled data.
    """
    eps = torch.finfo(dtype).eps
    prec_chol = params["prec_chol"]
    if covariance_type in _QUADRATIC:
        largest = torch.linalg.matrix_norm(prec_chol, ord=2) ** 2
    elif covariance_type == "diag":
        largest = (prec_chol**2).amax(-1)
    else:
        largest = prec_chol**2
    far = ((params["means"] - shift) ** 2).sum(-1)
    loss = float((eps * largest * (spread + far)).max())
    if loss <= _EXPANDED_TOLERANCE:
        return ExpandedGaussianFamily(covariance_type, reg_covar)
    return WhitenedGaussianFamily(covariance_type, reg_covar)


def row_width(covariance_type, n_components, n_features):
    """Elements of working space per row of a chunk, for either family."""
    whitened = 2 * n_components * n_features + 3 * n_components + n_features
    expanded = _n_features_map(n_features, covariance_type) + 3 * n_components
    return max(whitened, expanded)
