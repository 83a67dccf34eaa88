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
    "covariances_from_precisions",
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
