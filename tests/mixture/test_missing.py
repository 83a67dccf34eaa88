"""GaussianMixture with missing entries (NaN): exact EM over observed entries."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import linear_sum_assignment, minimize
from scipy.stats import multivariate_normal
from sklearn.exceptions import ConvergenceWarning

from skgen import GaussianMixture

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


def _mixture(rng, n_samples, means=((0, 0, 0), (5, 5, 0), (0, 6, 6))):
    means = np.asarray(means, dtype=float)
    labels = rng.integers(len(means), size=n_samples)
    mixing = 0.5 * rng.normal(size=(len(means), 3, 3))
    noise = np.einsum("nij,nj->ni", mixing[labels], rng.standard_normal((n_samples, 3)))
    return means[labels] + noise


def _remove(rng, X, share):
    X = X.copy()
    X[rng.random(X.shape) < share] = np.nan
    return X[~np.isnan(X).all(axis=1)]


def _matched(means, reference):
    """The order of ``means``' rows that pairs each with its ``reference`` row."""
    cost = ((reference[:, None, :] - means[None, :, :]) ** 2).sum(-1)
    return linear_sum_assignment(cost)[1]


def _observed_log_lik(X, mean, cov):
    """sum_i log N(x_i,obs; mean_obs, cov_obs), pattern by pattern with scipy."""
    observed = ~np.isnan(X)
    total = 0.0
    for pattern in np.unique(observed, axis=0):
        rows = X[(observed == pattern).all(axis=1)][:, pattern]
        marginal = multivariate_normal(mean[pattern], cov[np.ix_(pattern, pattern)])
        total += np.sum(np.atleast_1d(marginal.logpdf(rows)))
    return total


def test_one_gaussian_reaches_the_observed_data_maximum_likelihood():
    # The maximiser of the observed-data likelihood, found by a generic
    # optimiser over (mean, Cholesky factor), is where EM must end.
    rng = np.random.default_rng(0)
    X = rng.multivariate_normal([1.0, -2.0], [[2.0, 1.2], [1.2, 1.5]], size=300)
    X = _remove(rng, X, 0.3)
    gm = GaussianMixture(1, tol=1e-12, max_iter=2000, reg_covar=0.0).fit(X)

    def negative(theta):
        L = np.array([[np.exp(theta[2]), 0.0], [theta[3], np.exp(theta[4])]])
        return -_observed_log_lik(X, theta[:2], L @ L.T)

    start = np.array([0.0, 0.0, 0.0, 0.0, 0.0])
    best = minimize(negative, start, method="BFGS", options={"gtol": 1e-8})
    L = np.array([[np.exp(best.x[2]), 0.0], [best.x[3], np.exp(best.x[4])]])
    assert_allclose(gm.means_[0], best.x[:2], atol=1e-4)
    assert_allclose(gm.covariances_[0], L @ L.T, atol=1e-4)
    # lower_bound_ is the observed-data mean log-likelihood of the last E-step.
    assert gm.lower_bound_ == pytest.approx(-best.fun / len(X), abs=1e-6)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_em_with_gaps_is_monotone_and_recovers_the_mixture(covariance_type):
    rng = np.random.default_rng(1)
    X = _mixture(rng, 6000)
    X_gaps = _remove(rng, X, 0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        full = GaussianMixture(3, covariance_type=covariance_type,
                               random_state=0).fit(X)
        gaps = GaussianMixture(3, covariance_type=covariance_type, random_state=0,
                               tol=1e-5, max_iter=500).fit(X_gaps)
    assert np.all(np.diff(gaps.lower_bounds_) > -1e-9)
    order = _matched(gaps.means_, full.means_)
    assert_allclose(gaps.means_[order], full.means_, atol=0.1)
    assert_allclose(gaps.weights_[order], full.weights_, atol=0.02)


def test_estimates_converge_as_the_sample_grows():
    # Consistency: with 30% of entries missing at random, the error of the
    # means shrinks with N as it does for complete data.
    truth = np.array([[0.0, 0.0, 0.0], [5.0, 5.0, 0.0], [0.0, 6.0, 6.0]])
    errors = []
    for n_samples in (500, 8000):
        rng = np.random.default_rng(2)
        X = _remove(rng, _mixture(rng, n_samples, truth), 0.3)
        gm = GaussianMixture(3, random_state=0, tol=1e-6, max_iter=500).fit(X)
        order = _matched(gm.means_, truth)
        errors.append(np.abs(gm.means_[order] - truth).max())
    assert errors[1] < errors[0] / 2
    assert errors[1] < 0.08


def test_scores_of_rows_with_gaps_are_marginal_densities():
    rng = np.random.default_rng(3)
    gm = GaussianMixture(3, random_state=0).fit(_mixture(rng, 2000))
    rows = np.array([[0.5, np.nan, 0.1], [np.nan, 5.5, np.nan], [4.0, 5.0, 1.0]])
    expected = []
    for row in rows:
        obs = ~np.isnan(row)
        densities = [
            w * multivariate_normal(m[obs], c[np.ix_(obs, obs)]).pdf(row[obs])
            for w, m, c in zip(gm.weights_, gm.means_, gm.covariances_, strict=True)
        ]
        expected.append(np.log(np.sum(densities)))
    assert_allclose(gm.score_samples(rows), expected, rtol=1e-10)
    # A complete row scores as through the fast path.
    assert gm.score_samples(rows)[2] == pytest.approx(
        gm.score_samples(rows[2:])[0], rel=1e-12
    )
    proba = gm.predict_proba(rows)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(gm.predict(rows), proba.argmax(axis=1))


def test_integer_weights_equal_repeated_rows_with_gaps():
    rng = np.random.default_rng(4)
    X = _remove(rng, _mixture(rng, 300), 0.25)
    weights = rng.integers(1, 4, size=len(X))
    params = dict(n_components=3, random_state=0, tol=0, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = GaussianMixture(**params).fit(X, sample_weight=weights)
        repeated = GaussianMixture(**params).fit(np.repeat(X, weights, axis=0))
    assert_allclose(weighted.lower_bounds_, repeated.lower_bounds_, rtol=1e-9)
    assert_allclose(weighted.means_, repeated.means_, rtol=1e-8)


def test_complete_data_take_the_same_path_as_before():
    # No NaN: the fit is the one without gap handling (bit for bit the same
    # whether or not another fit on the same estimator saw gaps).
    rng = np.random.default_rng(5)
    X = _mixture(rng, 500)
    a = GaussianMixture(3, random_state=0).fit(X)
    GaussianMixture(3, random_state=0).fit(_remove(rng, X, 0.2))
    b = GaussianMixture(3, random_state=0).fit(X)
    assert_array_equal(a.means_, b.means_)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[1.0, 2.0], [np.nan, np.nan], [0.0, 1.0], [2.0, 2.0]]),
         "no observed entry"),
        (np.array([[1.0, np.nan], [0.5, np.nan], [0.0, np.nan], [2.0, np.nan]]),
         r"Column\(s\) \[1\]"),
        (np.array([[1.0, np.inf], [0.5, 1.0], [0.0, np.nan], [2.0, 1.0]]),
         "infinity"),
    ],
)
def test_bad_gaps_raise(X, match):
    with pytest.raises(ValueError, match=match):
        GaussianMixture(1).fit(X)


def test_impute_and_sample_conditional_of_one_gaussian_are_the_closed_form():
    # For one Gaussian, x2 | x1 is N(mu2 + S21 S11^-1 (x1 - mu1), S22 - S21 S11^-1 S12).
    rng = np.random.default_rng(6)
    cov = np.array([[2.0, 0.9, 0.3], [0.9, 1.0, 0.2], [0.3, 0.2, 0.5]])
    X = rng.multivariate_normal([1.0, 2.0, 3.0], cov, size=4000)
    gm = GaussianMixture(1, random_state=0).fit(X)
    mu, S = gm.means_[0], gm.covariances_[0]
    row = np.array([[2.5, np.nan, np.nan]])
    gain = S[1:, :1] / S[0, 0]
    mean = mu[1:] + (gain * (row[0, 0] - mu[0]))[:, 0]
    covariance = S[1:, 1:] - gain @ S[:1, 1:]
    filled = gm.impute(row)
    assert filled[0, 0] == 2.5
    assert_allclose(filled[0, 1:], mean, rtol=1e-10)
    draws = gm.sample_conditional(row, n_samples=20000, random_state=0)[:, 0, :]
    assert np.all(draws[:, 0] == 2.5)
    assert_allclose(draws[:, 1:].mean(0), mean, atol=0.02)
    assert_allclose(np.cov(draws[:, 1:].T), covariance, atol=0.02)
    # The same random_state gives the same draws; another, other draws.
    again = gm.sample_conditional(row, n_samples=3, random_state=1)
    assert_array_equal(again, gm.sample_conditional(row, n_samples=3, random_state=1))
    assert not np.array_equal(again, gm.sample_conditional(row, 3, random_state=2))


def test_sample_conditional_leaves_the_global_random_state_alone():
    rng = np.random.default_rng(7)
    gm = GaussianMixture(2).fit(_mixture(rng, 300))
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    gm.sample_conditional([[1.0, np.nan, np.nan]], n_samples=5)
    assert_array_equal(np.random.get_state()[1], before)


def test_a_missing_values_marker_gives_the_nan_results():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 3))
    gaps = rng.random(X.shape) < 0.15
    gaps[gaps.all(axis=1), 0] = False
    marked = np.where(gaps, -999.0, X)
    with_nan = np.where(gaps, np.nan, X)
    a = GaussianMixture(2, random_state=0, missing_values=-999).fit(marked)
    b = GaussianMixture(2, random_state=0).fit(with_nan)
    assert_allclose(a.means_, b.means_)
    assert_allclose(a.score_samples(marked), b.score_samples(with_nan))
    assert_array_equal(a.predict(marked), b.predict(with_nan))
    assert_allclose(a.impute(marked), b.impute(with_nan))
    draws_a = a.sample_conditional(marked[:5], n_samples=2, random_state=0)
    draws_b = b.sample_conditional(with_nan[:5], n_samples=2, random_state=0)
    assert_allclose(draws_a, draws_b)
    # a NaN beside another marker is neither a value nor a gap
    with pytest.raises(ValueError, match="X contains NaN, but missing_values=-999"):
        a.score_samples(with_nan)
    with pytest.raises(ValueError, match="X contains NaN, but missing_values=-999"):
        GaussianMixture(missing_values=-999).fit(with_nan)


def test_a_marker_other_than_nan_is_refused_on_dask():
    da = pytest.importorskip("dask.array")
    X = da.from_array(np.random.default_rng(0).normal(size=(50, 2)), chunks=25)
    with pytest.raises(ValueError, match="marked by NaN only"):
        GaussianMixture(missing_values=-1).fit(X)
