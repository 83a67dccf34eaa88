"""Tests of skgen.VAE on mixed-type tables (pandas DataFrames with categories)."""

import functools

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skgen import VAE

FAST = dict(hidden_layer_sizes=(32, 32), max_epochs=4, early_stopping=False)


def _mixed_table(n_rows, seed=0):
    """Float, integer, boolean and categorical columns that depend on each other."""
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue"], size=n_rows, p=[0.6, 0.37, 0.03])
    shift = np.select([colour == "red", colour == "green"], [0.0, 2.0], -3.0)
    return pd.DataFrame({
        "x": rng.normal(size=n_rows) + shift,
        "count": rng.poisson(np.where(colour == "red", 2.0, 6.0)),
        "flag": rng.random(n_rows) < np.where(colour == "green", 0.8, 0.2),
        "colour": pd.Categorical(colour, categories=["red", "green", "blue"]),
    })


@functools.cache
def _fitted():
    """A small model of a mixed table, shared by the read-only tests."""
    df = _mixed_table(300)
    return VAE(2, random_state=0, **FAST).fit(df), df


def test_table_round_trips_through_fit_and_sample():
    vae, df = _fitted()
    drawn = vae.sample(400, random_state=0)
    assert isinstance(drawn, pd.DataFrame)
    assert list(drawn.columns) == list(df.columns)
    assert dict(drawn.dtypes) == dict(df.dtypes)
    assert not drawn.isna().any().any()
    assert list(drawn["colour"].cat.categories) == ["red", "green", "blue"]
    assert set(drawn["flag"].unique()) <= {True, False}
    assert drawn["count"].between(df["count"].min(), df["count"].max()).all()
    assert vae.n_features_in_ == 4
    assert_array_equal(vae.feature_names_in_, df.columns)
    # Only the integer column is modelled as integers.
    assert_array_equal(vae.dequantized_features_, [False, True, False, False])


def test_table_scores_transform_and_decode_take_the_frame():
    vae, df = _fitted()
    scores = vae.score_samples(df)
    assert scores.shape == (len(df),) and np.all(np.isfinite(scores))
    # Each row's score is its own: scoring a row alone gives the same value.
    assert_allclose(vae.score_samples(df.iloc[[7]]), scores[[7]], rtol=1e-12)
    assert vae.transform(df).shape == (len(df), 2)
    assert vae.predict(df).shape == (len(df),)
    decoded = vae.inverse_transform(np.zeros((3, 2)))
    assert dict(decoded.dtypes) == dict(df.dtypes)


def test_categorical_score_is_a_normalised_probability():
    # One categorical column: exp(score) of each level is the model's
    # probability of it; summed over the levels, at most 1 (the estimate is
    # a lower bound) and close to it, and close to the training shares.
    rng = np.random.default_rng(0)
    shares = np.array([0.5, 0.3, 0.15, 0.05])
    levels = np.array(["a", "b", "c", "d"])
    df = pd.DataFrame({"c": rng.choice(levels, size=400, p=shares)})
    vae = VAE(2, hidden_layer_sizes=(16,), max_epochs=100, early_stopping=False,
              random_state=0).fit(df)
    proba = np.exp(vae.score_samples(pd.DataFrame({"c": levels})))
    assert proba.sum() <= 1 + 1e-3
    assert proba.sum() > 0.98
    seen = pd.Series(df["c"]).value_counts(normalize=True)[levels].to_numpy()
    assert_allclose(proba, seen, atol=0.03)


def test_score_adds_the_categorical_log_probability():
    # Two tables that differ only in a categorical column's level: the
    # scores differ by the log of a probability (a negative number, above
    # the log of the level's smallest plausible share), not by a density.
    vae, df = _fitted()
    rows = df.iloc[:50]
    base = vae.score_samples(rows)
    totals = np.zeros(len(rows))
    for level in ["red", "green", "blue"]:
        other = rows.assign(colour=pd.Categorical([level] * len(rows),
                                                  categories=["red", "green", "blue"]))
        totals += np.exp(vae.score_samples(other) - base)
    # sum_c p(x, c) / p(x, c_obs) = 1 / p(c_obs | x) >= 1.
    assert np.all(totals >= 1 - 1e-6)


def test_same_random_state_gives_the_same_table():
    df = _mixed_table(120, seed=1)
    first = VAE(2, random_state=3, **FAST).fit(df)
    second = VAE(2, random_state=3, **FAST).fit(df)
    pd.testing.assert_frame_equal(first.sample(50), second.sample(50))
    assert_array_equal(first.score_samples(df), second.score_samples(df))
    assert not first.sample(50, random_state=1).equals(first.sample(50, random_state=2))


def test_numeric_frame_is_modelled_as_its_array():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=150), "n": rng.poisson(3, 150),
                       "y": rng.exponential(size=150)})
    on_frame = VAE(2, random_state=0, **FAST).fit(df)
    on_array = VAE(2, random_state=0, **FAST).fit(df.to_numpy())
    assert not hasattr(on_frame, "encoder_")
    assert_array_equal(on_frame.sample(40), on_array.sample(40))
    assert_array_equal(on_frame.score_samples(df),
                       on_array.score_samples(df.to_numpy()))
    assert on_frame.support_fraction == "auto"
    assert on_frame.net_.criterion_.support_fraction == 0.9


def test_categorical_features_by_name_makes_integers_categories():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=200),
                       "code": rng.choice([10, 20, 30], size=200)})
    vae = VAE(2, categorical_features=["code"], random_state=0, **FAST).fit(df)
    assert hasattr(vae, "encoder_")
    drawn = vae.sample(200, random_state=0)
    assert set(drawn["code"]) <= {10, 20, 30}
    assert drawn["code"].dtype == df["code"].dtype
    # A level is a category, not a count: 15 was never seen.
    with pytest.raises(ValueError, match="not seen in fit.*'code'"):
        vae.score_samples(df.assign(code=15))


def test_unseen_category_raises():
    vae, df = _fitted()
    bad = df.iloc[:5].astype({"colour": object})
    bad.loc[bad.index[2], "colour"] = "purple"
    with pytest.raises(ValueError, match=r"not seen in fit.*'colour' \('purple'"):
        vae.score_samples(bad)
    with pytest.raises(ValueError, match="not seen in fit.*'colour'"):
        vae.transform(bad)


def test_table_bad_input_raises():
    df = _mixed_table(50)
    dated = df.assign(when=np.arange(len(df)) * (1 + 1j))  # complex: no model
    with pytest.raises(TypeError, match="'when'"):
        VAE(2, **FAST).fit(dated)
    vae, df = _fitted()
    with pytest.raises(ValueError, match="feature names"):
        vae.score_samples(df[["x", "count", "colour", "flag"]])
    with pytest.raises(ValueError, match="missing:\\n- colour"):
        vae.score_samples(df[["x", "count", "flag"]])


def test_rare_category_keeps_its_share():
    # The 3% level must neither vanish (the trimmed loss's failure) nor
    # swell; support_fraction='auto' trains on every row of a table.
    df = _mixed_table(1000, seed=2)
    vae = VAE(2, hidden_layer_sizes=(32, 32), max_epochs=40, early_stopping=False,
              random_state=0).fit(df)
    assert vae.net_.criterion_.support_fraction == 1.0
    drawn = vae.sample(20000, random_state=0)
    real = df["colour"].value_counts(normalize=True)
    fake = drawn["colour"].value_counts(normalize=True)
    ratio = (fake / real)[real.index]
    assert ratio.between(0.8, 1.25).all(), ratio


def test_partial_fit_on_a_table_keeps_its_encoder():
    df = _mixed_table(120)
    vae = VAE(2, hidden_layer_sizes=(16,), max_epochs=3, random_state=0)
    vae.partial_fit(df)
    encoder = vae.encoder_
    vae.partial_fit(df.iloc[:40])
    assert vae.encoder_ is encoder and vae.n_iter_ == 2
    assert dict(vae.sample(5, random_state=0).dtypes) == dict(df.dtypes)
    # A later fit on an array drops the table encoder.
    vae.fit(df[["x"]].to_numpy())
    assert not hasattr(vae, "encoder_")
    assert isinstance(vae.sample(3), np.ndarray)
