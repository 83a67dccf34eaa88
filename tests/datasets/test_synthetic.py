"""Tests of the P4 ring and grid generators."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial.distance import cdist, pdist

from skgen.datasets import make_grid, make_ring


def test_ring_has_distinct_centres_on_the_circle():
    X, y, centers = make_ring(4000, random_state=0, return_centers=True)
    assert centers.shape == (8, 2)
    assert_allclose(np.hypot(*centers.T), 1.0)
    # endpoint=False: no mode is duplicated; neighbours are 2 sin(pi/8) apart.
    assert pdist(centers).min() == pytest.approx(2 * np.sin(np.pi / 8))
    angles = np.sort(np.mod(np.arctan2(centers[:, 1], centers[:, 0]), 2 * np.pi))
    assert_allclose(angles, 2 * np.pi * np.arange(8) / 8, atol=1e-12)
    # Each point is near its own centre, with the requested spread.
    assert_array_equal(cdist(X, centers).argmin(1), y)
    assert np.std(X - centers[y]) == pytest.approx(0.01, rel=0.05)
    assert np.bincount(y).min() > 4000 / 8 * 0.8


def test_grid_centres_and_spread():
    X, y, centers = make_grid(5000, random_state=1, return_centers=True)
    axis = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
    expected = {(a, b) for a in axis for b in axis}
    assert {tuple(c) for c in centers} == expected
    assert np.std(X - centers[y]) == pytest.approx(0.05, rel=0.05)
    assert len(np.unique(y)) == 25


def test_generators_are_reproducible_and_validate():
    assert_array_equal(make_ring(50, random_state=3)[0],
                       make_ring(50, random_state=3)[0])
    assert not np.allclose(make_grid(50, random_state=3)[0],
                           make_grid(50, random_state=4)[0])
    assert len(make_ring(10)) == 2
    with pytest.raises(ValueError, match="n_samples"):
        make_ring(0)
    with pytest.raises(ValueError, match="std"):
        make_grid(10, std=-1.0)
