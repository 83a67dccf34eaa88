"""Categories with many levels: rare levels pooled, shares and densities kept."""

import pickle

import numpy as np
import pandas as pd
import pytest

from skgen import TabularMixture
from skgen.preprocessing import TableEncoder
from skgen.preprocessing._table import POOLED


def _codes(n=20000, n_levels=5000, seed=0):
    rng = np.random.default_rng(seed)
    levels = np.array([f"Z{i:05d}" for i in range(n_levels)])
    p = 1.0 / np.arange(1, n_levels + 1) ** 1.1
    code = rng.choice(levels, n, p=p / p.sum())
    return pd.DataFrame({"code": pd.Categorical(code, categories=levels),
                         "x": rng.normal(size=n) + (code < "Z00005") * 3.0})


def test_the_encoder_keeps_the_frequent_levels_and_pools_the_rest():
    df = pd.DataFrame({"c": list("aaaaabbbbccdefgh")})
    encoder = TableEncoder(max_levels=3).fit(df)
    (levels,) = encoder.categories_
    assert list(levels[:2]) == ["a", "b"] and levels[2] is POOLED
    Z = encoder.transform(df)
    assert Z.shape == (16, 3)
    np.testing.assert_array_equal(Z[:, 2], [0] * 9 + [1] * 7)
    # a pooled level decodes to one of the pool by its share (c: 2 of 7)
    decoded = encoder.inverse_transform(np.tile([0.0, 0.0, 1.0], (7000, 1)))
    shares = decoded["c"].value_counts(normalize=True)
    assert set(shares.index) == set("cdefgh")
    assert shares["c"] == pytest.approx(2 / 7, abs=0.02)
    # the log-share is the log-Jacobian of the pooled levels
    np.testing.assert_allclose(encoder.log_jacobian(df)[9:],
                               np.log([2 / 7, 2 / 7] + [1 / 7] * 5))
    assert pickle.loads(pickle.dumps(encoder)).categories_[0][2] is POOLED


def test_the_probabilities_of_every_level_sum_to_one():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"c": rng.choice([f"l{i}" for i in range(30)], 900,
                                       p=np.r_[np.full(5, 0.15), np.full(25, 0.01)])})
    model = TabularMixture(2, random_state=0, max_levels=6).fit(df)
    every = pd.DataFrame({"c": sorted(set(df["c"]))})
    assert np.exp(model.score_samples(every)).sum() == pytest.approx(1.0, rel=1e-9)


def test_a_five_thousand_level_category_keeps_its_shares():
    df = _codes()
    model = TabularMixture(random_state=0).fit(df)
    assert sum(levels.size for levels in model.encoder_.categories_) == 100
    synthetic = model.sample(len(df), random_state=0)
    real = df["code"].value_counts(normalize=True)
    frequent = real[real >= 0.01]
    shares = synthetic["code"].value_counts(normalize=True)
    ratio = shares.reindex(frequent.index) / frequent
    assert ratio.between(0.8, 1.25).all()
    assert synthetic["code"].dtype == df["code"].dtype
    rare = real[real > 0].index[-1]  # seen once or twice: pooled
    rows = model.sample(20, random_state=0, given={"code": rare})
    assert (rows["code"] == rare).all()
    with pytest.raises(ValueError, match="not seen in fit"):
        model.sample(5, given={"code": "nowhere"})
