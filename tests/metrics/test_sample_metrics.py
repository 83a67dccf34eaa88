"""Tests of skgen.metrics against independent, direct computations."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist
from scipy.stats import energy_distance as scipy_energy_distance
from sklearn import config_context
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from skgen import GaussianMixture
from skgen.datasets import make_ring
from skgen.metrics import (
    c2st_auc,
    energy_distance,
    make_sample_scorer,
    mmd,
    mode_coverage,
    prdc,
)


def _direct_mmd(X, Y, gamma):
    kxx, kyy, kxy = (np.exp(-gamma * cdist(A, B, "sqeuclidean"))
                     for A, B in ((X, X), (Y, Y), (X, Y)))
    n, m = len(X), len(Y)
    return ((kxx.sum() - np.trace(kxx)) / (n * (n - 1))
            + (kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean())


def _reference_gamma(X):
    """The median heuristic on the reference sample X alone."""
    return 1 / (2 * np.median(pdist(X)) ** 2)


def test_mmd_matches_direct_formula(rng):
    X, Y = rng.normal(size=(60, 3)), rng.normal(size=(45, 3)) + 0.3
    assert mmd(X, Y, gamma=0.7) == pytest.approx(_direct_mmd(X, Y, 0.7), rel=1e-10)
    expected = _direct_mmd(X, Y, _reference_gamma(X))
    assert mmd(X, Y) == pytest.approx(expected, rel=1e-10)


def test_mmd_bandwidth_comes_from_the_reference_sample_only(rng):
    # Two candidates compared with the same data: a tight one and one whose
    # samples spread ten times wider. Both are measured with the kernel of
    # the data; a bandwidth from the pooled rows would differ between them
    # (the pooled median distance grows with the wide candidate's spread).
    X = rng.normal(size=(300, 2))
    tight, wide = rng.normal(size=(250, 2)) * 0.5, rng.normal(size=(250, 2)) * 5.0
    gamma = _reference_gamma(X)
    for Y in (tight, wide):
        pooled = _reference_gamma(np.vstack([X, Y]))
        assert abs(pooled - gamma) > 0.1 * gamma  # pooling would change the kernel
        assert mmd(X, Y) == pytest.approx(_direct_mmd(X, Y, gamma), rel=1e-10)
    with pytest.raises(ValueError, match="reference sample"):
        mmd(np.zeros((10, 2)), rng.normal(size=(10, 2)))
    # Only X's rows set the kernel: a constant Y is fine.
    assert np.isfinite(mmd(X, np.zeros((10, 2))))


def test_mmd_is_chunk_invariant_and_separates(rng):
    X, Y = rng.normal(size=(300, 2)), rng.normal(size=(300, 2))
    with config_context(working_memory=0.05):
        chunked = mmd(X, Y + 1, gamma=0.5)
    assert chunked == pytest.approx(mmd(X, Y + 1, gamma=0.5), rel=1e-12)
    assert mmd(X, Y + 1) > 20 * abs(mmd(X, Y))


def test_energy_distance_matches_scipy_in_1d_and_direct_in_nd(rng):
    x, y = rng.normal(size=80), rng.normal(size=50) * 2
    assert energy_distance(x[:, None], y[:, None]) == pytest.approx(
        scipy_energy_distance(x, y), rel=1e-10)
    X, Y = rng.normal(size=(40, 4)), rng.normal(size=(30, 4)) + 1
    direct = np.sqrt(2 * cdist(X, Y).mean() - cdist(X, X).mean() - cdist(Y, Y).mean())
    assert energy_distance(X, Y) == pytest.approx(direct, rel=1e-10)
    assert energy_distance(X, X) == pytest.approx(0.0, abs=1e-7)


def test_c2st_auc_is_half_for_same_distribution_and_reproducible(rng):
    X, Y = rng.normal(size=(400, 2)), rng.normal(size=(400, 2))
    same = c2st_auc(X, Y, random_state=0)
    assert same == pytest.approx(0.5, abs=0.08)
    assert c2st_auc(X, Y, random_state=0) == same
    assert c2st_auc(X, Y + 1.5, random_state=0) > 0.8
    auc = c2st_auc(X, Y + 1.5, estimator=LogisticRegression(), cv=3, random_state=1)
    assert auc > 0.8


def _direct_prdc(real, fake, k):
    real_r = np.sort(cdist(real, real), axis=1)[:, k]
    fake_r = np.sort(cdist(fake, fake), axis=1)[:, k]
    d = cdist(fake, real)  # (fake, real)
    return {
        "precision": np.mean((d < real_r[None]).any(1)),
        "recall": np.mean((d.T < fake_r[None]).any(1)),
        "density": (d < real_r[None]).sum() / (k * len(fake)),
        "coverage": np.mean(d.min(0) < real_r),
    }


def test_prdc_matches_brute_force(rng):
    real, fake = rng.normal(size=(150, 3)), rng.normal(size=(120, 3)) * 1.3 + 0.2
    got = prdc(real, fake, k=4)
    expected = _direct_prdc(real, fake, 4)
    for key in expected:
        assert got[key] == pytest.approx(expected[key], rel=1e-12), key
    far = prdc(real, fake + 100, k=4)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_mode_coverage_counts_modes_quality_and_kl(rng):
    X, y, centers = make_ring(4000, random_state=0, return_centers=True)
    full = mode_coverage(X, centers, std=0.01)
    assert full["modes"] == 8
    assert full["high_quality"] > 0.98
    assert full["reverse_kl"] < 0.01
    three = mode_coverage(X[y < 3], centers, std=0.01)
    assert three["modes"] == 3
    one = mode_coverage(X[y == 0], centers, std=0.01)
    assert one["reverse_kl"] == pytest.approx(np.log(8))
    blurred = mode_coverage(X + rng.normal(scale=0.1, size=X.shape), centers, std=0.01)
    assert blurred["high_quality"] < 0.1


def test_sample_scorer_tunes_and_ranks(rng):
    X, _ = make_ring(900, std=0.05, random_state=0)
    scorer = make_sample_scorer("mmd")
    search = GridSearchCV(GaussianMixture(random_state=0), {"n_components": [1, 2, 8]},
                          scoring=scorer, cv=3).fit(X)
    assert search.best_params_ == {"n_components": 8}
    gm = search.best_estimator_
    X_test, _ = make_ring(300, std=0.05, random_state=1)
    for metric in ("mmd", "energy_distance", "c2st_auc"):
        score = make_sample_scorer(metric)
        assert score(gm, X_test) > score(gm, X_test + 0.5), metric
    custom = make_sample_scorer(lambda A, B: np.abs(A.mean(0) - B.mean(0)).sum())
    assert custom(gm, X_test) > custom(gm, X_test + 1)


def test_sample_scorer_measures_every_candidate_with_the_kernel_of_the_data():
    X, _ = make_ring(600, std=0.05, random_state=0)
    X_test, _ = make_ring(300, std=0.05, random_state=1)
    gamma = _reference_gamma(X_test)
    scorer = make_sample_scorer("mmd")
    for n_components in (1, 8):
        candidate = GaussianMixture(n_components, random_state=0).fit(X)
        samples, _ = candidate.sample(len(X_test), random_state=0)
        expected = -_direct_mmd(X_test, samples, gamma)
        assert scorer(candidate, X_test) == pytest.approx(expected, rel=1e-10)


def test_metric_input_errors(rng):
    with pytest.raises(ValueError, match="same number of features"):
        mmd(rng.normal(size=(5, 2)), rng.normal(size=(5, 3)))
    with pytest.raises(ValueError, match="minimum of 2"):
        mmd(rng.normal(size=(1, 2)), rng.normal(size=(5, 2)))
    # NaN is a gap (see test_table_metrics); infinity is an error
    with pytest.raises(ValueError, match="infinity"):
        energy_distance([[np.inf]], [[1.0]])
    with pytest.raises(ValueError, match="gamma"):
        mmd(rng.normal(size=(5, 2)), rng.normal(size=(5, 2)), gamma=-1.0)
