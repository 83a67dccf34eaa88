"""Data and initial parameters shared by the mixture tests.

The test files import it as ``from _data import ...``: pytest puts the folder
of a test file that is not in a package on ``sys.path``.
"""

import numpy as np
from sklearn.cluster import kmeans_plusplus


def explicit_init(X, n_components, covariance_type, seed=0):
    """P1's explicit initialisation: k-means++ centres, global covariance."""
    centres, _ = kmeans_plusplus(X, n_components, random_state=seed)
    precision = np.linalg.inv(np.cov(X.T) + 1e-6 * np.eye(X.shape[1]))
    precisions = {
        "full": np.repeat(precision[None], n_components, axis=0),
        "tied": precision,
        "diag": np.repeat(np.diag(precision)[None], n_components, axis=0),
        "spherical": np.full(n_components, np.mean(np.diag(precision))),
    }[covariance_type]
    return dict(
        weights_init=np.full(n_components, 1.0 / n_components),
        means_init=centres,
        precisions_init=precisions,
    )


def mixture_data(rng, n_samples=1500, n_features=4, n_components=3, offset=0.0):
    """Rows of a random Gaussian mixture with full covariances, and labels."""
    means = rng.normal(scale=3.0, size=(n_components, n_features))
    labels = rng.integers(n_components, size=n_samples)
    A = rng.normal(size=(n_components, n_features, n_features))
    noise = np.einsum("nij,nj->ni", A[labels], rng.normal(size=(n_samples, n_features)))
    return means[labels] + 0.5 * noise + offset, labels
