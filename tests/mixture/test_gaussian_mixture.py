"""Tests of skgen.GaussianMixture against scikit-learn and its own contract."""

import pickle
import re
import warnings

import numpy as np
import pytest
import torch
from _data import explicit_init, mixture_data
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skgen
from skgen import GaussianMixture

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


# --------------------------------------------------------------- parity


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_lower_bounds_match_sklearn_per_iteration(rng, covariance_type):
    X, _ = mixture_data(rng)
    init = explicit_init(X, 3, covariance_type)
    params = dict(n_components=3, covariance_type=covariance_type, tol=0, max_iter=25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(**params, **init).fit(X)
        ref = SklearnGaussianMixture(**params, **init).fit(X)
    assert len(ours.lower_bounds_) == len(ref.lower_bounds_) == 25
    assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=1e-10, atol=0)
    assert_allclose(ours.means_, ref.means_, rtol=1e-8, atol=1e-10)
    assert_allclose(ours.covariances_, ref.covariances_, rtol=1e-8, atol=1e-10)
    assert_allclose(ours.precisions_cholesky_, ref.precisions_cholesky_, rtol=1e-7)
    assert_allclose(ours.weights_, ref.weights_, rtol=1e-8)
    assert_allclose(ours.score_samples(X), ref.score_samples(X), rtol=1e-10)
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-8)
    assert_array_equal(ours.predict(X), ref.predict(X))
    assert ours.bic(X) == pytest.approx(ref.bic(X), rel=1e-10)
    assert ours.aic(X) == pytest.approx(ref.aic(X), rel=1e-10)


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random"])
@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_default_initialisations_match_sklearn(rng, init_params, covariance_type):
    # The same random_state draws the same initialisation as scikit-learn.
    # k-means and k-means++ draw over the rows in lexicographic order (so that
    # weights equal repeated rows), so scikit-learn gets the sorted rows and
    # skgen a shuffled copy: the fits must still agree.
    X, _ = mixture_data(rng, n_samples=600)
    X_ref = X
    if init_params != "random":
        X_ref = X[np.lexsort(X.T[::-1])]
        X = X[rng.permutation(len(X))]
    params = dict(
        n_components=3, covariance_type=covariance_type, init_params=init_params,
        random_state=0, tol=0, max_iter=10,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(**params).fit(X)
        ref = SklearnGaussianMixture(**params).fit(X_ref)
    # scikit-learn's diag statistics lose ~1e-8 on single-point components.
    assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=1e-6)
    assert_allclose(ours.means_, ref.means_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_precisions_init_from_kmeans_partition(rng, covariance_type):
    # Giving the precisions of the k-means partition that the default init
    # computes (k-means on the rows in lexicographic order) changes nothing.
    X, _ = mixture_data(rng, n_samples=500)
    labels = (
        KMeans(n_clusters=3, n_init=1, random_state=0)
        .fit(X[np.lexsort(X.T[::-1])])
        .predict(X)
    )
    parts = [X[labels == j] for j in range(3)]
    full = np.array([np.cov(p.T, bias=True) for p in parts])
    expected = {
        "full": full + 1e-6 * np.eye(4),
        "tied": np.einsum("j,jde->de", [len(p) / len(X) for p in parts], full)
        + 1e-6 * np.eye(4),
        "diag": np.array([p.var(0) for p in parts]) + 1e-6,
        "spherical": np.array([p.var(0).mean() for p in parts]) + 1e-6,
    }[covariance_type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours_default = GaussianMixture(
            3, covariance_type=covariance_type, random_state=0, max_iter=0
        ).fit(X)
    assert_allclose(ours_default.covariances_, expected, rtol=1e-8)
    ours_init = GaussianMixture(
        3, covariance_type=covariance_type, random_state=0,
        precisions_init=ours_default.precisions_,
    ).fit(X)
    ours = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    assert ours.n_iter_ == ours_init.n_iter_
    assert_allclose(ours.precisions_cholesky_, ours_init.precisions_cholesky_)


def test_far_from_origin_data_fits_like_centred_data(rng):
    # scikit-learn #30382: E[xx^T] - mu mu^T cancels catastrophically when the
    # data sit far from the origin; the centred features must not.
    X, _ = mixture_data(rng, n_samples=800, n_features=3)
    init = explicit_init(X, 3, "full")
    shifted_init = dict(init, means_init=init["means_init"] + 1e6)
    params = dict(n_components=3, tol=0, max_iter=15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        near = GaussianMixture(**params, **init).fit(X)
        far = GaussianMixture(**params, **shifted_init).fit(X + 1e6)
    assert_allclose(far.covariances_, near.covariances_, rtol=1e-6, atol=1e-8)
    assert_allclose(far.means_ - 1e6, near.means_, atol=1e-6)
    assert_allclose(far.lower_bounds_, near.lower_bounds_, rtol=1e-8)


def test_chunked_passes_equal_one_pass(rng):
    # A tiny working_memory forces many chunks; the result must not move.
    X, _ = mixture_data(rng, n_samples=3000)
    init = explicit_init(X, 3, "full")
    params = dict(n_components=3, tol=0, max_iter=10, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        whole = GaussianMixture(**params).fit(X)
        with config_context(working_memory=0.01):
            chunked = GaussianMixture(**params).fit(X)
            chunked_scores = chunked.score_samples(X)
    assert_allclose(chunked.lower_bounds_, whole.lower_bounds_, rtol=1e-12)
    assert_allclose(chunked_scores, whole.score_samples(X), rtol=1e-12)


def test_float32_input_computes_in_float32(rng):
    X, _ = mixture_data(rng)
    init = explicit_init(X, 3, "full")
    gm32 = GaussianMixture(3, tol=0, max_iter=20, **init).fit(X.astype(np.float32))
    gm64 = GaussianMixture(3, tol=0, max_iter=20, **init).fit(X)
    assert gm32.means_.dtype == np.float32
    assert gm32.covariances_.dtype == np.float32
    assert gm32.score_samples(X.astype(np.float32)).dtype == np.float32
    assert_allclose(gm32.means_, gm64.means_, rtol=1e-3, atol=1e-3)
    assert_allclose(gm32.lower_bound_, gm64.lower_bound_, rtol=1e-4)


def test_precisions_init_cholesky_is_upper_factor(rng):
    X, _ = mixture_data(rng, n_samples=400)
    init = explicit_init(X, 3, "full")
    precisions = init["precisions_init"] * np.array([1.0, 2.0, 0.5])[:, None, None]
    gm = GaussianMixture(3, max_iter=0, **dict(init, precisions_init=precisions))
    gm.fit(X)
    U = gm.precisions_cholesky_
    assert_allclose(np.triu(U), U)
    assert_allclose(U @ np.swapaxes(U, 1, 2), precisions, rtol=1e-10)
    assert_allclose(gm.precisions_, precisions, rtol=1e-10)
    assert_allclose(gm.covariances_, np.linalg.inv(precisions), rtol=1e-10)


# ------------------------------------------------------ weighted EM


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_integer_weights_equal_repeated_rows(rng, covariance_type):
    X, _ = mixture_data(rng, n_samples=300)
    weights = rng.integers(0, 4, size=len(X))
    repeated = np.repeat(X, weights, axis=0)
    init = explicit_init(X, 3, covariance_type)
    params = dict(n_components=3, covariance_type=covariance_type, tol=0,
                  max_iter=20, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = GaussianMixture(**params).fit(X, sample_weight=weights)
        expanded = GaussianMixture(**params).fit(repeated)
    assert_allclose(weighted.lower_bounds_, expanded.lower_bounds_, rtol=1e-10)
    assert_allclose(weighted.means_, expanded.means_, rtol=1e-9, atol=1e-10)
    assert_allclose(weighted.covariances_, expanded.covariances_, rtol=1e-9, atol=1e-10)
    assert_allclose(weighted.weights_, expanded.weights_, rtol=1e-9)


def test_weights_change_the_fit(blobs):
    # Up-weighting one cluster must raise its mixture weight.
    X, labels = blobs
    weights = np.where(labels == 0, 5.0, 1.0)
    plain = GaussianMixture(3, random_state=0).fit(X)
    weighted = GaussianMixture(3, random_state=0).fit(X, sample_weight=weights)
    k_plain = plain.predict(X[labels == 0][:1])[0]
    k_weighted = weighted.predict(X[labels == 0][:1])[0]
    assert plain.weights_[k_plain] == pytest.approx(1 / 3, abs=0.02)
    assert weighted.weights_[k_weighted] == pytest.approx(5 / 7, abs=0.02)


def test_bad_sample_weight(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="non-negative"):
        GaussianMixture().fit(X, sample_weight=-np.ones(len(X)))
    with pytest.raises(ValueError, match="positive sample_weight"):
        GaussianMixture(3).fit(X, sample_weight=np.r_[1.0, 1.0, np.zeros(len(X) - 2)])
    with pytest.raises(ValueError, match="sample_weight"):
        GaussianMixture().fit(X, sample_weight=np.ones(3))


# ---------------------------------------------------------- sampling


def test_sample_random_state_at_call_time(blobs):
    X, _ = blobs
    gm = GaussianMixture(3, random_state=0).fit(X)
    a, ya = gm.sample(500, random_state=1)
    b, yb = gm.sample(500, random_state=1)
    c, _ = gm.sample(500, random_state=2)
    assert_array_equal(a, b)
    assert_array_equal(ya, yb)
    assert not np.allclose(a, c)
    # Without an argument it behaves as scikit-learn's: the estimator's seed.
    assert_array_equal(gm.sample(50)[0], gm.sample(50)[0])
    ref = SklearnGaussianMixture(3, random_state=0).fit(X)
    ref.weights_, ref.means_, ref.covariances_ = gm.weights_, gm.means_, gm.covariances_
    assert_allclose(gm.sample(50)[0], ref.sample(50)[0])


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_samples_follow_the_model(blobs, covariance_type):
    X, _ = blobs
    gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    samples, labels = gm.sample(20000, random_state=0)
    assert samples.shape == (20000, 2)
    assert labels.shape == (20000,)
    for k in range(3):
        part = samples[labels == k]
        assert len(part) / 20000 == pytest.approx(gm.weights_[k], abs=0.015)
        assert_allclose(part.mean(0), gm.means_[k], atol=0.1)
    # Samples are as likely under the model as the data they imitate.
    assert gm.score(samples) == pytest.approx(gm.score(X), abs=0.1)


def test_sample_rejects_bad_n_samples(blobs):
    gm = GaussianMixture(2).fit(blobs[0])
    with pytest.raises(ValueError, match="Invalid value for 'n_samples'"):
        gm.sample(0)


# ------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.array([[1.0, np.inf], [2.0, 3.0], [0.0, 1.0]]), ValueError, "infinity"),
        (np.arange(10.0), ValueError, "Expected 2D array"),
        (np.empty((0, 3)), ValueError, "0 sample"),
        (np.array([["a", "b"], ["c", "d"], ["e", "f"]]), ValueError,
         "numbers only.*TabularMixture"),
        (np.array([[1 + 1j, 2], [3, 4], [5, 6j]]), ValueError, "Complex data"),
        (np.ones((1, 3)), ValueError, "minimum of 2"),
    ],
)
def test_bad_training_input(X, error, match):
    with pytest.raises(error, match=match):
        GaussianMixture().fit(X)


def test_fewer_samples_than_components():
    with pytest.raises(ValueError, match="Expected n_samples >= n_components"):
        GaussianMixture(5).fit(np.random.default_rng(0).normal(size=(4, 2)))


def test_wrong_feature_count_and_unfitted(blobs):
    X, _ = blobs
    with pytest.raises(NotFittedError):
        GaussianMixture().score_samples(X)
    with pytest.raises(NotFittedError):
        GaussianMixture().sample(3)
    gm = GaussianMixture(2).fit(X)
    for method in (gm.score_samples, gm.predict, gm.predict_proba, gm.score):
        with pytest.raises(ValueError, match="has 3 features"):
            method(np.ones((4, 3)))


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_components=0), "n_components"),
        (dict(covariance_type="banana"), "covariance_type"),
        (dict(reg_covar=-1.0), "reg_covar"),
        (dict(init_params="magic"), "init_params"),
        (dict(device="not-a-device"), "not a valid torch device"),
    ],
)
def test_invalid_parameters(blobs, params, match):
    with pytest.raises(ValueError, match=match):
        GaussianMixture(**params).fit(blobs[0])


def test_weights_init_message_orders_min_and_max(blobs):
    bad = np.array([1.2, 1.5])
    message = re.escape("max value 1.50000, min value 1.20000")
    with pytest.raises(ValueError, match=message):
        GaussianMixture(2, weights_init=bad).fit(blobs[0])


def test_cuda_unavailable_is_a_clear_error(blobs):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        GaussianMixture(device="cuda").fit(blobs[0])


def test_identical_rows_fit_with_finite_scores():
    X = np.tile([[1.0, 2.0, 3.0]], (50, 1))
    gm = GaussianMixture(1).fit(X)
    scores = gm.score_samples(X)
    assert np.all(np.isfinite(scores))
    # A point mass regularised by reg_covar: log N(0 | 0, 1e-6 I) in 3-D.
    assert scores[0] == pytest.approx(-1.5 * np.log(2 * np.pi * 1e-6))


def test_constant_column_fits_with_finite_scores(blobs):
    X = np.c_[blobs[0], np.full(len(blobs[0]), 7.0)]
    gm = GaussianMixture(3, random_state=0).fit(X)
    assert np.all(np.isfinite(gm.score_samples(X)))


def test_collapsed_data_without_regularisation_raises():
    X = np.tile([[1.0, 2.0]], (20, 1))
    message = "ill-defined empirical covariance.*increase reg_covar"
    with pytest.raises(ValueError, match=message):
        GaussianMixture(1, reg_covar=0).fit(X)


# ------------------------------------------------ properties (hypothesis)


finite_floats = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None)
@given(
    X=arrays(
        np.float64, st.tuples(st.integers(6, 40), st.integers(1, 4)),
        elements=finite_floats,
    ),
    n_components=st.integers(1, 3),
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
)
def test_outputs_have_right_shapes_and_are_finite(X, n_components, covariance_type):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = GaussianMixture(
            n_components, covariance_type=covariance_type, reg_covar=1e-3,
            random_state=0,
        ).fit(X)
    n, d = X.shape
    scores = gm.score_samples(X)
    proba = gm.predict_proba(X)
    assert scores.shape == (n,) and np.all(np.isfinite(scores))
    assert proba.shape == (n, n_components)
    assert_allclose(proba.sum(1), 1.0, rtol=1e-10)
    labels = gm.predict(X)
    assert labels.shape == (n,) and labels.min() >= 0 and labels.max() < n_components
    samples, sample_labels = gm.sample(7, random_state=0)
    assert samples.shape == (7, d) and np.all(np.isfinite(samples))
    assert sample_labels.shape == (7,)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), covariance_type=st.sampled_from(COVARIANCE_TYPES))
def test_scores_do_not_depend_on_row_order_or_batch(seed, covariance_type):
    rng = np.random.default_rng(seed)
    X, _ = mixture_data(rng, n_samples=120, n_features=3)
    gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    perm = rng.permutation(len(X))
    scores = gm.score_samples(X)
    assert_allclose(gm.score_samples(X[perm]), scores[perm], rtol=1e-12)
    assert_allclose(gm.score_samples(X[:7]), scores[:7], rtol=1e-12)
    assert_array_equal(gm.predict(X[perm]), gm.predict(X)[perm])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_pickle_round_trip(seed):
    X, _ = mixture_data(np.random.default_rng(seed), n_samples=100, n_features=2)
    gm = GaussianMixture(2, random_state=seed).fit(X)
    clone = pickle.loads(pickle.dumps(gm))
    assert_array_equal(clone.score_samples(X), gm.score_samples(X))
    assert_array_equal(clone.sample(5)[0], gm.sample(5)[0])


# ---------------------------------------------------- determinism, RNG


def test_same_random_state_same_bits(blobs):
    X, _ = blobs
    a = GaussianMixture(3, random_state=3, init_params="random").fit(X)
    b = GaussianMixture(3, random_state=3, init_params="random").fit(X)
    assert_array_equal(a.means_, b.means_)
    assert_array_equal(a.score_samples(X), b.score_samples(X))


def test_global_random_state_untouched(blobs):
    X, _ = blobs
    np_state = np.random.get_state()[1].copy()
    torch_state = torch.get_rng_state().clone()
    gm = GaussianMixture(3, init_params="random", random_state=0).fit(X)
    gm.sample(10, random_state=1)
    assert_array_equal(np.random.get_state()[1], np_state)
    assert torch.equal(torch.get_rng_state(), torch_state)


# --------------------------------------------------- sklearn ecosystem


def test_pipeline_and_grid_search(blobs):
    X, _ = blobs
    search = GridSearchCV(
        make_pipeline(StandardScaler(), GaussianMixture(random_state=0)),
        {"gaussianmixture__n_components": [1, 3, 6],
         "gaussianmixture__covariance_type": ["full", "spherical"]},
        cv=KFold(3, shuffle=True, random_state=0),
    ).fit(X)
    # The held-out log-likelihood prefers the true number of clusters to one.
    assert search.best_params_["gaussianmixture__n_components"] in (3, 6)
    assert np.isfinite(search.best_score_)


def test_fit_predict_equals_fit_then_predict(blobs):
    X, _ = blobs
    labels = GaussianMixture(3, random_state=0).fit_predict(X)
    assert_array_equal(labels, GaussianMixture(3, random_state=0).fit(X).predict(X))


def test_public_names():
    assert skgen.GaussianMixture is skgen.mixture.GaussianMixture


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_matches_cpu(blobs):
    X, _ = blobs
    init = explicit_init(X, 3, "full")
    cpu = GaussianMixture(3, tol=0, max_iter=10, **init).fit(X)
    gpu = GaussianMixture(3, tol=0, max_iter=10, device="cuda", **init).fit(X)
    assert_allclose(gpu.lower_bounds_, cpu.lower_bounds_, rtol=1e-9)
    assert_allclose(gpu.score_samples(X), cpu.score_samples(X), rtol=1e-9)
    assert isinstance(gpu.means_, np.ndarray)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_model_unpickles_on_a_cpu_only_machine(blobs, monkeypatch):
    X, _ = blobs
    gpu = GaussianMixture(3, random_state=0, device="cuda").fit(X)
    payload = pickle.dumps(gpu)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    restored = pickle.loads(payload)
    with pytest.warns(UserWarning, match="runs on the CPU"):
        scores = restored.score_samples(X)
    assert_allclose(scores, gpu.score_samples(X), rtol=1e-9)


def test_cuda_fitted_model_scores_on_the_cpu_when_cuda_is_gone(blobs, monkeypatch):
    # What an unpickled CUDA model holds: numpy attributes and device="cuda".
    X, _ = blobs
    cpu = GaussianMixture(3, random_state=0).fit(X)
    moved = pickle.loads(pickle.dumps(cpu))
    moved.device = "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="runs on the CPU"):
        assert_allclose(moved.score_samples(X), cpu.score_samples(X), rtol=1e-12)
    with pytest.warns(UserWarning, match="runs on the CPU"):
        assert_array_equal(moved.predict(X), cpu.predict(X))
    # Fitting again still needs the device it asks for.
    with pytest.raises(ValueError, match="CUDA is not available"):
        moved.fit(X)


def _tight_clusters(seed, std, n_samples=4000, n_features=6, n_components=8):
    # Centres about 10 apart, clusters std wide: ratios of 300 to 1000.
    rng = np.random.default_rng(seed)
    centres = 10.0 * rng.standard_normal((n_components, n_features))
    labels = rng.integers(n_components, size=n_samples)
    return centres[labels] + std * rng.standard_normal((n_samples, n_features))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("std", [0.01, 0.03])
def test_float32_fits_tight_separated_clusters(covariance_type, std):
    X = _tight_clusters(0, std)
    params = dict(n_components=8, covariance_type=covariance_type, random_state=0)
    ref64 = SklearnGaussianMixture(**params).fit(X)
    ours32 = GaussianMixture(**params).fit(X.astype(np.float32))
    assert ours32.lower_bound_ == pytest.approx(ref64.lower_bound_, rel=1e-3)
    if covariance_type == "full":
        # scikit-learn's own float32 fit converges here (its tied, diag and
        # spherical float32 fits can fail or stop short on these data).
        ref32 = SklearnGaussianMixture(**params).fit(X.astype(np.float32))
        assert ours32.lower_bound_ == pytest.approx(ref32.lower_bound_, rel=1e-3)
    held_out = _tight_clusters(1, std, n_samples=500).astype(np.float32)
    assert np.all(np.isfinite(ours32.score_samples(held_out)))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_expanded_and_whitened_families_compute_the_same_pass(rng, covariance_type):
    # Both forms of the Gaussian give the same log-densities and the same
    # M-step on well-conditioned float64 data, whichever frame they use.
    from skgen.mixture._engine.families import (
        ExpandedGaussianFamily,
        WhitenedGaussianFamily,
    )
    from skgen.mixture._engine.passes import em_pass
    from skgen.mixture._engine.sources import TensorSource

    X, _ = mixture_data(rng, n_samples=700, offset=5.0)
    ref = SklearnGaussianMixture(
        3, covariance_type=covariance_type, max_iter=3, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(X)

    def tensor(a):
        return torch.as_tensor(np.asarray(a), dtype=torch.float64)

    params = {"weights": tensor(ref.weights_), "means": tensor(ref.means_),
              "covariances": tensor(ref.covariances_),
              "prec_chol": tensor(ref.precisions_cholesky_)}
    X_t = tensor(X)
    weights = tensor(rng.uniform(0.5, 2.0, size=len(X)))
    source = TensorSource(X_t, weights, row_width=64)  # several chunks
    shift = X_t.mean(0)
    results = []
    for family_class in (ExpandedGaussianFamily, WhitenedGaussianFamily):
        family = family_class(covariance_type, 1e-6)
        frame = family.frame(params, shift, torch.float64)
        stats, log_lik = em_pass(family, frame, source)
        results.append((float(log_lik), family.m_step(frame, stats, 1e-16)))
    # The log-likelihood of the pass against scikit-learn's score.
    expected = float(weights @ tensor(ref.score_samples(X)))
    for log_lik, _ in results:
        assert log_lik == pytest.approx(expected, rel=1e-10)
    for a, b in zip(results[0][1], results[1][1], strict=True):
        assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)
    # And the M-step against a weighted one written out in numpy.
    nk, means, _ = results[1][1]
    resp = ref.predict_proba(X) * weights.numpy()[:, None]
    assert_allclose(nk.numpy(), resp.sum(0), rtol=1e-9)
    assert_allclose(means.numpy(), resp.T @ X / resp.sum(0)[:, None], rtol=1e-9)
