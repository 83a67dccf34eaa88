"""Shared fixtures for the skgen test suite."""

import pickle

import numpy as np
import pytest
import torch


@pytest.fixture
def global_random_seed():
    """The seed scikit-learn's own tests expect (its default, 42)."""
    return 42


@pytest.fixture(params=[np.float64, np.float32], ids=["float64", "float32"])
def global_dtype(request):
    """Both float dtypes, as scikit-learn's float32 test runs use them."""
    return request.param


@pytest.fixture
def unpickle_on_cpu_only(monkeypatch):
    """Unpickle as a machine without CUDA does: skorch warns, and maps to the CPU."""

    def load(payload):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
        with pytest.warns(UserWarning, match="cpu"):
            restored = pickle.loads(payload)
        # skorch restores the device as torch.device('cpu'), not the string.
        assert str(restored.net_.device) == "cpu"
        return restored

    return load


@pytest.fixture
def rng():
    """A fresh, seeded numpy generator for each test."""
    return np.random.default_rng(0)


@pytest.fixture
def blobs(rng):
    """Three well separated 2-D Gaussian clusters (600 rows) and labels."""
    centers = np.array([[0.0, 0.0], [6.0, 1.0], [1.0, 7.0]])
    scales = np.array([0.5, 1.0, 0.8])
    labels = np.repeat(np.arange(3), 200)
    X = centers[labels] + rng.normal(size=(600, 2)) * scales[labels, None]
    return X, labels


@pytest.fixture(scope="session")
def dask_client():
    """A Dask cluster of two worker processes of one thread, for the session.

    Started by the first test that asks for it (the Dask tests; Dask is an
    optional extra, imported here only then).
    """
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client
