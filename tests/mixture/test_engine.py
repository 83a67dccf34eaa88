"""The mixture engine against brute force: families, passes with gaps, sources.

Every reference is computed here independently of the engine, with scipy's
densities and explicit per-row loops (the conditional moments of a Gaussian
written out from the block formulas).
"""

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import multivariate_normal, norm

from skgen.mixture._engine.families import (
    CategoricalFamily,
    ExpandedGaussianFamily,
    MaskedDiagonalGaussianFamily,
    WhitenedGaussianFamily,
    product_family,
)
from skgen.mixture._engine.gaussian_params import precision_cholesky
from skgen.mixture._engine.passes import em_pass, em_pass_with_gaps, normalise_
from skgen.mixture._engine.sources import TensorSource
from skgen.mixture._gaussian_mixture import GaussianMixture

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
K, D = 3, 4


def _parameters(covariance_type, seed=0):
    """Random mixture parameters as float64 tensors, and dense covariances."""
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(K, 3.0))
    means = rng.normal(scale=2.0, size=(K, D))
    A = rng.normal(size=(K, D, D))
    full = A @ np.swapaxes(A, 1, 2) / D + 0.5 * np.eye(D)
    covariances = {
        "full": full,
        "tied": full[0],
        "diag": np.stack([np.diag(c) for c in full]),
        "spherical": np.array([np.mean(np.diag(c)) for c in full]),
    }[covariance_type]
    dense = {
        "full": full,
        "tied": np.repeat(full[:1], K, axis=0),
        "diag": np.stack([np.diag(np.diag(c)) for c in full]),
        "spherical": np.stack([np.mean(np.diag(c)) * np.eye(D) for c in full]),
    }[covariance_type]
    t = torch.as_tensor(covariances)
    params = {
        "weights": torch.as_tensor(weights),
        "means": torch.as_tensor(means),
        "covariances": t,
        "prec_chol": precision_cholesky(t, covariance_type, np.float64),
    }
    return params, weights, means, dense


def _rows(seed=1, n=500):
    return np.random.default_rng(seed).normal(scale=2.5, size=(n, D))


def _brute_log_prob(X, weights, means, dense):
    """(n, k) of log w_k + log N(x | k), by scipy."""
    return np.stack([
        np.log(w) + multivariate_normal(m, c).logpdf(X)
        for w, m, c in zip(weights, means, dense, strict=True)
    ], axis=1)


def _family(kind, covariance_type):
    cls = {"whitened": WhitenedGaussianFamily, "expanded": ExpandedGaussianFamily}
    return cls[kind](covariance_type, 0.0)


@pytest.mark.parametrize("kind", ["whitened", "expanded"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_gaussian_log_densities_and_pass_match_brute_force(kind, covariance_type):
    params, weights, means, dense = _parameters(covariance_type)
    X = _rows()
    shift = torch.as_tensor(X.mean(0))
    family = _family(kind, covariance_type)
    frame = family.frame(params, shift, torch.float64)
    x = torch.as_tensor(X)
    if kind == "whitened":
        log_prob = family.log_prob(frame, family.whiten(frame, x))
    else:
        log_prob = family.log_prob(frame, family.whiten(frame, x))
    expected = _brute_log_prob(X, weights, means, dense)
    np.testing.assert_allclose(log_prob.T.numpy(), expected, rtol=1e-10)

    # One pass, then the M-step, against the responsibilities' weighted moments.
    stats, log_lik = em_pass(family, frame, TensorSource(x))
    assert float(log_lik) == pytest.approx(logsumexp(expected, axis=1).sum(), rel=1e-10)
    nk, new_means, covariances = family.m_step(frame, stats, np.finfo(float).eps)
    resp = np.exp(expected - logsumexp(expected, axis=1, keepdims=True))
    counts = resp.sum(0)
    np.testing.assert_allclose(nk.numpy(), counts, rtol=1e-8)
    brute_means = resp.T @ X / counts[:, None]
    np.testing.assert_allclose(new_means.numpy(), brute_means, rtol=1e-8, atol=1e-10)
    scatter = np.stack([
        (resp[:, j, None] * (X - brute_means[j])).T @ (X - brute_means[j]) / counts[j]
        for j in range(K)
    ])
    brute_cov = {
        "full": scatter,
        "tied": (counts[:, None, None] * scatter).sum(0) / counts.sum(),
        "diag": np.stack([np.diag(s) for s in scatter]),
        "spherical": np.array([np.mean(np.diag(s)) for s in scatter]),
    }[covariance_type]
    np.testing.assert_allclose(covariances.numpy(), brute_cov, rtol=1e-7, atol=1e-10)


def _brute_gap_step(X, weights, means, dense):
    """One EM step over the observed entries, written out row by row.

    Returns ``(log_lik, nk, means, covariances)`` (full covariances, no ridge).
    """
    nk = np.zeros(K)
    first = np.zeros((K, D))
    second = np.zeros((K, D, D))
    log_lik = 0.0
    for x in X:
        o = ~np.isnan(x)
        m = ~o
        log_comp = np.array([
            np.log(w) + multivariate_normal(mu[o], c[np.ix_(o, o)]).logpdf(x[o])
            for w, mu, c in zip(weights, means, dense, strict=True)
        ])
        log_lik += logsumexp(log_comp)
        resp = np.exp(log_comp - logsumexp(log_comp))
        for j in range(K):
            mu, c = means[j], dense[j]
            filled = x.copy()
            cond = np.zeros((D, D))
            if m.any():
                gain = c[np.ix_(m, o)] @ np.linalg.inv(c[np.ix_(o, o)])
                filled[m] = mu[m] + gain @ (x[o] - mu[o])
                cond[np.ix_(m, m)] = c[np.ix_(m, m)] - gain @ c[np.ix_(o, m)]
            nk[j] += resp[j]
            first[j] += resp[j] * filled
            second[j] += resp[j] * (np.outer(filled, filled) + cond)
    new_means = first / nk[:, None]
    covariances = second / nk[:, None, None] - np.einsum("ki,kj->kij", new_means,
                                                         new_means)
    return log_lik, nk, new_means, covariances


def _with_gaps(X, seed=2, rate=0.3):
    rng = np.random.default_rng(seed)
    X = X.copy()
    X[rng.random(X.shape) < rate] = np.nan
    X[np.isnan(X).all(1), 0] = 0.5
    return X


def _snapshot(params, covariance_type):
    mixture = GaussianMixture(K, covariance_type=covariance_type)
    mixture._set_attributes(params, np.float64)
    return mixture


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_pass_with_gaps_is_one_em_step_over_the_observed_entries(covariance_type):
    params, weights, means, dense = _parameters(covariance_type, seed=3)
    X = _with_gaps(_rows(seed=4, n=200))
    family = WhitenedGaussianFamily(covariance_type, 0.0)
    shift = torch.as_tensor(np.nanmean(X, axis=0))
    frame = family.frame(params, shift, torch.float64)
    source = TensorSource(torch.as_tensor(X))
    stats, log_lik = em_pass_with_gaps(
        family, frame, _snapshot(params, covariance_type), source
    )
    nk, new_means, covariances = family.m_step(frame, stats, np.finfo(float).eps)
    brute_ll, brute_nk, brute_means, brute_full = _brute_gap_step(
        X, weights, means, dense
    )
    assert float(log_lik) == pytest.approx(brute_ll, rel=1e-10)
    np.testing.assert_allclose(nk.numpy(), brute_nk, rtol=1e-9)
    np.testing.assert_allclose(new_means.numpy(), brute_means, rtol=1e-8, atol=1e-10)
    brute_cov = {
        "full": brute_full,
        "tied": (brute_nk[:, None, None] * brute_full).sum(0) / brute_nk.sum(),
        "diag": np.stack([np.diag(c) for c in brute_full]),
        "spherical": np.array([np.mean(np.diag(c)) for c in brute_full]),
    }[covariance_type]
    np.testing.assert_allclose(covariances.numpy(), brute_cov, rtol=1e-7, atol=1e-10)


def test_masked_diagonal_and_categorical_families_match_brute_force():
    rng = np.random.default_rng(5)
    n, d = 300, 3
    params, weights, means, dense = _parameters("diag", seed=6)
    means, variances = means[:, :d], np.stack([np.diag(c)[:d] for c in dense])
    X = _with_gaps(rng.normal(scale=2.0, size=(n, d)), seed=7)
    levels = rng.integers(3, size=n)
    one_hot = np.eye(3)[levels]
    log_proba = np.log(rng.dirichlet(np.ones(3), size=K))
    gaussian = MaskedDiagonalGaussianFamily(0.0)
    categorical = CategoricalFamily([3], None, 0.0)
    family = product_family([(gaussian, slice(0, d)), (categorical, slice(d, d + 3))])
    parts = (
        {"means": torch.as_tensor(means),
         "prec_chol": torch.as_tensor(1.0 / np.sqrt(variances))},
        {"log_proba": torch.as_tensor(log_proba)},
    )
    params = {"weights": torch.as_tensor(weights), "parts": parts}
    shifts = (torch.zeros(d, dtype=torch.float64), None)
    frame = family.frame(params, shifts, torch.float64)
    x = torch.as_tensor(np.hstack([X, one_hot]))
    log_prob = family.log_prob(frame, family.whiten(frame, x)).T.numpy()
    observed = ~np.isnan(X)
    expected = np.stack([
        np.log(weights[j])
        + np.where(observed, norm(means[j], np.sqrt(variances[j])).logpdf(
            np.nan_to_num(X)), 0.0).sum(1)
        + log_proba[j, levels]
        for j in range(K)
    ], axis=1)
    np.testing.assert_allclose(log_prob, expected, rtol=1e-10)
    log_norm, _ = normalise_(torch.as_tensor(expected.T.copy()))
    np.testing.assert_allclose(log_norm.numpy(), logsumexp(expected, axis=1),
                               rtol=1e-12)


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_dask_blocks_give_the_in_memory_pass(covariance_type):
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    from skgen.mixture._dask import DaskSource

    params, *_ = _parameters(covariance_type, seed=8)
    X = _with_gaps(_rows(seed=9, n=3000), seed=10, rate=0.1)
    w = np.random.default_rng(11).uniform(0.0, 2.0, size=len(X))
    family = WhitenedGaussianFamily(covariance_type, 1e-6)
    frame = family.frame(params, torch.as_tensor(np.nanmean(X, axis=0)),
                         torch.float64)
    snapshot = _snapshot(params, covariance_type)
    in_memory = TensorSource(torch.as_tensor(X), torch.as_tensor(w)).map_reduce(
        em_pass_with_gaps, family, frame, snapshot
    )
    blocks = DaskSource(da.from_array(X, chunks=(700, D)),
                        da.from_array(w, chunks=700))
    with dask.config.set(scheduler="synchronous"):
        on_blocks = blocks.map_reduce(em_pass_with_gaps, family, frame, snapshot)
    for name in in_memory[0]:
        np.testing.assert_allclose(on_blocks[0][name].numpy(),
                                   in_memory[0][name].numpy(), rtol=1e-10, atol=1e-12)
    assert float(on_blocks[1]) == pytest.approx(float(in_memory[1]), rel=1e-12)
