"""The GAN's raking of categories: samples with the data's category shares."""

import functools

import numpy as np
import pandas as pd
import torch
from pandas.testing import assert_frame_equal

from skgen import GAN
from skgen.neural._gan.raking import raking_factors, raking_weights

SMALL = dict(generator_hidden_layer_sizes=(32, 32),
             discriminator_hidden_layer_sizes=(32, 32), batch_size=128,
             max_steps=300, early_stopping=False)


def test_raking_factors_give_the_target_shares():
    rng = np.random.default_rng(0)
    # two dependent columns, drawn far from the targets
    first = rng.choice(3, 5000, p=[0.7, 0.2, 0.1])
    second = np.where(rng.random(5000) < 0.8, first % 2, 1 - first % 2)
    targets = [np.array([0.4, 0.35, 0.25]), np.array([0.5, 0.5])]
    factors = raking_factors([first, second], targets)
    weights = raking_weights([first, second], factors)
    for level, target in zip([first, second], targets, strict=True):
        shares = np.bincount(level, weights=weights) / weights.sum()
        np.testing.assert_allclose(shares, target, atol=1e-6)
    # the weights are a product over the columns (no weight per combination)
    brute = factors[0][first] * factors[1][second]
    np.testing.assert_allclose(weights, brute)


def test_raking_factors_are_bounded():
    level = np.r_[np.zeros(990, int), np.ones(10, int)]
    (factor,) = raking_factors([level], [np.array([0.5, 0.5])])
    assert factor.max() <= 4.0 and factor.min() >= 0.25


def _table(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    c = rng.choice(list("abcde"), n, p=[0.6, 0.2, 0.1, 0.07, 0.03])
    d = rng.choice(["u", "v"], n, p=[0.8, 0.2])
    return pd.DataFrame({"c": pd.Categorical(c), "d": pd.Categorical(d),
                         "x": rng.normal(size=n) + 3 * (c == "e")})


@functools.cache
def _fits():
    df = _table()
    return df, [GAN(4, match_categories=m, random_state=0, **SMALL).fit(df)
                for m in (False, True)]


def test_samples_have_the_training_shares_of_every_category():
    df, (plain, raked) = _fits()
    n = 20000
    off = []
    for gan in (plain, raked):
        s = gan.sample(n, random_state=1)
        for column in ("c", "d"):
            real = df[column].value_counts(normalize=True)
            fake = s[column].value_counts(normalize=True).reindex(real.index)
            # sampling error of the 32 768-row pool of fit and of the sample
            tolerance = 4 * np.sqrt(real * (1 - real) * (1 / 32768 + 1 / n))
            off.append((np.abs(fake - real) > tolerance).any())
    assert any(off[:2])  # the generator alone misses some share
    assert not any(off[2:])
    assert raked.category_factors_[0].shape == (5,)
    assert plain.category_factors_ is None


def test_raked_samples_are_reproducible_and_keep_the_generators_law():
    df, (plain, raked) = _fits()
    assert_frame_equal(raked.sample(500, random_state=2),
                       raked.sample(500, random_state=2))
    # the same training (raking acts after it): within each pair of levels
    # the raked rows keep the generator's law of x
    for a, b in zip(plain.net_.module_.state_dict().values(),
                    raked.net_.module_.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    one, other = plain.sample(20000, random_state=3), raked.sample(20000,
                                                                  random_state=4)
    for (level, value), group in one.groupby(["c", "d"], observed=True)["x"]:
        other_group = other.loc[(other.c == level) & (other.d == value), "x"]
        tolerance = 4 * group.std() * np.sqrt(1 / len(group) + 1 / len(other_group))
        assert abs(group.mean() - other_group.mean()) < tolerance, (level, value)
    numbers = GAN(2, random_state=0, **SMALL).fit(df[["x"]])
    assert numbers.category_factors_ is None


def test_many_raised_columns_still_sample():
    # twelve columns whose rare level a short fit under-draws together: few
    # drawn rows are kept, in as many rounds as sample needs
    rng = np.random.default_rng(1)
    df = pd.DataFrame({f"c{i}": pd.Categorical(rng.choice(["u", "v"], 2000,
                                                           p=[0.85, 0.15]))
                       for i in range(12)})
    df["x"] = rng.normal(size=2000)
    gan = GAN(2, random_state=0, **{**SMALL, "max_steps": 20}).fit(df)
    s = gan.sample(4000, random_state=0)
    real = (df.drop(columns="x") == "v").mean()
    fake = (s.drop(columns="x") == "v").mean()
    plain = (gan.set_params(match_categories=False).fit(df).sample(
        4000, random_state=0).drop(columns="x") == "v").mean()
    # closer to the data's shares than the generator alone
    assert np.abs(fake - real).mean() < np.abs(plain - real).mean()
