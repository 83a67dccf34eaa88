"""Gaussian mixture parameters in their forms, and checks of user-given ones.

Covariances, precisions and the upper Cholesky factor of the precision,
converted in float64 torch tensors; the checks of initial weights, means and
precisions follow scikit-learn's rules and messages, so that code written
against ``sklearn.mixture.GaussianMixture`` keeps working.
"""

import numpy as np
import torch
from sklearn.utils import check_array

__all__ = [
    "ILL_DEFINED_COVARIANCE",
    "check_means",
    "check_precisions",
    "check_weights",
    "checked_inits",
    "covariances_from_precisions",
    "draw_samples",
    "fitted_arrays",
    "n_free_parameters",
    "parameters_from_arrays",
    "precision_cholesky",
    "precision_cholesky_from_precisions",
]

_QUADRATIC = ("full", "tied")

ILL_DEFINED_COVARIANCE = (
    "Fitting the mixture model failed because some components have "
    "ill-defined empirical covariance (for instance caused by singleton "
    "or collapsed samples). Try to decrease the number of components, "
    "increase reg_covar, or scale the input data."
)
_FLOAT32_HINT = (
    " The numerical accuracy can also be improved by passing float64"
    " data instead of float32."
)


# ---------------------------------------------------------------------------
# Validation of user-given initial parameters (same rules and messages as
# scikit-learn's, so that code written against it keeps working).
# ---------------------------------------------------------------------------


def _check_shape(param, param_shape, name):
    if param.shape != param_shape:
        raise ValueError(
            f"The parameter '{name}' should have the shape of {param_shape}, "
            f"but got {param.shape}"
        )


def check_weights(weights, n_components):
    weights = check_array(weights, dtype=[np.float64, np.float32], ensure_2d=False)
    _check_shape(weights, (n_components,), "weights")
    if np.any(weights < 0.0) or np.any(weights > 1.0):
        raise ValueError(
            "The parameter 'weights' should be in the range "
            f"[0, 1], but got max value {np.max(weights):.5f}, "
            f"min value {np.min(weights):.5f}"
        )
    atol = 1e-6 if weights.dtype == np.float32 else 1e-8
    if not np.allclose(np.abs(1.0 - np.sum(weights)), 0.0, atol=atol):
        raise ValueError(
            "The parameter 'weights' should be normalized, but got "
            f"sum(weights) = {np.sum(weights):.5f}"
        )
    return weights


def check_means(means, n_components, n_features):
    means = check_array(means, dtype=[np.float64, np.float32], ensure_2d=False)
    _check_shape(means, (n_components, n_features), "means")
    return means


def check_precisions(precisions, covariance_type, n_components, n_features):
    precisions = check_array(
        precisions,
        dtype=[np.float64, np.float32],
        ensure_2d=False,
        allow_nd=covariance_type == "full",
    )
    shapes = {
        "full": (n_components, n_features, n_features),
        "tied": (n_features, n_features),
        "diag": (n_components, n_features),
        "spherical": (n_components,),
    }
    _check_shape(precisions, shapes[covariance_type], f"{covariance_type} precision")
    if covariance_type in _QUADRATIC:
        matrices = precisions.reshape(-1, n_features, n_features)
        symmetric = np.allclose(matrices, np.swapaxes(matrices, 1, 2))
        if not (symmetric and np.all(np.linalg.eigvalsh(matrices) > 0.0)):
            raise ValueError(
                f"'{covariance_type} precision' should be symmetric, "
                "positive-definite"
            )
    elif np.any(precisions <= 0.0):
        raise ValueError(f"'{covariance_type} precision' should be positive")
    return precisions


# ---------------------------------------------------------------------------
# Parameters from covariances or precisions, in float64 torch tensors.
# ---------------------------------------------------------------------------


def precision_cholesky(covariances, covariance_type, input_dtype):
    """Cholesky factor U of the precision, P = U U^T, U upper triangular."""
    float32_input = input_dtype == np.float32
    message = ILL_DEFINED_COVARIANCE + (_FLOAT32_HINT if float32_input else "")
    if covariance_type in _QUADRATIC:
        cov_chol, info = torch.linalg.cholesky_ex(covariances)
        if bool((info != 0).any()) or not bool(torch.isfinite(cov_chol).all()):
            raise ValueError(message)
        eye = torch.eye(
            covariances.shape[-1], dtype=covariances.dtype, device=covariances.device
        ).expand_as(cov_chol)
        return torch.linalg.solve_triangular(cov_chol, eye, upper=False).mT
    if bool((covariances <= 0.0).any()) or not bool(torch.isfinite(covariances).all()):
        raise ValueError(message)
    return 1.0 / torch.sqrt(covariances)


def precision_cholesky_from_precisions(precisions, covariance_type):
    """U with P = U U^T, U upper triangular, as scikit-learn computes it."""
    if covariance_type in _QUADRATIC:
        flipped = torch.flip(precisions, dims=(-2, -1))
        return torch.flip(torch.linalg.cholesky(flipped), dims=(-2, -1))
    return torch.sqrt(precisions)


def covariances_from_precisions(precisions, covariance_type):
    if covariance_type in _QUADRATIC:
        return torch.linalg.inv(precisions)
    return 1.0 / precisions


def checked_inits(weights_init, means_init, precisions_init, covariance_type,
                  n_components, n_features):
    """Validated copies of user-given initial parameters (None stays None)."""
    if weights_init is not None:
        weights_init = check_weights(weights_init, n_components)
    if means_init is not None:
        means_init = check_means(means_init, n_components, n_features)
    if precisions_init is not None:
        precisions_init = check_precisions(
            precisions_init, covariance_type, n_components, n_features
        )
    return weights_init, means_init, precisions_init


# ---------------------------------------------------------------------------
# The fitted attributes, the parameter count and sampling.
# ---------------------------------------------------------------------------


def fitted_arrays(params, covariance_type, dtype):
    """The fitted attributes of a parameter dict, as numpy arrays of ``dtype``."""
    def to_numpy(t):
        return t.detach().cpu().numpy().astype(dtype, copy=False)

    prec_chol = params["prec_chol"]
    if covariance_type in _QUADRATIC:
        precisions = prec_chol @ prec_chol.mT
    else:
        precisions = prec_chol**2
    return {
        "weights_": to_numpy(params["weights"]),
        "means_": to_numpy(params["means"]),
        "covariances_": to_numpy(params["covariances"]),
        "precisions_cholesky_": to_numpy(prec_chol),
        "precisions_": to_numpy(precisions),
    }


def parameters_from_arrays(weights, means, covariances, prec_chol, device):
    """The parameter dict (float64 tensors on ``device``) of fitted arrays."""
    def as_param(a):
        return torch.as_tensor(np.asarray(a), dtype=torch.float64, device=device)

    return {"weights": as_param(weights), "means": as_param(means),
            "covariances": as_param(covariances), "prec_chol": as_param(prec_chol)}


def n_free_parameters(covariance_type, n_components, n_features):
    """Free parameters of a mixture: weights, means and covariances."""
    k, d = n_components, n_features
    cov_params = {
        "full": k * d * (d + 1) / 2.0,
        "diag": k * d,
        "tied": d * (d + 1) / 2.0,
        "spherical": k,
    }[covariance_type]
    return int(cov_params + d * k + k - 1)


def draw_samples(weights, means, covariances, covariance_type, n_samples, rng):
    """``n_samples`` rows of the mixture, grouped by component, and their labels.

    The component counts are one multinomial draw; the rows are drawn from
    ``rng`` (a ``RandomState``) in scikit-learn's order.
    """
    weights = np.asarray(weights, dtype=np.float64)
    n_per_component = rng.multinomial(n_samples, weights / weights.sum())
    means = np.asarray(means, dtype=np.float64)
    covariances = np.asarray(covariances, dtype=np.float64)
    n_features = means.shape[1]
    parts = []
    for k, (mean, count) in enumerate(zip(means, n_per_component, strict=True)):
        if covariance_type == "full":
            part = rng.multivariate_normal(mean, covariances[k], int(count))
        elif covariance_type == "tied":
            part = rng.multivariate_normal(mean, covariances, int(count))
        else:
            part = mean + rng.standard_normal(size=(count, n_features)) * np.sqrt(
                covariances[k]
            )
        parts.append(part)
    labels = np.repeat(np.arange(len(n_per_component)), n_per_component)
    return np.vstack(parts), labels
