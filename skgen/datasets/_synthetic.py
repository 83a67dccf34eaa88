"""The ring and grid mixtures of protocol P4 (after VEEGAN and PacGAN)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["make_grid", "make_ring"]


def _sample_modes(centers, n_samples, std, random_state):
    """Draw from the equally weighted mixture of N(center, std^2 I)."""
    rng = check_random_state(random_state)
    y = rng.randint(len(centers), size=n_samples)
    X = centers[y] + std * rng.standard_normal(size=(n_samples, 2))
    return X, y


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_modes": [Interval(Integral, 1, None, closed="left")],
        "radius": [Interval(Real, 0, None, closed="neither")],
        "std": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "return_centers": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_ring(
    n_samples=100_000, *, n_modes=8, radius=1.0, std=0.01, random_state=None,
    return_centers=False,
):
    """Draw from ``n_modes`` Gaussians evenly spaced on a circle.

    Mode ``i`` is centred at ``radius * (cos(2 pi i / n_modes), sin(2 pi i /
    n_modes))`` for ``i = 0 .. n_modes - 1`` (no duplicated end point), with
    isotropic standard deviation ``std``; every mode has the same weight.
    The defaults are those of protocol P4.

    Parameters
    ----------
    n_samples : int, default=100_000
        Number of points.
    n_modes : int, default=8
        Number of Gaussians on the ring.
    radius : float, default=1.0
        Radius of the ring.
    std : float, default=0.01
        Standard deviation of each Gaussian.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw.
    return_centers : bool, default=False
        Also return the centres of the modes.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points.
    y : ndarray of shape (n_samples,)
        The mode of each point.
    centers : ndarray of shape (n_modes, 2)
        The centres of the modes; only with ``return_centers=True``.

    Examples
    --------
    >>> from skgen.datasets import make_ring
    >>> X, y, centers = make_ring(1000, random_state=0, return_centers=True)
    >>> X.shape, centers.shape
    ((1000, 2), (8, 2))
    """
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    centers = radius * np.column_stack([np.cos(angles), np.sin(angles)])
    X, y = _sample_modes(centers, n_samples, std, random_state)
    return (X, y, centers) if return_centers else (X, y)


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "grid_size": [Interval(Integral, 1, None, closed="left")],
        "spacing": [Interval(Real, 0, None, closed="neither")],
        "std": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "return_centers": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_grid(
    n_samples=100_000, *, grid_size=5, spacing=2.0, std=0.05, random_state=None,
    return_centers=False,
):
    """Draw from ``grid_size**2`` Gaussians on a square grid centred at 0.

    With the defaults of protocol P4 the centres are ``{-4, -2, 0, 2, 4}^2``
    and the standard deviation is 0.05; every mode has the same weight.

    Parameters
    ----------
    n_samples : int, default=100_000
        Number of points.
    grid_size : int, default=5
        Number of modes along each axis.
    spacing : float, default=2.0
        Distance between neighbouring centres.
    std : float, default=0.05
        Standard deviation of each Gaussian.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw.
    return_centers : bool, default=False
        Also return the centres of the modes.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points.
    y : ndarray of shape (n_samples,)
        The mode of each point.
    centers : ndarray of shape (grid_size**2, 2)
        The centres of the modes; only with ``return_centers=True``.

    Examples
    --------
    >>> from skgen.datasets import make_grid
    >>> X, y, centers = make_grid(1000, random_state=0, return_centers=True)
    >>> float(centers.min()), float(centers.max()), len(centers)
    (-4.0, 4.0, 25)
    """
    axis = (np.arange(grid_size) - (grid_size - 1) / 2) * spacing
    centers = np.array([(a, b) for a in axis for b in axis])
    X, y = _sample_modes(centers, n_samples, std, random_state)
    return (X, y, centers) if return_centers else (X, y)
