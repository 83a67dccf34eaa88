"""The GAN with missing entries: trained on rows with gaps, samples gaps."""

import functools

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_array_equal
from pandas.testing import assert_frame_equal
from sklearn.preprocessing import StandardScaler

from skgen import GAN
from skgen.neural._gan.gaps import _GapLayout
from skgen.neural._gan.networks import _Generator
from skgen.pipeline import make_pipeline

# Small networks and a short budget: the tests check the mechanics.
SMALL = dict(generator_hidden_layer_sizes=(32, 32),
             discriminator_hidden_layer_sizes=(32, 32), batch_size=128,
             max_steps=600, early_stopping=False)


def _table_with_gaps(n=3000, seed=0):
    """y is missing at random given c (5%, 40%, 10% by level); k and d MCAR."""
    rng = np.random.default_rng(seed)
    c = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    x = rng.normal(np.select([c == "a", c == "b"], [0.0, 4.0], 8.0), 1.0)
    y = 2 * x + rng.normal(0, 1, n)
    y[rng.random(n) < np.select([c == "a", c == "b"], [0.05, 0.40], 0.10)] = np.nan
    k = rng.poisson(3 + (c == "b"), n).astype(float)
    k[rng.random(n) < 0.09] = np.nan
    d = rng.choice(["u", "v"], n).astype(object)
    d[rng.random(n) < 0.08] = None
    return pd.DataFrame({"c": pd.Categorical(c), "x": x, "y": y, "k": k, "d": d})


@functools.cache
def _fitted():
    df = _table_with_gaps()
    return GAN(4, random_state=0, **SMALL).fit(df), df


def _share_tolerance(p, n_real, n_synthetic):
    """Four standard errors of the difference of two binomial shares."""
    return 4 * np.sqrt(p * (1 - p) * (1 / n_real + 1 / n_synthetic))


def _y_gap_shares(table):
    return table["y"].isna().groupby(table["c"].astype(str)).mean()


# ------------------------------------------------------------ the layout


def test_layout_round_trip_and_generator_masks_gaps():
    # Two numbers (the second with gaps), a block of 2 with gaps, one without.
    Z = np.array([[0.5, np.nan, 1, 0, 0, 1],
                  [1.5, 2.0, 0, 0, 1, 0],
                  [2.5, 3.0, 0, 1, 1, 0]])
    missing = np.isnan(Z[:, :2])
    missing = np.c_[missing, Z[:, 2:4].sum(1) == 0, Z[:, 4:].sum(1) == 0]
    layout = _GapLayout(2, (2, 2), missing)
    assert layout.block_sizes == (3, 2, 2) and layout.gap_columns == (1,)
    M = layout.model_rows(Z)
    # numbers, block 1 with its missing level, block 2, y's (observed, missing)
    assert_array_equal(M[:, 2:], [[1, 0, 0, 0, 1, 0, 1],
                                  [0, 0, 1, 1, 0, 1, 0],
                                  [0, 1, 0, 1, 0, 1, 0]])
    back, gaps = layout.encoded_rows(np.nan_to_num(M, nan=7.0))
    assert_array_equal(gaps, missing)
    assert_array_equal(back[~np.isnan(Z)], Z[~np.isnan(Z)])

    generator = _Generator(2, (8,), M.shape[1], np.zeros(M.shape[1]),
                           np.ones(M.shape[1]), 0, layout.block_sizes,
                           layout.missing_levels, layout.gap_columns,
                           layout.observed_levels)
    out = torch.randn(4000, M.shape[1], generator=torch.Generator().manual_seed(0))
    out[:, 2:] *= 0.1  # every level has some chance
    draws = torch.Generator().manual_seed(1)
    rows = generator.rows(out, draws)
    gap = rows[:, -1] == 1
    assert 0 < gap.float().mean() < 1
    # y is 0 (the mean, standardised) where its indicator draws a gap
    assert torch.all(rows[gap, 1] == 0)
    assert torch.equal(rows[~gap, 1], out[~gap, 1])
    # the relaxed draws of training mask alike
    relaxed = generator.rows(out, draws, tau=0.2)
    assert torch.all(relaxed[relaxed[:, -1] == 1, 1] == 0)
    complete = generator.rows(out, draws, complete=True)
    assert torch.equal(complete[:, :2], out[:, :2])
    assert not complete[:, [2 + m for m in layout.missing_levels]].any()


# ------------------------------------------------------------ the samples


def test_samples_keep_each_columns_missing_share():
    gan, df = _fitted()
    n = 20000
    s = gan.sample(n, random_state=1)
    assert (s.dtypes == df.dtypes).all()
    assert s["c"].notna().all() and s["x"].notna().all()
    for column in ("k", "d"):
        p = df[column].isna().mean()
        assert abs(s[column].isna().mean() - p) < _share_tolerance(p, len(df), n)
    # y's gaps depend on c: within each level, the level's real share
    real, synthetic = _y_gap_shares(df), _y_gap_shares(s)
    counts = s["c"].astype(str).value_counts()
    for level in real.index:
        tolerance = _share_tolerance(real[level], (df["c"] == level).sum(),
                                     counts[level])
        assert abs(synthetic[level] - real[level]) < tolerance, level
    # and overall the real shares over the sampled levels (the GAN's own
    # share of each level is a matter of its fit, not of its gaps)
    expected = (counts / n * real).sum()
    assert abs(s["y"].isna().mean() - expected) < _share_tolerance(expected, len(df),
                                                                    n)


def test_complete_rows_are_the_same_draws_without_their_gaps():
    gan, df = _fitted()
    with_gaps = gan.sample(2000, random_state=3)
    complete = gan.set_params(sample_gaps=False).sample(2000, random_state=3)
    gan.set_params(sample_gaps=True)
    assert not complete.isna().any().any()
    assert with_gaps.isna().any().any()
    # the gaps are drawn after the rows: the observed entries are the same
    assert_frame_equal(with_gaps[with_gaps.notna()], complete[with_gaps.notna()])
    assert_frame_equal(with_gaps, gan.sample(2000, random_state=3))


def test_scores_take_gaps_in_the_columns_that_had_gaps():
    gan, df = _fitted()
    scores = gan.score_samples(df.iloc[:200])
    assert np.all(np.isfinite(scores)) and np.all(scores <= 0)
    assert np.isfinite(gan.score(df.iloc[:500]))
    assert gan.predict(df.iloc[:5]).shape == (5,)
    new_gap = df.iloc[:3].copy()
    new_gap.loc[new_gap.index[0], "x"] = np.nan
    with pytest.raises(ValueError, match=r"column\(s\) \[1\], which had none in fit"):
        gan.score_samples(new_gap)


def test_numeric_array_with_gaps_and_through_a_pipeline():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 3))
    X[:, 1] += X[:, 0]
    X[::4, 1] = np.nan
    gan = GAN(2, random_state=0, **SMALL).fit(X)
    assert gan.missingness_.columns.tolist() == [1]
    n = 4000
    draws = gan.sample(n, random_state=0)
    assert abs(np.isnan(draws[:, 1]).mean() - 0.25) < _share_tolerance(0.25, 1000, n)
    assert not np.isnan(draws[:, [0, 2]]).any()
    assert_array_equal(draws, gan.sample(n, random_state=0))
    assert not np.isnan(gan.set_params(sample_gaps=False).sample(500)).any()
    assert np.all(np.isfinite(gan.score_samples(X)))
    pipe = make_pipeline(StandardScaler(), GAN(2, random_state=0, **SMALL)).fit(X)
    piped = pipe.sample(n, random_state=0)
    assert abs(np.isnan(piped[:, 1]).mean() - 0.25) < _share_tolerance(0.25, 1000, n)
    assert not np.isnan(piped[:, [0, 2]]).any()


def test_rows_or_columns_with_nothing_observed_raise():
    X = np.random.default_rng(0).normal(size=(100, 3))
    X[::3, 0] = np.nan
    empty_row = X.copy()
    empty_row[4] = np.nan
    with pytest.raises(ValueError, match="no observed entry"):
        GAN(**SMALL).fit(empty_row)
    empty_column = X.copy()
    empty_column[:, 2] = np.nan
    with pytest.raises(ValueError, match=r"Column\(s\) \[2\]"):
        GAN(**SMALL).fit(empty_column)
    df = _table_with_gaps(200)
    df["d"] = None
    with pytest.raises(ValueError, match="'d' has no observed value"):
        GAN(**SMALL).fit(df)
    with_inf = X.copy()
    with_inf[1, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        GAN(**SMALL).fit(with_inf)
