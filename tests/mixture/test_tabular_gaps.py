"""Synthetic tables keep their gaps: TabularMixture's missingness model."""

import numpy as np
import pandas as pd
import pytest

from skgen import TabularMixture


def _table_with_gaps(n=4000, seed=0):
    """y is missing at random given c (5%, 10%, 50% by level); k and d MCAR.

    The levels of c are well apart in x, so that components can tell them
    apart; the missing share within a level is then a component's.

    Returns the table and the complete y, before its gaps.
    """
    rng = np.random.default_rng(seed)
    c = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    x = rng.normal(np.select([c == "a", c == "b"], [0.0, 4.0], 8.0), 1.0)
    y = 2 * x + rng.normal(0, 1, n)
    y_complete = y.copy()
    y[rng.random(n) < np.select([c == "a", c == "b"], [0.05, 0.10], 0.50)] = np.nan
    k = rng.poisson(3 + (c == "b"), n).astype(float)
    k[rng.random(n) < 0.09] = np.nan
    d = rng.choice(["u", "v"], n).astype(object)
    d[rng.random(n) < 0.08] = None
    df = pd.DataFrame({"c": pd.Categorical(c), "x": x, "y": y, "k": k, "d": d})
    return df, y_complete


@pytest.fixture(scope="module")
def fitted():
    df, y_complete = _table_with_gaps()
    return df, y_complete, TabularMixture(random_state=0).fit(df)


def test_samples_keep_each_columns_missing_share(fitted):
    df, _, model = fitted
    synthetic = model.sample(20000, random_state=1)
    real_share, synthetic_share = df.isna().mean(), synthetic.isna().mean()
    assert synthetic_share["c"] == synthetic_share["x"] == 0.0
    np.testing.assert_allclose(synthetic_share, real_share, atol=0.02)
    assert (synthetic.dtypes == df.dtypes).all()


def test_missing_share_follows_the_related_category(fitted):
    df, _, model = fitted
    synthetic = model.sample(20000, random_state=2)

    def shares(table):
        return table["y"].isna().groupby(table["c"].astype(str)).mean()

    np.testing.assert_allclose(shares(synthetic), shares(df), atol=0.05)


def test_observed_values_keep_their_law_and_complete_rows_fill_the_gaps(fitted):
    df, y_complete, model = fitted
    sd = df["y"].std()
    with_gaps = model.sample(20000, random_state=3)
    assert abs(with_gaps["y"].mean() - df["y"].mean()) < 0.1 * sd
    complete = model.set_params(sample_gaps=False).sample(20000, random_state=3)
    model.set_params(sample_gaps=True)
    assert not complete.isna().any().any()
    # y is missing more often where it is large (level c), so the observed
    # mean is biased low; complete rows estimate the mean of all of y.
    assert df["y"].mean() < y_complete.mean() - 0.1 * sd
    assert abs(complete["y"].mean() - y_complete.mean()) < 0.1 * sd


def test_the_gap_model_is_calibrated_and_reads_the_other_columns(fitted):
    df, _, model = fitted
    gaps = model.missingness_
    missing = df.isna().to_numpy()
    Z = model.encoder_.transform(df)
    logits = gaps._standardised(Z) @ gaps.coef.T + gaps.intercept
    chance = 1.0 / (1.0 + np.exp(-logits))
    # a logistic regression with an intercept predicts each column's share
    np.testing.assert_allclose(chance.mean(0), missing[:, gaps.columns].mean(0),
                               atol=0.005)
    y = list(gaps.columns).index(2)
    numeric = model.encoder_._numeric
    assert gaps.coef[y, numeric.index(2)] == 0.0  # not its own value
    assert np.abs(gaps.coef[y]).max() > 0.5  # but c (and x) tell


def test_weights_count_as_repeated_rows_in_the_gap_model():
    df, _ = _table_with_gaps(600, seed=4)
    df = df.drop(columns=["k"])  # integer draws differ between copies
    w = np.random.default_rng(5).integers(0, 3, len(df))
    weighted = TabularMixture(1, random_state=0).fit(df, sample_weight=w)
    repeated = TabularMixture(1, random_state=0).fit(df.loc[df.index.repeat(w)])
    Z = weighted.encoder_.transform(df)

    def logits(gaps):
        return gaps._standardised(Z) @ gaps.coef.T + gaps.intercept

    np.testing.assert_allclose(logits(weighted.missingness_),
                               logits(repeated.missingness_), atol=1e-3)


def test_gaps_follow_a_category_whose_levels_overlap():
    # the table: y missing 5/40/10% by level, levels 1 sd apart in x
    rng = np.random.default_rng(2)
    n = 4000
    c = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    x = rng.normal(np.select([c == "a", c == "b"], [0.0, 3.0], 6.0), 1.0)
    y = 2 * x + rng.normal(0, 1, n)
    y[rng.random(n) < np.select([c == "a", c == "b"], [0.05, 0.40], 0.10)] = np.nan
    df = pd.DataFrame({"c": pd.Categorical(c), "x": x, "y": y})
    s = TabularMixture(random_state=0).fit(df).sample(20000, random_state=0)

    def shares(t):
        return t["y"].isna().groupby(t["c"].astype(str)).mean()

    np.testing.assert_allclose(shares(s), shares(df), atol=0.05)


def test_a_complete_table_samples_the_same_rows_either_way():
    df, _ = _table_with_gaps(800)
    df = df.dropna()
    a = TabularMixture(random_state=0).fit(df)
    assert a.missingness_ is None
    b = TabularMixture(random_state=0, sample_gaps=False).fit(df)
    pd.testing.assert_frame_equal(a.sample(300, random_state=4),
                                  b.sample(300, random_state=4))


def test_gaps_hold_the_missing_values_marker_and_arrays_get_nan():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(1000, 3))
    X[rng.random(1000) < 0.3, 1] = -1.0
    model = TabularMixture(2, random_state=0, missing_values=-1.0).fit(X)
    synthetic = model.sample(5000, random_state=0)
    assert np.isclose(np.mean(synthetic[:, 1] == -1.0), 0.3, atol=0.02)
    assert not np.isnan(synthetic).any() and not (synthetic[:, [0, 2]] == -1).any()
    X[X == -1.0] = np.nan
    synthetic = TabularMixture(2, random_state=0).fit(X).sample(5000, random_state=0)
    assert np.isclose(np.isnan(synthetic[:, 1]).mean(), 0.3, atol=0.02)


@pytest.mark.slow
def test_dask_fit_finds_the_same_gap_model(dask_client):
    dd = pytest.importorskip("dask.dataframe")
    df, _ = _table_with_gaps(900)
    df = df.drop(columns=["k"])  # integer draws differ per block on Dask
    in_memory = TabularMixture(3, random_state=0).fit(df)
    on_dask = TabularMixture(3, random_state=0).fit(dd.from_pandas(df, npartitions=3))
    np.testing.assert_allclose(on_dask.missingness_.coef, in_memory.missingness_.coef,
                               rtol=1e-6, atol=1e-8)
    lazy = on_dask.sample(2000, random_state=0)
    assert lazy.isna().mean()["y"] > 0.05


def test_gaps_are_drawn_after_the_rows(fitted):
    _, _, model = fitted
    with_gaps = model.sample(500, random_state=7)
    complete = model.set_params(sample_gaps=False).sample(500, random_state=7)
    model.set_params(sample_gaps=True)
    observed = with_gaps.notna()
    assert (~observed).to_numpy().any()
    pd.testing.assert_frame_equal(with_gaps.where(observed), complete.where(observed))
