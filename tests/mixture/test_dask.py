"""GaussianMixture on Dask collections, on a LocalCluster of two processes."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from _data import explicit_init, mixture_data
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from sklearn.utils.validation import check_is_fitted

from skgen import GaussianMixture

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

# The cluster's start and its workers' first import of torch take seconds.
pytestmark = pytest.mark.slow

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


@pytest.fixture(autouse=True)
def client(dask_client):
    """Every test here computes on the session's two worker processes."""
    return dask_client


@pytest.fixture
def forbid_collecting(monkeypatch):
    """No Dask array may be turned into numpy here, on the client.

    Workers are other processes, which the patch does not reach: the data
    must be read there.
    """
    monkeypatch.setattr(da.Array, "__array__", _refuse_to_collect)


def _refuse_to_collect(self, *args, **kwargs):
    raise AssertionError("a Dask array was collected into the client")


def _rows(rng, n_samples=3000, **kwargs):
    return mixture_data(rng, n_samples, **kwargs)[0]


def _fit(estimator, X, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, **fit_params)


def _uneven_blocks(X):
    """X as a Dask array of four uneven row blocks."""
    n_samples = X.shape[0]
    rows = [int(f * n_samples) for f in (0.23, 0.43, 0.13)]
    rows.append(n_samples - sum(rows))
    return da.from_array(X, chunks=(tuple(rows), X.shape[1]))


# ------------------------------------------------------------------- fit


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_lower_bounds_equal_in_memory_fit_per_iteration(rng, covariance_type):
    X = _rows(rng)
    params = dict(
        n_components=3, covariance_type=covariance_type, tol=0, max_iter=15,
        **explicit_init(X, 3, covariance_type),
    )
    in_memory = _fit(GaussianMixture(**params), X)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(da.Array, "__array__", _refuse_to_collect)
        on_dask = _fit(GaussianMixture(**params), _uneven_blocks(X))
    reference = _fit(SklearnGaussianMixture(**params), X)
    assert len(on_dask.lower_bounds_) == 15
    assert_allclose(on_dask.lower_bounds_, in_memory.lower_bounds_, rtol=1e-10, atol=0)
    assert_allclose(on_dask.lower_bounds_, reference.lower_bounds_, rtol=1e-10, atol=0)
    assert_allclose(on_dask.means_, in_memory.means_, rtol=1e-9, atol=1e-10)
    assert_allclose(on_dask.covariances_, in_memory.covariances_, rtol=1e-9, atol=1e-10)
    assert_allclose(on_dask.weights_, in_memory.weights_, rtol=1e-9)
    assert on_dask.means_.dtype == np.float64


def _with_gaps(X, rng, rate=0.15):
    X = X.copy()
    X[rng.random(X.shape) < rate] = np.nan
    X[np.isnan(X).all(1), 0] = 0.0
    return X


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_gaps_on_dask_equal_the_in_memory_fit_and_scores(rng, covariance_type):
    X = _with_gaps(_rows(rng), rng)
    params = dict(
        n_components=3, covariance_type=covariance_type, tol=0, max_iter=15,
        **explicit_init(np.nan_to_num(X), 3, covariance_type),
    )
    in_memory = _fit(GaussianMixture(**params), X)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(da.Array, "__array__", _refuse_to_collect)
        on_dask = _fit(GaussianMixture(**params), _uneven_blocks(X))
        lazy = on_dask.score_samples(_uneven_blocks(X))
        lazy_proba = on_dask.predict_proba(_uneven_blocks(X))
    assert_allclose(on_dask.lower_bounds_, in_memory.lower_bounds_, rtol=1e-9, atol=0)
    assert_allclose(on_dask.means_, in_memory.means_, rtol=1e-9, atol=1e-10)
    assert_allclose(on_dask.covariances_, in_memory.covariances_, rtol=1e-9, atol=1e-10)
    assert_allclose(on_dask.weights_, in_memory.weights_, rtol=1e-9)
    assert isinstance(lazy, da.Array)
    assert_allclose(lazy.compute(), in_memory.score_samples(X), rtol=1e-9)
    assert_allclose(lazy_proba.compute(), in_memory.predict_proba(X), rtol=1e-9,
                    atol=1e-12)
    # EM over the observed entries raises the observed-data likelihood.
    assert np.all(np.diff(on_dask.lower_bounds_) > -1e-9)


def test_gaps_on_dask_with_the_default_init_fit_a_mixture(rng):
    X = _rows(rng)
    gaps = _with_gaps(X, rng)
    model = _fit(GaussianMixture(n_components=3, random_state=0), _uneven_blocks(gaps))
    complete = _fit(GaussianMixture(n_components=3, random_state=0), X)
    # Three well separated clusters: the same means up to order, within noise.
    order = np.argsort(model.means_[:, 0])
    reference = np.argsort(complete.means_[:, 0])
    assert_allclose(model.means_[order], complete.means_[reference], atol=0.3)
    assert np.isfinite(model.score_samples(_uneven_blocks(gaps)).compute()).all()


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_dask_weights_equal_in_memory_weighted_fit(
    rng, covariance_type, forbid_collecting
):
    X = _rows(rng)
    weights = rng.uniform(0.0, 3.0, size=X.shape[0])
    weights[::7] = 0.0
    params = dict(
        n_components=3, covariance_type=covariance_type, tol=0, max_iter=10,
        **explicit_init(X, 3, covariance_type),
    )
    in_memory = _fit(GaussianMixture(**params), X, sample_weight=weights)
    unweighted = _fit(GaussianMixture(**params), X)
    # Weights chunked unlike X's rows are rechunked to match them.
    on_dask = _fit(
        GaussianMixture(**params), _uneven_blocks(X),
        sample_weight=da.from_array(weights, chunks=1000),
    )
    assert_allclose(on_dask.lower_bounds_, in_memory.lower_bounds_, rtol=1e-10)
    assert_allclose(on_dask.means_, in_memory.means_, rtol=1e-9, atol=1e-10)
    assert not np.allclose(on_dask.means_, unweighted.means_, rtol=1e-4)
    # A numpy weight vector with a Dask X is cut into X's blocks.
    numpy_weights = _fit(
        GaussianMixture(**params), _uneven_blocks(X), sample_weight=weights
    )
    assert_allclose(numpy_weights.lower_bounds_, in_memory.lower_bounds_, rtol=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_tight_far_clusters_match_in_memory(rng, covariance_type):
    # Tight clusters far from the data's mean take the whitened family in
    # float32: the Dask passes choose it by the same criterion.
    centres = np.array([[0.0, 0.0, 0.0], [300.0, 0.0, 0.0], [0.0, 300.0, 0.0]])
    labels = rng.integers(3, size=3000)
    X = (centres[labels] + 0.01 * rng.normal(size=(3000, 3)) + 1e3).astype(np.float32)
    params = dict(
        n_components=3, covariance_type=covariance_type, tol=0, max_iter=5,
        reg_covar=1e-8, **explicit_init(X.astype(np.float64), 3, covariance_type),
    )
    in_memory = _fit(GaussianMixture(**params), X)
    on_dask = _fit(GaussianMixture(**params), _uneven_blocks(X))
    assert on_dask.means_.dtype == np.float32
    # float32 chunks cut at other rows round otherwise, which moves the
    # early, ill-conditioned iterations by up to ~3e-3 (in memory too, under
    # a smaller working_memory); the fits end together.
    assert_allclose(on_dask.lower_bound_, in_memory.lower_bound_, rtol=1e-5)
    assert_allclose(on_dask.means_, in_memory.means_, rtol=1e-6, atol=1e-3)
    # The float64 scikit-learn fit is reached to float32 precision.
    reference = _fit(SklearnGaussianMixture(**params), X.astype(np.float64))
    assert_allclose(on_dask.lower_bounds_, reference.lower_bounds_, rtol=1e-3)


@pytest.mark.parametrize(
    "init_params", ["kmeans", "k-means++", "random_from_data", "random"]
)
def test_small_data_initialise_as_in_memory(rng, init_params):
    # With no more rows than the initialisation's sample, the sample is all
    # the rows in order: the same random_state gives the in-memory fit.
    X = _rows(rng, n_samples=2000)
    weights = rng.uniform(0.5, 2.0, size=X.shape[0])
    params = dict(n_components=3, init_params=init_params, random_state=0, tol=0,
                  max_iter=5)
    in_memory = _fit(GaussianMixture(**params), X, sample_weight=weights)
    on_dask = _fit(
        GaussianMixture(**params), _uneven_blocks(X),
        sample_weight=da.from_array(weights, chunks=500),
    )
    assert_allclose(on_dask.lower_bounds_, in_memory.lower_bounds_, rtol=1e-10)


def test_large_data_initialise_from_a_bounded_sample(
    rng, monkeypatch, forbid_collecting
):
    X = _rows(rng, n_samples=40_000, n_features=2, n_components=4)
    import skgen.mixture._engine.init as init

    seen = []
    original = init.initial_moments

    def spy(*args):
        seen.append(args[4].shape[0])  # the rows the initialisation draws from
        return original(*args)

    monkeypatch.setattr(init, "initial_moments", spy)
    X_dask = da.from_array(X, chunks=(6000, 2))
    params = dict(n_components=4, random_state=0, n_init=2)
    first = _fit(GaussianMixture(**params), X_dask)
    # Drawn once per fit and shared by the initialisations, like the data.
    assert seen == [10_000, 10_000]
    second = _fit(GaussianMixture(**params), X_dask)
    assert first.lower_bounds_ == second.lower_bounds_
    in_memory = _fit(GaussianMixture(**params), X)
    assert first.lower_bound_ == pytest.approx(in_memory.lower_bound_, abs=1e-3)
    # More components draw more rows.
    seen.clear()
    _fit(GaussianMixture(n_components=250, max_iter=1, reg_covar=1e-3), X_dask)
    assert seen == [12_500]


def test_sample_of_rows_is_uniform_and_skips_zero_weights(rng):
    from skgen.mixture._dask import DaskSource

    n_samples = 60_000
    X = np.arange(n_samples, dtype=np.float64)[:, None]
    weights = np.ones(n_samples)
    weights[:10_000] = 0.0
    source = DaskSource(
        da.from_array(X, chunks=(7000, 1)), da.from_array(weights, chunks=7000)
    )
    rows, rows_weight = source.sample_rows(5000, seed=3).compute()
    values = rows[:, 0]
    assert len(np.unique(values)) == 5000
    assert values.min() >= 10_000
    assert_array_equal(rows_weight, 1.0)
    # Uniform over the 50 000 rows of positive weight: mean 35 000 and a
    # standard error of about 14 434 / sqrt(5000) = 204 (finite population).
    assert abs(values.mean() - 35_000) < 5 * 204
    again, _ = source.sample_rows(5000, seed=3).compute()
    assert_array_equal(np.sort(again[:, 0]), np.sort(values))
    other, _ = source.sample_rows(5000, seed=4).compute()
    assert not np.array_equal(np.sort(other[:, 0]), np.sort(values))


def test_dataframe_input_and_feature_names(rng):
    pd = pytest.importorskip("pandas")
    X = _rows(rng)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    params = dict(n_components=3, random_state=0, tol=0, max_iter=5)
    in_memory = _fit(GaussianMixture(**params), frame)
    ddf = dd.from_pandas(frame, npartitions=3)
    on_dask = _fit(GaussianMixture(**params), ddf)
    assert_array_equal(on_dask.feature_names_in_, ["a", "b", "c", "d"])
    assert_allclose(on_dask.lower_bounds_, in_memory.lower_bounds_, rtol=1e-10)
    scores = on_dask.score_samples(ddf)
    assert isinstance(scores, da.Array)
    assert_allclose(scores.compute(), in_memory.score_samples(frame), rtol=1e-9)
    renamed = dd.from_pandas(frame.rename(columns={"a": "z"}), npartitions=3)
    with pytest.raises(ValueError, match="feature names"):
        on_dask.predict(renamed)


# ------------------------------------------------------------- inference


def test_inference_is_lazy_and_equals_in_memory(rng, forbid_collecting):
    X = _rows(rng)
    X_dask = _uneven_blocks(X)
    model = _fit(GaussianMixture(n_components=3, random_state=0), X)
    for method in ["score_samples", "predict", "predict_proba"]:
        lazy = getattr(model, method)(X_dask)
        assert isinstance(lazy, da.Array), method
        assert lazy.chunks[0] == X_dask.chunks[0]
        expected = getattr(model, method)(X)
        assert lazy.dtype == expected.dtype
        computed = lazy.compute()
        assert computed.shape == expected.shape
        assert_allclose(computed, expected, rtol=1e-12, atol=1e-300)
    assert model.score(X_dask) == pytest.approx(model.score(X), rel=1e-12)
    assert model.bic(X_dask) == pytest.approx(model.bic(X), rel=1e-12)
    # sample stays in memory, whatever the data were.
    samples, labels = model.sample(10, random_state=0)
    assert isinstance(samples, np.ndarray)


def test_fit_predict_on_dask_is_lazy(rng, forbid_collecting):
    X = _rows(rng)
    model = GaussianMixture(n_components=3, random_state=0)
    labels = model.fit_predict(_uneven_blocks(X))
    assert isinstance(labels, da.Array)
    assert_array_equal(labels.compute(), model.predict(X))


def test_float32_inference_keeps_float32(rng):
    X = _rows(rng).astype(np.float32)
    model = _fit(GaussianMixture(n_components=3, random_state=0), X)
    scores = model.score_samples(_uneven_blocks(X))
    assert scores.dtype == np.float32
    assert_allclose(scores.compute(), model.score_samples(X), rtol=1e-6)


# ------------------------------------------------------------- bad input


def test_unknown_chunk_sizes_raise(rng):
    X = _rows(rng)
    X_dask = da.from_array(X, chunks=(1000, 4))
    unknown = X_dask[X_dask[:, 0] > 0]
    model = GaussianMixture(n_components=3, random_state=0)
    with pytest.raises(ValueError, match=r"compute_chunk_sizes\(\)"):
        model.fit(unknown)
    fitted = _fit(GaussianMixture(n_components=3, random_state=0), X)
    with pytest.raises(ValueError, match=r"compute_chunk_sizes\(\)"):
        fitted.predict(unknown)
    # What the message says to do works.
    unknown.compute_chunk_sizes()
    expected = fitted.predict(X[X[:, 0] > 0])
    assert_array_equal(fitted.predict(unknown).compute(), expected)


def test_blocks_split_across_columns_are_joined(rng):
    X = _rows(rng)
    params = dict(n_components=3, random_state=0, tol=0, max_iter=5)
    by_rows = _fit(GaussianMixture(**params), da.from_array(X, chunks=(1000, 4)))
    by_cells = _fit(GaussianMixture(**params), da.from_array(X, chunks=(1000, 1)))
    assert_allclose(by_cells.lower_bounds_, by_rows.lower_bounds_, rtol=1e-12)
    scores = by_rows.score_samples(da.from_array(X, chunks=(1000, 3)))
    assert_allclose(scores.compute(), by_rows.score_samples(X), rtol=1e-12)


def test_feature_count_mismatch_at_predict(rng):
    X = _rows(rng)
    model = _fit(GaussianMixture(n_components=3, random_state=0), _uneven_blocks(X))
    assert model.n_features_in_ == 4
    with pytest.raises(ValueError, match="X has 3 features, but GaussianMixture is "
                       "expecting 4 features as input"):
        model.predict(da.from_array(X[:, :3], chunks=1000))


def test_infinite_values_and_empty_rows_raise_and_leave_the_model_unfitted(rng):
    X = _rows(rng)
    X[2500, 1] = np.inf
    model = GaussianMixture(n_components=3, random_state=0)
    with pytest.raises(ValueError, match="infinity"):
        model.fit(_uneven_blocks(X))
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    fitted = _fit(GaussianMixture(n_components=3, random_state=0), X[:2000])
    with pytest.raises(ValueError, match="infinity"):
        fitted.score_samples(_uneven_blocks(X)).compute()
    X[2500] = np.nan  # a row with nothing observed
    with pytest.raises(ValueError, match="1 row.*no observed entry"):
        model.fit(_uneven_blocks(X))
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    with pytest.raises(ValueError, match="no observed entry.*empty_rows"):
        fitted.score_samples(_uneven_blocks(X)).compute()


def test_bad_weights_raise(rng):
    X = _rows(rng)
    X_dask = _uneven_blocks(X)
    weights = np.ones(X.shape[0])
    weights[10] = -1.0
    model = GaussianMixture(n_components=3, random_state=0)
    with pytest.raises(ValueError, match="non-negative"):
        model.fit(X_dask, sample_weight=da.from_array(weights, chunks=1000))
    with pytest.raises(ValueError, match="expected"):
        model.fit(X_dask, sample_weight=da.ones(10, chunks=5))
    weights[:] = 0.0
    weights[:2] = 1.0
    with pytest.raises(ValueError, match="positive sample_weight"):
        model.fit(X_dask, sample_weight=da.from_array(weights, chunks=1000))


def test_non_numeric_columns_raise(rng):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": rng.normal(size=100), "b": ["x"] * 100})
    ddf = dd.from_pandas(frame, npartitions=2)
    with pytest.raises(ValueError, match="not numeric"):
        GaussianMixture(n_components=2).fit(ddf)


def test_a_gpu_device_with_dask_input_raises(rng):
    X_dask = _uneven_blocks(_rows(rng))
    with pytest.raises(ValueError, match="device='cpu'"):
        GaussianMixture(n_components=3, device="cuda").fit(X_dask)


def test_ill_defined_covariance_leaves_the_model_unfitted(rng):
    # The error comes after the passes over the data, from the initialisation.
    X = np.repeat(rng.normal(size=(3, 2)), 400, axis=0)
    model = GaussianMixture(n_components=2, reg_covar=0.0, random_state=0)
    with pytest.raises(ValueError, match="ill-defined empirical covariance"):
        model.fit(da.from_array(X, chunks=(500, 2)))
    with pytest.raises(NotFittedError):
        check_is_fitted(model)


# --------------------------------------------------------------- optional


def test_import_skgen_does_not_import_dask():
    code = (
        "import sys, numpy as np, skgen\n"
        "X = np.random.default_rng(0).normal(size=(50, 2))\n"
        "skgen.GaussianMixture(2, random_state=0).fit(X).score_samples(X)\n"
        "assert 'dask' not in sys.modules, 'dask was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- sampling


def _fitted(rng, covariance_type="full", dtype=np.float64):
    X = _rows(rng, n_samples=1500, n_features=3).astype(dtype)
    return _fit(GaussianMixture(3, covariance_type=covariance_type, random_state=0), X)


def _full_covariances(model):
    cov = np.asarray(model.covariances_, dtype=np.float64)
    k, d = model.means_.shape
    if model.covariance_type == "tied":
        return np.repeat(cov[None], k, axis=0)
    if model.covariance_type == "diag":
        return np.stack([np.diag(c) for c in cov])
    if model.covariance_type == "spherical":
        return cov[:, None, None] * np.eye(d)
    return cov


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_sample_dask_follows_the_model(rng, covariance_type):
    from scipy.stats import ks_2samp

    from skgen.mixture import sample_dask

    model = _fitted(rng, covariance_type)
    n = 24_000
    X_lazy, y_lazy = sample_dask(model, n, chunk_size=7000, random_state=1)
    X, y = X_lazy.compute(), y_lazy.compute()
    assert X.shape == (n, 3) and y.shape == (n,)
    weights = model.weights_ / model.weights_.sum()
    share = np.bincount(y, minlength=3) / n
    assert np.all(np.abs(share - weights) < 5 * np.sqrt(weights * (1 - weights) / n))
    covariances = _full_covariances(model)
    for k in range(3):
        rows = X[y == k]
        std_error = np.sqrt(np.diag(covariances[k]) / len(rows))
        assert np.all(np.abs(rows.mean(0) - model.means_[k]) < 5 * std_error)
        assert_allclose(np.cov(rows.T), covariances[k], atol=0.1 * covariances[k].max())
    # The same law as the model's own sample, column by column.
    reference = model.sample(n, random_state=2)[0]
    for j in range(3):
        assert ks_2samp(X[:, j], reference[:, j]).pvalue > 1e-3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sample_dask_has_the_dtype_of_the_model(rng, dtype):
    from skgen.mixture import sample_dask

    model = _fitted(rng, dtype=dtype)
    X, y = sample_dask(model, 50, chunk_size=20, random_state=0)
    assert X.dtype == dtype and X.compute().dtype == dtype
    assert y.dtype == np.int64 and y.compute().dtype == np.int64


def test_sample_dask_is_reproducible_and_leaves_global_state(rng):
    from skgen.mixture import sample_dask

    model = _fitted(rng)
    global_before = np.random.get_state()[1].copy()
    X1, y1 = sample_dask(model, 1000, chunk_size=300, random_state=7)
    X2, y2 = sample_dask(model, 1000, chunk_size=300, random_state=7)
    # One block alone has the bits it has in the whole.
    assert_array_equal(X2.blocks[2].compute(), X1.compute()[600:900])
    assert_array_equal(X1.compute(), X2.compute())
    assert_array_equal(y1.compute(), y2.compute())
    # Each block has a stream of its own, and another seed other draws.
    first = X1.compute()
    assert not np.array_equal(first[:300], first[300:600])
    other = sample_dask(model, 1000, chunk_size=300, random_state=8)[0].compute()
    assert not np.array_equal(first, other)
    # random_state=None takes the estimator's (0 here), as sample does.
    assert_array_equal(
        sample_dask(model, 1000, chunk_size=300)[0].compute(),
        sample_dask(model, 1000, chunk_size=300, random_state=0)[0].compute(),
    )
    model.set_params(random_state=None)
    fresh = [sample_dask(model, 100, chunk_size=50)[0].compute() for _ in range(2)]
    assert not np.array_equal(*fresh)
    assert_array_equal(np.random.get_state()[1], global_before)


def test_sample_dask_chunk_sizes(rng):
    dask = pytest.importorskip("dask")
    from skgen.mixture import sample_dask

    model = _fitted(rng)
    X, y = sample_dask(model, 1000, chunk_size=300, random_state=0)
    assert X.chunks == ((300, 300, 300, 100), (3,))
    assert y.chunks == ((300, 300, 300, 100),)
    X, _ = sample_dask(model, 10, chunk_size=300, random_state=0)
    assert X.chunks == ((10,), (3,))
    with dask.config.set({"array.chunk-size": "24 KiB"}):
        X, _ = sample_dask(model, 5000, random_state=0)
    assert X.chunks[0][0] == 24 * 1024 // (8 * 3)
    assert sum(X.chunks[0]) == 5000 and X.compute().shape == (5000, 3)
    # Lazy: ten billion rows are a graph, not an allocation.
    X, y = sample_dask(model, 10**10, chunk_size=10**8, random_state=0)
    assert X.shape == (10**10, 3) and X.numblocks == (100, 1)


def test_sample_dask_bad_input(rng):
    from sklearn.cluster import KMeans

    from skgen.mixture import sample_dask

    model = _fitted(rng)
    for n_samples in (0, -5, 2.5, True):
        with pytest.raises(ValueError, match="n_samples"):
            sample_dask(model, n_samples)
    for chunk_size in (0, -1, 1.5, "big"):
        with pytest.raises(ValueError, match="chunk_size"):
            sample_dask(model, 10, chunk_size=chunk_size)
    with pytest.raises(ValueError, match="random_state"):
        sample_dask(model, 10, random_state=-1)
    with pytest.raises(NotFittedError):
        sample_dask(GaussianMixture(2), 10)
    with pytest.raises(TypeError, match="GaussianMixture or TabularMixture"):
        sample_dask(KMeans(2).fit(_rows(rng)), 10)


def test_sample_dask_of_a_table_is_a_dask_dataframe(rng):
    pd = pytest.importorskip("pandas")
    from skgen import TabularMixture
    from skgen.mixture import sample_dask

    X = _rows(rng, n_samples=600, n_features=2)
    table = pd.DataFrame({
        "x": X[:, 0],
        "level": pd.Categorical(np.where(X[:, 1] > 0, "high", "low")),
    })
    model = TabularMixture(n_components=2, random_state=0).fit(table)
    drawn = sample_dask(model, 5000, chunk_size=1500, random_state=3)
    assert isinstance(drawn, dd.DataFrame)
    assert drawn.npartitions == 4
    rows = drawn.compute()
    own = model.sample(5000, random_state=4)
    assert list(rows.columns) == list(own.columns)
    assert (rows.dtypes == own.dtypes).all()
    assert rows["level"].cat.categories.equals(own["level"].cat.categories)
    assert_array_equal(rows.index, np.arange(5000))
    # The law of the model's own sample: the share of a level and the mean.
    high, own_high = (rows["level"] == "high").mean(), (own["level"] == "high").mean()
    assert abs(high - own_high) < 5 * np.sqrt(2 * 0.25 / 5000)
    assert abs(rows["x"].mean() - own["x"].mean()) < 5 * np.sqrt(
        2 * own["x"].var() / 5000
    )
    assert_array_equal(
        drawn.partitions[1].compute(),
        sample_dask(model, 5000, chunk_size=1500, random_state=3)
        .partitions[1].compute(),
    )
