"""TabularMixture on Dask tables, on the session's LocalCluster."""

import numpy as np
import pandas as pd
import pytest
from test_tabular import _table

from skgen import TabularMixture

dd = pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def client(dask_client):
    return dask_client


def _floats_and_categories():
    # Integer columns draw their dequantization per block on Dask and in one
    # stream in memory; without them the two fits see the same rows.
    return _table(900).drop(columns=["children"])


@pytest.mark.parametrize("n_components", [3, "auto"])
def test_fit_on_dask_is_the_in_memory_fit(n_components):
    df = _floats_and_categories()
    lazy = dd.from_pandas(df, npartitions=3)
    on_dask = TabularMixture(n_components, random_state=0).fit(lazy)
    in_memory = TabularMixture(n_components, random_state=0).fit(df)
    assert on_dask.n_components_ == in_memory.n_components_
    assert on_dask.n_iter_ == in_memory.n_iter_
    assert on_dask.lower_bound_ == pytest.approx(in_memory.lower_bound_, rel=1e-10)
    np.testing.assert_allclose(on_dask.weights_, in_memory.weights_, atol=1e-10)
    assert on_dask.validation_scores_.keys() == in_memory.validation_scores_.keys()
    for k, score in in_memory.validation_scores_.items():
        assert on_dask.validation_scores_[k] == pytest.approx(score, rel=1e-10)
    assert list(on_dask.feature_names_in_) == list(df.columns)


def test_scores_of_a_dask_table_are_lazy_and_equal_the_in_memory_ones():
    df = _table(600)
    model = TabularMixture(random_state=0).fit(df)
    lazy = dd.from_pandas(df, npartitions=4)
    scores = model.score_samples(lazy)
    assert hasattr(scores, "dask")
    np.testing.assert_allclose(scores.compute(), model.score_samples(df))
    np.testing.assert_array_equal(model.predict(lazy).compute(), model.predict(df))
    np.testing.assert_allclose(model.predict_proba(lazy).compute(),
                               model.predict_proba(df))
    with pytest.raises(ValueError, match="feature names"):
        model.score_samples(lazy[list(reversed(df.columns))])


def test_levels_outside_the_encoders_sample_are_levels(monkeypatch):
    from skgen.mixture import _dask_tables

    monkeypatch.setattr(_dask_tables, "_ENCODER_SAMPLE_ROWS", 200)
    df = _table(2000)
    df["city"] = df["city"].astype(object)
    df.loc[1990, "city"] = "Quito"  # one row: hardly ever in a sample of 200
    model = TabularMixture(n_components=4, random_state=0).fit(
        dd.from_pandas(df, npartitions=4))
    assert "Quito" in list(model.encoder_.categories_[0])
    assert np.isfinite(model.score_samples(df.loc[[1990]])).all()
    samples = model.sample(500, random_state=0)
    assert set(samples.columns) == set(df.columns)


def test_what_a_dask_table_cannot_take_raises():
    lazy = dd.from_pandas(_table(100), npartitions=2)
    with pytest.raises(ValueError, match="sample_weight is not supported"):
        TabularMixture().fit(lazy, sample_weight=np.ones(100))
    with pytest.raises(ValueError, match="marked by NaN"):
        TabularMixture(missing_values=-1).fit(lazy)
    series = dd.from_pandas(pd.Series([1.0, 2.0]), npartitions=1)
    with pytest.raises(TypeError, match="Series is not supported"):
        TabularMixture().fit(series)
