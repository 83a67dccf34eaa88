"""VAE and GAN inference and search on Dask, on a LocalCluster of two processes."""

import contextlib
import functools
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV

from skgen import GAN, VAE

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

# The cluster's start and its workers' first import of torch take seconds.
pytestmark = pytest.mark.slow

# Small networks and short training: the tests compare answers, not fits.
SETTINGS = {
    "VAE": dict(hidden_layer_sizes=(16,), max_epochs=3, early_stopping=False),
    "GAN": dict(generator_hidden_layer_sizes=(16,),
                discriminator_hidden_layer_sizes=(16,), max_steps=20, n_critic=1,
                batch_size=64),
}
METHODS = {
    "VAE": ["score_samples", "decision_function", "predict", "transform"],
    "GAN": ["score_samples", "decision_function", "predict"],
}
ESTIMATORS = {"VAE": VAE, "GAN": GAN}
# Uneven row blocks, and a block boundary inside the columns.
CHUNKS = ((70, 130, 100), (2, 1))


@pytest.fixture(autouse=True)
def client(dask_client):
    """Every test here computes on the session's two worker processes."""
    return dask_client


@pytest.fixture
def forbid_collecting(monkeypatch):
    """No Dask array may be turned into numpy here, on the client."""
    monkeypatch.setattr(da.Array, "__array__", _refuse_to_collect)


def _refuse_to_collect(self, *args, **kwargs):
    raise AssertionError("a Dask array was collected into the client")


def _data(n_samples=300, seed=0):
    rng = np.random.default_rng(seed)
    mixing = np.array([[2.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 0.5]])
    return rng.normal(size=(n_samples, 3)) @ mixing + 1.0


@functools.cache
def _fitted(kind, dtype=np.float64, frame=False):
    """A model fitted in memory, shared by the tests that only read it."""
    X = _data().astype(dtype)
    if frame:
        X = pd.DataFrame(X, columns=["height", "width", "depth"])
    # contamination=0.2 puts both labels in predict's answers.
    model = ESTIMATORS[kind](random_state=0, contamination=0.2, **SETTINGS[kind])
    return model.fit(X), X


@contextlib.contextmanager
def _one_torch_thread():
    """This process computes as the one-thread workers do."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


# -------------------------------------------------------------- inference


@pytest.mark.parametrize("kind", ["VAE", "GAN"])
def test_inference_is_lazy_blockwise_and_equals_in_memory(kind, forbid_collecting):
    model, X = _fitted(kind)
    X_dask = da.from_array(X, chunks=CHUNKS)
    for method in METHODS[kind]:
        expected = getattr(model, method)(X)
        lazy = getattr(model, method)(X_dask)
        assert isinstance(lazy, da.Array), method
        assert lazy.chunks[0] == CHUNKS[0], method
        assert lazy.shape == expected.shape, method
        computed = lazy.compute()
        assert isinstance(computed, np.ndarray), method
        assert lazy.dtype == computed.dtype == expected.dtype, method
        if method == "predict":
            assert set(expected) == {-1, 1}
            assert_array_equal(computed, expected)
        else:
            # The same float64 arithmetic on fewer rows at a time.
            assert_allclose(computed, expected, rtol=1e-12, atol=1e-12, err_msg=method)


def test_transform_chunks_span_the_latent_columns():
    model, X = _fitted("VAE")
    lazy = model.transform(da.from_array(X, chunks=CHUNKS))
    latent_dim = model.net_.module_.latent_dim
    assert lazy.chunks == (CHUNKS[0], (latent_dim,))


@pytest.mark.parametrize("kind", ["VAE", "GAN"])
def test_float32_collection_equals_float32_in_memory(kind):
    model, X = _fitted(kind, dtype=np.float32)
    X_dask = da.from_array(X, chunks=(100, 3))
    assert X_dask.dtype == np.float32
    assert_allclose(
        model.score_samples(X_dask).compute(), model.score_samples(X),
        rtol=1e-12, atol=1e-12,
    )


@pytest.mark.parametrize("kind", ["VAE", "GAN"])
def test_dask_dataframe_keeps_the_feature_names(kind):
    model, frame = _fitted(kind, frame=True)
    lazy_frame = dd.from_pandas(frame, npartitions=3)
    # Computed in this process, so that a warning of a block would show here.
    with warnings.catch_warnings(), dask.config.set(scheduler="synchronous"):
        warnings.simplefilter("error")
        # Older Dask warns that a local scheduler runs beside the cluster.
        warnings.filterwarnings("ignore", message="Running on a single-machine")
        scores = model.score_samples(lazy_frame)
        assert isinstance(scores, da.Array)
        assert_allclose(scores.compute(), model.score_samples(frame), rtol=1e-12)
    renamed = lazy_frame.rename(columns={"depth": "length"})
    with pytest.raises(ValueError, match="feature names"):
        model.score_samples(renamed)


# -------------------------------------------------------------- bad input


@pytest.mark.parametrize("kind", ["VAE", "GAN"])
def test_bad_input_raises(kind):
    model, X = _fitted(kind)
    unfitted = ESTIMATORS[kind](**SETTINGS[kind])
    with pytest.raises(NotFittedError):
        unfitted.score_samples(da.from_array(X, chunks=100))
    # Raised at the call, before anything is computed.
    with pytest.raises(ValueError, match="3 features"):
        model.predict(da.from_array(X[:, :2], chunks=100))
    unknown = da.from_array(X, chunks=100)
    unknown = unknown[unknown[:, 0] > 0]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        model.decision_function(unknown)
    with pytest.raises(ValueError, match="2D"):
        model.score_samples(da.from_array(X[:, 0], chunks=100))
    # Values are checked where the block is scored: when computed. The VAE
    # takes NaN as a missing entry; infinity is what both refuse.
    bad = X.copy()
    bad[250, 1] = np.inf
    lazy = model.score_samples(da.from_array(bad, chunks=100))
    with pytest.raises(ValueError, match="(?i)infinity"):
        lazy.compute()


def test_import_skgen_neural_does_not_import_dask():
    code = (
        "import sys, numpy as np, skgen\n"
        "X = np.random.default_rng(0).normal(size=(64, 2))\n"
        "vae = skgen.VAE(1, hidden_layer_sizes=(4,), max_epochs=1,\n"
        "                early_stopping=False).fit(X)\n"
        "vae.score_samples(X); vae.predict(X); vae.transform(X)\n"
        "gan = skgen.GAN(generator_hidden_layer_sizes=(4,),\n"
        "                discriminator_hidden_layer_sizes=(4,), max_steps=2).fit(X)\n"
        "gan.decision_function(X)\n"
        "assert 'dask' not in sys.modules, 'dask was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------- search


def test_grid_search_on_the_cluster_equals_in_memory(client):
    X = _data(n_samples=200, seed=1)
    grid = {"latent_dim": [1, 2], "lr": [1e-3, 1e-2]}

    def search():
        return GridSearchCV(VAE(random_state=0, **SETTINGS["VAE"]), grid, cv=2)

    with _one_torch_thread():
        expected = search().fit(X)
    with (
        distributed.get_task_stream(client) as tasks,
        joblib.parallel_backend("dask"),
    ):
        on_cluster = search().fit(X)
    # The search's fits ran on the workers (joblib may batch them).
    assert len(tasks.data) > 0
    assert on_cluster.best_params_ == expected.best_params_
    for key in ["split0_test_score", "split1_test_score", "mean_test_score"]:
        assert_allclose(on_cluster.cv_results_[key], expected.cv_results_[key],
                        rtol=1e-12, err_msg=key)
    assert len(set(expected.cv_results_["mean_test_score"])) == 4
    assert_allclose(on_cluster.best_estimator_.score_samples(X),
                    expected.best_estimator_.score_samples(X), rtol=1e-12)


# ----------------------------------------------------------------- tables


def _table(n=240, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "x": rng.normal(size=n),
        "n": rng.poisson(3.0, size=n),
        "colour": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
        "flag": rng.random(n) < 0.3,
    })


@pytest.mark.parametrize("kind", ["VAE", "GAN"])
def test_a_dask_table_is_answered_partition_by_partition(kind):
    df = _table()
    model = ESTIMATORS[kind](random_state=0, **SETTINGS[kind]).fit(df)
    lazy_frame = dd.from_pandas(df, npartitions=3)
    for method in METHODS[kind]:
        lazy = getattr(model, method)(lazy_frame)
        assert isinstance(lazy, da.Array), method
        expected = getattr(model, method)(df)
        assert lazy.shape == expected.shape, method
        if expected.dtype.kind == "f":
            assert_allclose(lazy.compute(), expected, rtol=1e-10, err_msg=method)
        else:
            assert_array_equal(lazy.compute(), expected, err_msg=method)


def test_a_dask_table_with_other_columns_is_refused():
    df = _table()
    model = VAE(random_state=0, **SETTINGS["VAE"]).fit(df)
    wrong = dd.from_pandas(df.rename(columns={"x": "y"}), npartitions=2)
    with pytest.raises(ValueError, match="feature names"):
        model.score_samples(wrong)
