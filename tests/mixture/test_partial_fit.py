"""GaussianMixture.partial_fit: stepwise (online) EM over batches."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from skgen import GaussianMixture

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]

# A fixed mixture of three correlated Gaussians in three dimensions.
_MEANS = np.array([[0.0, 0.0, 0.0], [4.0, 0.0, 0.0], [0.0, 4.0, 1.0]])
_WEIGHTS = np.array([0.5, 0.3, 0.2])
_FACTORS = np.array([
    np.eye(3),
    np.diag([1.0, 0.3, 0.5]),
    [[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.4]],
])


def _draw(rng, n_samples):
    labels = rng.choice(3, size=n_samples, p=_WEIGHTS)
    noise = np.einsum("nij,nj->ni", _FACTORS[labels], rng.normal(size=(n_samples, 3)))
    return _MEANS[labels] + noise


def _true_log_likelihood(X):
    log_prob = [
        np.log(w) + multivariate_normal(m, a @ a.T).logpdf(X)
        for w, m, a in zip(_WEIGHTS, _MEANS, _FACTORS, strict=True)
    ]
    return float(np.mean(logsumexp(log_prob, axis=0)))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_one_pass_approaches_the_full_batch_fit(rng, covariance_type):
    # One pass over 60 batches of 1000 rows ends within 0.01 nats per row of
    # the full-batch fit on the same rows, on held-out rows.
    X_train, X_test = _draw(rng, 60_000), _draw(rng, 20_000)
    params = dict(n_components=3, covariance_type=covariance_type, random_state=0)
    full = GaussianMixture(**params).fit(X_train)
    online = GaussianMixture(**params)
    for start in range(0, len(X_train), 1000):
        online.partial_fit(X_train[start : start + 1000])
    assert online.n_iter_ == 60
    assert len(online.lower_bounds_) == 60
    gap = full.score(X_test) - online.score(X_test)
    assert gap < 0.01
    if covariance_type == "full":
        # The model family holds the truth: both come close to it.
        assert _true_log_likelihood(X_test) - online.score(X_test) < 0.01


def _component_covariances(covariance_type, cov, k=3, d=3):
    """One (d, d) matrix per component, whatever the covariance type."""
    if covariance_type == "full":
        return cov
    if covariance_type == "tied":
        return np.repeat(cov[None], k, axis=0)
    if covariance_type == "diag":
        return cov[:, :, None] * np.eye(d)
    return cov[:, None, None] * np.eye(d)


def _raw_moments(weights, means, covariances):
    """Per-sample statistics (pi_k, pi_k mu_k, pi_k (C_k + mu_k mu_k^T))."""
    outer = means[:, :, None] * means[:, None, :]
    return weights, weights[:, None] * means, weights[:, None, None] * (
        covariances + outer
    )


def _parameters(covariance_type, pi, first, second, reg):
    means = first / pi[:, None]
    scatter = second - pi[:, None, None] * (means[:, :, None] * means[:, None, :])
    d = means.shape[1]
    if covariance_type == "full":
        cov = scatter / pi[:, None, None] + reg * np.eye(d)
    elif covariance_type == "tied":
        cov = scatter.sum(0) / pi.sum() + reg * np.eye(d)
    elif covariance_type == "diag":
        cov = np.diagonal(scatter, axis1=1, axis2=2) / pi[:, None] + reg
    else:
        cov = np.diagonal(scatter, axis1=1, axis2=2).mean(1) / pi + reg
    return pi / pi.sum(), means, cov


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_two_steps_follow_the_stepwise_em_recursion(rng, covariance_type):
    # s <- (1 - eta_t) s + eta_t s_batch with eta_t = (t + 2) ** -0.6, from
    # the explicit initial parameters, with responsibilities from scipy.
    reg = 1e-3
    precision = np.linalg.inv(np.diag([2.0, 1.5, 1.0]))
    precisions = {
        "full": np.repeat(precision[None], 3, axis=0),
        "tied": precision,
        "diag": np.repeat(np.diag(precision)[None], 3, axis=0),
        "spherical": np.full(3, 0.8),
    }[covariance_type]
    init = dict(weights_init=np.array([0.4, 0.4, 0.2]),
                means_init=_MEANS + 0.5, precisions_init=precisions)
    model = GaussianMixture(3, covariance_type=covariance_type, reg_covar=reg, **init)
    if covariance_type in ("full", "tied"):
        covariances = np.linalg.inv(precisions)
    else:
        covariances = 1.0 / precisions
    covariances = _component_covariances(covariance_type, covariances)
    current = (init["weights_init"], init["means_init"], covariances)
    # The state before the first step: the initial parameters, less the
    # ridge, which each M-step adds back.
    stats = _raw_moments(
        init["weights_init"], init["means_init"], covariances - reg * np.eye(3)
    )
    for step in range(2):
        X = _draw(rng, 500)
        log_prob = np.array([
            np.log(w) + multivariate_normal(m, c).logpdf(X)
            for w, m, c in zip(*current, strict=True)
        ])
        resp = np.exp(log_prob - logsumexp(log_prob, axis=0))
        batch = (
            resp.mean(1),
            resp @ X / len(X),
            np.einsum("kn,ni,nj->kij", resp, X, X) / len(X),
        )
        eta = (step + 2) ** -0.6
        stats = tuple(
            (1 - eta) * s + eta * b for s, b in zip(stats, batch, strict=True)
        )
        expected = _parameters(covariance_type, *stats, reg)
        model.partial_fit(X)
        assert_allclose(model.weights_, expected[0], rtol=1e-9)
        assert_allclose(model.means_, expected[1], rtol=1e-9, atol=1e-12)
        assert_allclose(model.covariances_, expected[2], rtol=1e-9, atol=1e-12)
        # lower_bound_ scores the batch under the parameters before the step.
        assert model.lower_bound_ == pytest.approx(
            float(np.mean(logsumexp(log_prob, axis=0))), rel=1e-10
        )
        current = (
            model.weights_,
            model.means_,
            _component_covariances(covariance_type, model.covariances_),
        )


def test_integer_weights_equal_repeated_rows(rng):
    X1, X2 = _draw(rng, 400), _draw(rng, 300)
    w1, w2 = rng.integers(0, 4, size=400), rng.integers(0, 4, size=300)
    weighted = GaussianMixture(3, random_state=0)
    weighted.partial_fit(X1, sample_weight=w1).partial_fit(X2, sample_weight=w2)
    repeated = GaussianMixture(3, random_state=0)
    repeated.partial_fit(np.repeat(X1, w1, axis=0))
    repeated.partial_fit(np.repeat(X2, w2, axis=0))
    assert_allclose(weighted.means_, repeated.means_, rtol=1e-9)
    assert_allclose(weighted.covariances_, repeated.covariances_, rtol=1e-9)
    assert_allclose(weighted.weights_, repeated.weights_, rtol=1e-9)


def test_changing_the_number_of_features_raises(rng):
    model = GaussianMixture(3, random_state=0).partial_fit(_draw(rng, 300))
    means = model.means_.copy()
    with pytest.raises(ValueError, match="X has 2 features, but GaussianMixture is "
                       "expecting 3 features as input"):
        model.partial_fit(_draw(rng, 300)[:, :2])
    assert model.n_features_in_ == 3
    assert_allclose(model.means_, means)


def test_a_first_batch_too_small_raises_and_leaves_the_model_unfitted(rng):
    model = GaussianMixture(3)
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        model.partial_fit(_draw(rng, 2))
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    # Later batches may be smaller than n_components.
    model.partial_fit(_draw(rng, 300)).partial_fit(_draw(rng, 1))
    assert model.n_iter_ == 2


def test_a_batch_of_zero_weights_raises(rng):
    model = GaussianMixture(3, random_state=0).partial_fit(_draw(rng, 300))
    with pytest.raises(ValueError, match="zero"):
        model.partial_fit(_draw(rng, 10), sample_weight=np.zeros(10))


def test_fit_restarts_the_stream(rng):
    X = _draw(rng, 3000)
    model = GaussianMixture(3, random_state=0)
    for start in range(0, 3000, 500):
        model.partial_fit(X[start : start + 500])
    assert model.n_iter_ == 6
    model.fit(X)
    fitted_means = model.means_.copy()
    model.partial_fit(X[:500])
    # The step counter restarts, from the fitted parameters.
    assert model.n_iter_ == 1
    assert len(model.lower_bounds_) == 1
    assert_allclose(model.means_, fitted_means, atol=0.2)


def test_dask_blocks_are_successive_batches(rng):
    da = pytest.importorskip("dask.array")
    X = _draw(rng, 3000)
    weights = rng.uniform(0.5, 2.0, size=3000)
    in_memory = GaussianMixture(3, random_state=0)
    for start in range(0, 3000, 1000):
        rows = slice(start, start + 1000)
        in_memory.partial_fit(X[rows], sample_weight=weights[rows])
    on_dask = GaussianMixture(3, random_state=0).partial_fit(
        da.from_array(X, chunks=(1000, 3)),
        sample_weight=da.from_array(weights, chunks=1000),
    )
    assert on_dask.n_iter_ == 3
    assert_allclose(on_dask.means_, in_memory.means_, rtol=1e-12)
    assert_allclose(on_dask.covariances_, in_memory.covariances_, rtol=1e-12)
