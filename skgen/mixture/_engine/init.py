"""Initial responsibilities and centres of the mixtures' EM.

The draws depend on the rows and their weights, never on the rows' order
or on how a weight is split into repeated rows: they are made over the rows
in lexicographic order (``weighted_order``), by inverse CDF.
"""

import numpy as np
import torch
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.metrics import pairwise_distances_argmin

from skgen.mixture._engine.families import WhitenedGaussianFamily
from skgen.mixture._engine.gaussian_params import (
    covariances_from_precisions,
    precision_cholesky,
    precision_cholesky_from_precisions,
)
from skgen.mixture._engine.passes import stats_of_responsibilities
from skgen.utils._threads import few_threads_for
from skgen.utils._torch import as_tensor

__all__ = [
    "distinct_draws",
    "initial_moments",
    "initial_parameters",
    "kmeans_plusplus_centres",
    "nearest_centre_labels",
    "weighted_order",
]


def weighted_order(X, sample_weight):
    """Rows of positive weight in lexicographic order, and their weights.

    The initialisations draw by inverse-CDF sampling over this order: a row
    of weight w then covers the same stretch of the cumulative weights as w
    repeated copies of it, and shuffling the rows changes nothing.  The sort
    costs O(n log n) per fit and, for k-means, a copy of the data.
    """
    keep = np.arange(X.shape[0])
    if sample_weight is not None:
        keep = np.flatnonzero(sample_weight > 0)
    order = keep[np.lexsort(X[keep].T[::-1])]
    weights = None if sample_weight is None else sample_weight[order]
    return order, weights


def kmeans_plusplus_centres(X, sample_weight, n_components, random_state):
    """``n_components`` rows of X drawn by weighted k-means++, in draw order."""
    order, weights = weighted_order(X, sample_weight)
    with few_threads_for(X.size):
        _, chosen = kmeans_plusplus(
            X[order], n_components, random_state=random_state, sample_weight=weights
        )
    return X[order][chosen]


def nearest_centre_labels(X, sample_weight, n_components, random_state):
    """The nearest of ``n_components`` k-means++ centres to each row of X."""
    centres = kmeans_plusplus_centres(X, sample_weight, n_components, random_state)
    with few_threads_for(X.size):
        return pairwise_distances_argmin(X, centres)


def initial_moments(init_params, covariance_type, reg_covar, n_components, X, source,
                    sample_weight, shift, random_state):
    """``(nk, means, covariances)`` of the initial responsibilities.

    k-means labels are gathered around each cluster's own mean, so that
    a tight cluster loses no precision.  The draws depend on the rows and
    their weights, not on the rows' order or on how a weight is split
    into repeated rows (see ``weighted_order``), except for
    ``init_params='random'``, which draws one responsibility per row.
    """
    n_samples = X.shape[0]
    k = n_components
    device = source.X.device
    dtype = source.X.dtype
    family = WhitenedGaussianFamily(covariance_type, reg_covar)
    eps = np.finfo(X.dtype).eps
    if init_params == "random":
        resp = random_state.uniform(size=(n_samples, k))
        resp /= resp.sum(axis=1)[:, np.newaxis]
        resp = as_tensor(resp.T.astype(X.dtype), device)
        frame = family.identity_frame(shift.expand(k, -1), shift, dtype)
        stats = stats_of_responsibilities(family, frame, source, resp)
        return family.m_step(frame, stats, eps)
    order, weights = weighted_order(X, sample_weight)
    if init_params == "kmeans":
        # X[order] is a copy already: KMeans may centre it in place
        # rather than copy it again (copy_x=False).
        with few_threads_for(X.size):
            kmeans = KMeans(
                n_clusters=k, n_init=1, random_state=random_state, copy_x=False
            ).fit(X[order], sample_weight=weights)
            labels = torch.as_tensor(
                kmeans.predict(X), dtype=torch.int64, device=device
            )
        resp = torch.nn.functional.one_hot(labels, k).T.to(dtype)
        w = source.sample_weight
        weighted = resp if w is None else resp * w
        counts = weighted.sum(1, dtype=torch.float64)
        centres = weighted.to(torch.float64) @ source.X.to(torch.float64)
        centres /= counts.clamp(min=np.finfo(np.float64).tiny)[:, None]
        frame = family.identity_frame(centres, shift, dtype)
        stats = stats_of_responsibilities(family, frame, source, resp)
        return family.m_step(frame, stats, eps)
    if init_params == "random_from_data":
        rows = X[order][distinct_draws(X[order], weights, k, random_state)]
    else:  # k-means++
        rows = kmeans_plusplus_centres(X, sample_weight, k, random_state)
    # One row per component with a unit responsibility, as scikit-learn
    # gives it: zero scatter, so each covariance starts at reg_covar.
    centres = torch.as_tensor(rows, dtype=torch.float64, device=device)
    frame = family.identity_frame(centres, shift, dtype)
    stats = family.new_stats(frame)
    stats["nk"] += 1.0
    return family.m_step(frame, stats, eps)


def distinct_draws(X, sample_weight, n_draws, random_state):
    """Indices of ``n_draws`` rows of X drawn by weight, distinct in value.

    Draws with replacement by inverse CDF and skips a row equal to one
    already chosen, so that weights and repeated rows give the same draw;
    when X has fewer distinct rows, the remaining draws may repeat values.
    """
    weights = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    cdf = np.cumsum(weights, dtype=np.float64)
    chosen = []
    for attempt in range(100 * n_draws):
        index = int(np.searchsorted(cdf, random_state.uniform() * cdf[-1], "right"))
        index = min(index, X.shape[0] - 1)
        repeat = any(np.array_equal(X[index], X[j]) for j in chosen)
        if not repeat or attempt >= 50 * n_draws:
            chosen.append(index)
        if len(chosen) == n_draws:
            break
    return np.asarray(chosen)


def initial_parameters(data, init_params, covariance_type, reg_covar, n_components,
                       random_state):
    """A Gaussian mixture's initial parameters, drawn in scikit-learn's order.

    ``data`` is the ``FitData`` of the fit: the draws come from its
    ``init_rows`` (all the rows of data in memory, a bounded random sample
    of a Dask array's), and the user's initial weights, means and
    precisions (``data.inits``) replace what they give.
    """
    device = data.device
    weights_init, means_init, precisions_init = data.inits
    params = {}
    if weights_init is None or means_init is None or precisions_init is None:
        X, source, sample_weight, total_weight = data.init_rows
        nk, means, covariances = initial_moments(
            init_params, covariance_type, reg_covar, n_components, X, source,
            sample_weight, data.shift, random_state,
        )
        params = {"weights": nk / total_weight, "means": means,
                  "covariances": covariances}

    def as_param(a):
        return torch.as_tensor(a, dtype=torch.float64, device=device)

    if weights_init is not None:
        params["weights"] = as_param(weights_init)
    if means_init is not None:
        params["means"] = as_param(means_init)
    if precisions_init is None:
        params["prec_chol"] = precision_cholesky(
            params["covariances"], covariance_type, data.dtype
        )
    else:
        precisions = as_param(precisions_init)
        params["prec_chol"] = precision_cholesky_from_precisions(
            precisions, covariance_type
        )
        params["covariances"] = covariances_from_precisions(precisions, covariance_type)
    return params
