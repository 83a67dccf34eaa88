"""Stepwise (online) EM: blending a batch's statistics into running ones.

:meth:`GaussianMixture.partial_fit <skgen.GaussianMixture.partial_fit>` runs
one pass of :mod:`~skgen.mixture._engine.passes` per batch and blends its
M-step into the running statistics with a decreasing step size.
"""

__all__ = ["blend_statistics", "step_size", "with_ridge"]

_QUADRATIC = ("full", "tied")

# Stepwise EM's step sizes, eta_t = (t + _STEP_OFFSET) ** -_STEP_EXPONENT.
_STEP_OFFSET = 2
_STEP_EXPONENT = 0.6


def step_size(step):
    """The step size of batch ``step`` (0, 1, ...): in (0.5, 1] as a power."""
    return (step + _STEP_OFFSET) ** -_STEP_EXPONENT


def with_ridge(covariances, covariance_type, ridge):
    """Covariances plus ``ridge`` on the diagonal (every entry if diag/spherical)."""
    if covariance_type in _QUADRATIC:
        covariances = covariances.clone()
        covariances.diagonal(dim1=-2, dim2=-1).add_(ridge)
        return covariances
    return covariances + ridge


def blend_statistics(covariance_type, state, batch, eta):
    """``(1 - eta) s + eta s_batch`` in the parameters' own form.

    The statistics per sample, ``(pi_k, pi_k mu_k, pi_k (C_k + mu_k mu_k^T))``,
    blend linearly; written with the weights, means and covariances
    (without ridge) of both sides, as in a pooled variance, so that no
    second moment about the origin is formed.
    """
    a = (1.0 - eta) * state["weights"]
    b = eta * batch["weights"]
    n = a + b
    means = (a[:, None] * state["means"] + b[:, None] * batch["means"]) / n[:, None]
    da = state["means"] - means
    db = batch["means"] - means
    ca, cb = state["covariances"], batch["covariances"]
    if covariance_type == "full":
        outer_a = da[:, :, None] * da[:, None, :]
        outer_b = db[:, :, None] * db[:, None, :]
        covariances = (
            a[:, None, None] * (ca + outer_a) + b[:, None, None] * (cb + outer_b)
        ) / n[:, None, None]
    elif covariance_type == "tied":
        between = (a[:, None] * da).T @ da + (b[:, None] * db).T @ db
        covariances = (a.sum() * ca + b.sum() * cb + between) / n.sum()
    elif covariance_type == "diag":
        covariances = (
            a[:, None] * (ca + da**2) + b[:, None] * (cb + db**2)
        ) / n[:, None]
    else:
        covariances = (
            a * (ca + (da**2).mean(1)) + b * (cb + (db**2).mean(1))
        ) / n
    return {"weights": n / n.sum(), "means": means, "covariances": covariances}
