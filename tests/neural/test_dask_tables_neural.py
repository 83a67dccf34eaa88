"""VAE and GAN fitted on a table answer a Dask DataFrame with categories lazily."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skgen import GAN, VAE

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

pytestmark = pytest.mark.slow

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


@pytest.fixture(autouse=True)
def client(dask_client):
    return dask_client


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
    model = {"VAE": VAE, "GAN": GAN}[kind](random_state=0, **SETTINGS[kind]).fit(df)
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
