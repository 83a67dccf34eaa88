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


CITIES = {"Oslo": "NO", "Bergen": "NO", "Rome": "IT", "Milan": "IT", "Quito": "EC"}


def _structured(n, seed=0):
    """Relations, an identifier, a date and a category of many levels."""
    rng = np.random.default_rng(seed)
    city = rng.choice(list(CITIES)[:4], n)
    city[-2:] = "Quito"  # the last block only
    a, b = rng.normal(10, 3, n), rng.gamma(2, 2, n)
    return pd.DataFrame({
        "city": city, "a": a, "b": b, "total": a + b, "b_copy": b.copy(),
        "country": pd.Series(city).map(CITIES).to_numpy(),
        "id": [f"R{i:06d}" for i in rng.permutation(n)],
        "day": pd.Timestamp("2024-01-01", tz="UTC")
        + pd.to_timedelta(rng.integers(0, 400, n), unit="D"),
        "code": [f"z{v}" for v in rng.zipf(1.6, n) % 150],
    })


def _same_encoding(on_dask, in_memory):
    assert on_dask.relations_ == in_memory.relations_
    a, b = on_dask.encoder_, in_memory.encoder_
    assert list(a.kinds_) == list(b.kinds_)
    for x, y in zip(a.categories_, b.categories_, strict=True):
        assert list(map(repr, x)) == list(map(repr, y))
    assert a._pools.keys() == b._pools.keys()
    for i, (levels, shares) in b._pools.items():
        assert list(a._pools[i][0]) == list(levels)
        np.testing.assert_allclose(a._pools[i][1], shares, rtol=1e-12)


def _relations_hold(s):
    np.testing.assert_allclose(s["total"], s["a"] + s["b"], rtol=1e-12)
    assert (s["country"] == s["city"].map(CITIES)).all()
    assert s["id"].is_unique


def test_relations_ids_dates_and_pooling_on_dask_are_those_in_memory():
    df = _structured(900)
    kwargs = dict(n_components=3, random_state=0, max_levels=20)
    lazy = dd.from_pandas(df, npartitions=3)
    on_dask = TabularMixture(**kwargs).fit(lazy)
    in_memory = TabularMixture(**kwargs).fit(df)
    _same_encoding(on_dask, in_memory)
    assert "'total' = 'a' + 'b'" in on_dask.relations_
    # (the fits differ by the date's dequantization draws, per block on Dask)
    s = on_dask.sample(10000, random_state=0)
    _relations_hold(s)
    # the dtypes Dask gave the columns (its strings are pyarrow strings)
    assert (s.dtypes.astype(str) == lazy.dtypes.astype(str)).all()
    assert s["day"].min() >= df["day"].min() and s["day"].max() <= df["day"].max()


def test_relations_beyond_the_encoders_sample_are_checked_on_every_block(
        monkeypatch):
    from skgen.mixture import _dask_tables

    monkeypatch.setattr(_dask_tables, "_ENCODER_SAMPLE_ROWS", 300)
    df = _structured(3000)
    model = TabularMixture(n_components=4, random_state=0, max_levels=20)
    encoder_seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    blocks = _dask_tables.TableBlocks(dd.from_pandas(df, npartitions=4))
    outside = np.setdiff1d(df.index, blocks.sample(300, encoder_seed)[0].index)
    # a level of the map and a break of the copy, only outside the sample
    df.loc[df.index[-2:], ["city", "country"]] = ["Rome", "IT"]
    df.loc[outside[-2:], ["city", "country"]] = ["Quito", "EC"]
    df.loc[outside[5], "b_copy"] += 1.0
    lazy = dd.from_pandas(df, npartitions=4)
    model.fit(lazy)
    # found on the sample and true of every block; the copy is not
    in_memory = TabularMixture(n_components=4, random_state=0, max_levels=20).fit(df)
    _same_encoding(model, in_memory)
    assert not any("b_copy" in r for r in model.relations_)
    assert model.encoder_._relations.items[
        model.relations_.index("'country' is determined by 'city'")
    ].mapping["Quito"] == "EC"
    _relations_hold(model.sample(10000, random_state=0))
    # a declared relation that a row outside the sample breaks raises
    declared = TabularMixture(n_components=4, relations=[("b_copy", "equal", "b")])
    with pytest.raises(ValueError, match="'b_copy' = 'b' does not hold on rows of "
                       "the Dask table outside"):
        declared.fit(lazy)
