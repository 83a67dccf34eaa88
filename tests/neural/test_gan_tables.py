"""Tests of skgen.GAN on mixed-type tables (pandas DataFrames)."""

import functools
import pickle
import random

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_array_equal
from pandas.testing import assert_frame_equal

from skgen import GAN

# Small networks and a short budget: the tests check the mechanics.
SMALL = dict(generator_hidden_layer_sizes=(32, 32),
             discriminator_hidden_layer_sizes=(32, 32), batch_size=128)


def _table(seed, n_rows=600):
    """A float, an int, a bool, a categorical and a string column.

    ``x`` is shifted by 4 in the rows of category ``"b"``, so that a model
    must tie the numeric column to the categorical one.
    """
    rng = np.random.default_rng(seed)
    c = rng.choice(["a", "b", "c"], p=[0.5, 0.3, 0.2], size=n_rows)
    return pd.DataFrame({
        "x": rng.normal(size=n_rows) + 4.0 * (c == "b"),
        "k": rng.integers(3, 9, size=n_rows),
        "flag": rng.random(n_rows) < 0.4,
        "c": pd.Categorical(c, categories=["a", "b", "c", "unused"]),
        "s": rng.choice(["p", "q"], size=n_rows),
    })


@functools.cache
def _fitted():
    df = _table(0)
    return GAN(4, max_steps=1500, early_stopping=False, random_state=0,
               **SMALL).fit(df), df


def test_samples_are_a_table_like_the_training_one():
    gan, df = _fitted()
    samples = gan.sample(500, random_state=0)
    assert isinstance(samples, pd.DataFrame)
    assert list(samples.columns) == list(df.columns)
    assert_array_equal(samples.dtypes, df.dtypes)  # category sets included
    assert not samples.isna().any().any()
    assert samples["k"].between(3, 8).all()
    assert set(samples["s"]) == {"p", "q"}
    assert set(samples["flag"]) == {False, True}
    # Every level seen in fit is drawn; the unused level of the dtype is not.
    assert set(samples["c"]) == {"a", "b", "c"}
    assert list(samples["c"].cat.categories) == ["a", "b", "c", "unused"]
    assert gan.n_features_in_ == 5
    assert_array_equal(gan.feature_names_in_, df.columns)


def test_samples_tie_the_numeric_column_to_the_category():
    gan, df = _fitted()
    samples = gan.sample(2000, random_state=1)
    means = samples.groupby("c", observed=True)["x"].mean()
    # 4 apart in the data; independent columns would put them together.
    assert means["b"] - means["a"] > 2.5
    assert means["b"] - means["c"] > 2.5
    shares = samples["c"].value_counts(normalize=True)
    assert shares["a"] > shares["b"] > shares["c"] > 0.05


def test_same_random_state_gives_the_same_model_and_samples():
    df = _table(1, 200)
    first = GAN(2, max_steps=40, random_state=0, **SMALL).fit(df)
    second = GAN(2, max_steps=40, random_state=0, **SMALL).fit(df)
    assert_frame_equal(first.sample(50, random_state=3),
                       second.sample(50, random_state=3))
    assert_array_equal(first.score_samples(df), second.score_samples(df))
    assert not first.sample(50, random_state=3).equals(
        first.sample(50, random_state=4))


def test_a_numeric_frame_takes_the_numeric_path():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": rng.normal(size=150), "k": rng.integers(0, 5, 150)})
    from_frame = GAN(2, max_steps=30, random_state=0, **SMALL).fit(df)
    from_array = GAN(2, max_steps=30, random_state=0, **SMALL).fit(df.to_numpy())
    assert not hasattr(from_frame, "encoder_")
    samples = from_frame.sample(20, random_state=0)
    assert isinstance(samples, np.ndarray)
    assert_array_equal(samples, from_array.sample(20, random_state=0))
    assert_array_equal(from_frame.score_samples(df),
                       from_array.score_samples(df.to_numpy()))


def test_categorical_features_by_name_and_on_arrays():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"x": rng.normal(size=200),
                       "code": rng.choice([10, 20, 30], size=200)})
    gan = GAN(2, categorical_features=["code"], max_steps=30, random_state=0,
              **SMALL).fit(df)
    samples = gan.sample(300, random_state=0)
    assert samples["code"].dtype == df["code"].dtype
    assert set(samples["code"]) == {10, 20, 30}
    # On an array the table comes back as an object array.
    gan = GAN(2, categorical_features=[1], max_steps=30, random_state=0,
              **SMALL).fit(df.to_numpy())
    samples = gan.sample(300, random_state=0)
    assert samples.shape == (300, 2) and samples.dtype == object
    assert set(samples[:, 1]) == {10, 20, 30}


def test_auto_truncation_takes_none_on_a_table_and_a_share_on_numbers():
    gan, df = _fitted()
    assert gan.jacobian_truncation_ == 0.0 and gan.jacobian_threshold_ == np.inf
    numbers = GAN(2, max_steps=30, random_state=0, **SMALL).fit(df[["x"]])
    assert numbers.jacobian_truncation_ == 0.15
    assert np.isfinite(numbers.jacobian_threshold_)
    chosen = GAN(2, max_steps=30, jacobian_truncation=0.3, random_state=0,
                 **SMALL).fit(df)
    assert chosen.jacobian_truncation_ == 0.3


def test_only_categorical_columns_sample_without_truncation():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"c": pd.Categorical(rng.choice(["u", "v"], size=100)),
                       "flag": rng.random(100) < 0.5})
    gan = GAN(2, max_steps=30, random_state=0, **{**SMALL, "batch_size": 64}).fit(df)
    assert gan.jacobian_truncation_ == 0.0
    samples = gan.sample(200, random_state=0)
    assert_array_equal(samples.dtypes, df.dtypes)
    assert set(samples["c"]) == {"u", "v"}


def test_scores_of_a_table_rank_an_odd_row_below_the_usual_ones():
    gan, df = _fitted()
    odd = df.iloc[:1].copy()
    odd["x"] = 40.0
    scores = gan.score_samples(pd.concat([df.iloc[:50], odd]))
    assert scores[-1] < scores[:-1].min()
    assert gan.predict(odd)[0] == -1
    assert np.mean(gan.predict(df) == -1) == pytest.approx(0.1, abs=0.01)
    # A row's score depends on nothing but the row.
    rows = [5, 1, 40]
    assert_array_equal(gan.score_samples(df.iloc[rows]),
                       gan.score_samples(df)[rows])
    assert np.isfinite(gan.score(df))


def test_unseen_category_raises_naming_the_column():
    gan, df = _fitted()
    bad = df.iloc[:3].copy()
    bad["s"] = ["p", "zzz", "q"]
    for method in (gan.score_samples, gan.predict, gan.decision_function, gan.score):
        with pytest.raises(ValueError, match="not seen in fit.*'s'"):
            method(bad)


def test_bad_tables_raise_clear_errors():
    df = _table(5, 60)
    df["when"] = np.arange(len(df)) * (1 + 1j)  # complex: no model takes it
    with pytest.raises(TypeError, match="'when'"):
        GAN(**SMALL).fit(df)
    gan, df = _fitted()
    with pytest.raises(ValueError, match="feature names"):
        gan.score_samples(df[list(df.columns[::-1])])
    gaps = df.iloc[:4].copy()
    gaps.loc[gaps.index[0], "x"] = np.nan
    with pytest.raises(ValueError, match="missing"):
        gan.score_samples(gaps)


def test_pickle_and_global_random_states_on_a_table():
    df = _table(6, 200)
    states = torch.get_rng_state(), np.random.get_state(), random.getstate()
    gan = GAN(2, max_steps=30, random_state=0, **SMALL).fit(df)
    samples = gan.sample(20, random_state=0)
    restored = pickle.loads(pickle.dumps(gan))
    assert_frame_equal(restored.sample(20, random_state=0), samples)
    assert_array_equal(restored.score_samples(df), gan.score_samples(df))
    assert torch.equal(states[0], torch.get_rng_state())
    assert random.getstate() == states[2]
    after = np.random.get_state()
    assert np.array_equal(states[1][1], after[1]) and states[1][2:] == after[2:]


def test_critic_sees_one_hot_draws_with_gradients_to_the_logits():
    gan, df = _fitted()
    net, module = gan.net_, gan.net_.module_
    n_numeric = gan.encoder_.n_numeric_
    net.generator = torch.Generator().manual_seed(0)
    try:
        fake = net._fake(4000)
    finally:
        net.generator = None
    blocks = fake[:, n_numeric:].split(module.block_sizes, dim=1)
    for block in blocks:
        # Exact one-hot rows, as the data's: no softness to tell them apart.
        assert set(block.detach().unique().tolist()) <= {0.0, 1.0}
        assert torch.equal(block.detach().sum(1), torch.ones(len(block)))
    # Drawn from the generator's category probabilities.
    with torch.no_grad():
        z = torch.randn(4000, module.latent_dim, generator=torch.Generator())
        logits = module(z)[:, n_numeric:].split(module.block_sizes, dim=1)
    levels = list(gan.encoder_.categories_[1])  # the column "c"
    expected = torch.softmax(logits[1], 1).mean(0)
    assert torch.allclose(blocks[1].detach().mean(0), expected, atol=0.03)
    assert levels == ["a", "b", "c"]
    # The generator's categorical logits get a gradient through the draws.
    module.zero_grad()
    (fake[:, n_numeric:] * torch.arange(fake.shape[1] - n_numeric)).sum().backward()
    last = module.net[-1]
    assert last.weight.grad[n_numeric:].abs().sum() > 0
    module.zero_grad()
