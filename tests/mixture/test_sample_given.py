"""TabularMixture.sample(given=...): rows drawn under conditions, exactly."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from skgen import TabularMixture


def _penguins(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    island = rng.choice(["Biscoe", "Dream", "Torgersen"], n)
    species = np.where(
        island == "Torgersen", "Adelie",
        np.where(island == "Biscoe", rng.choice(["Adelie", "Gentoo"], n),
                 rng.choice(["Adelie", "Chinstrap"], n)))
    centre = np.select([species == "Gentoo", species == "Adelie"], [5000, 3700], 3750)
    return pd.DataFrame({
        "species": pd.Categorical(species), "island": pd.Categorical(island),
        "mass": rng.normal(centre, 300), "year": rng.integers(2007, 2010, n),
    })


@pytest.fixture(scope="module")
def fitted():
    df = _penguins()
    model = TabularMixture(random_state=0).fit(df)
    # the model's own law, drawn freely: conditions checked by rejection
    return df, model, model.sample(300_000, random_state=1)


def test_an_equality_draws_the_models_conditional_law(fitted):
    _, model, free = fitted
    given = model.sample(20000, random_state=2, given={"species": "Gentoo"})
    assert (given["species"] == "Gentoo").all()
    kept = free[free["species"] == "Gentoo"]
    np.testing.assert_allclose(
        given["island"].value_counts(normalize=True).sort_index(),
        kept["island"].value_counts(normalize=True).sort_index(), atol=0.02)
    assert ks_2samp(given["mass"], kept["mass"]).pvalue > 1e-3


def test_a_range_draws_within_it_and_as_rejection_would(fitted):
    _, model, free = fitted
    given = model.sample(20000, random_state=3,
                         given={"mass": (4800.0, 5200.0), "year": (2008, 2009)})
    assert given["mass"].between(4800, 5200).all()
    assert set(given["year"]) == {2008, 2009}
    kept = free[free["mass"].between(4800, 5200) & free["year"].between(2008, 2009)]
    np.testing.assert_allclose(
        given["species"].value_counts(normalize=True).sort_index(),
        kept["species"].value_counts(normalize=True).sort_index(), atol=0.02)
    assert ks_2samp(given["mass"], kept["mass"]).pvalue > 1e-3
    assert abs((given["year"] == 2008).mean() - (kept["year"] == 2008).mean()) < 0.03


def test_rows_come_back_in_the_training_dtypes(fitted):
    df, model, _ = fitted
    given = model.sample(50, random_state=0, given={"species": "Adelie", "year": 2008})
    assert (given.dtypes == df.dtypes).all()
    assert (given["year"] == 2008).all()


def test_impossible_and_unlikely_conditions(fitted):
    _, model, _ = fitted
    with pytest.raises(ValueError, match="'Emperor'.*not seen in fit"):
        model.sample(5, given={"species": "Emperor"})
    with pytest.raises(ValueError, match="not fitted on"):
        model.sample(5, given={"beak": 3.0})
    with pytest.raises(ValueError, match="range"):
        model.sample(5, given={"species": ("Adelie", "Gentoo")})
    with pytest.warns(UserWarning, match="training rows in expectation"):
        model.sample(5, given={"species": "Gentoo", "island": "Torgersen"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.sample(5, given={"species": "Gentoo", "island": "Biscoe"})


def test_conditions_on_arrays_and_on_dependent_columns():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1500, 2))
    X = np.column_stack([x, 2 * x[:, 0] + 1])
    model = TabularMixture(3, random_state=0).fit(X)
    rows = model.sample(200, random_state=0, given={2: 3.0})
    np.testing.assert_allclose(rows[:, 0], 1.0)
    np.testing.assert_allclose(rows[:, 2], 3.0)
    rows = model.sample(200, random_state=0, given={1: (0.0, 0.5)})
    assert ((rows[:, 1] >= 0.0) & (rows[:, 1] <= 0.5)).all()
    table = pd.DataFrame({"city": rng.choice(["Oslo", "Rome", "Bergen"], 600)})
    table["country"] = table["city"].map({"Oslo": "NO", "Bergen": "NO", "Rome": "IT"})
    table["x"] = rng.normal(size=600)
    model = TabularMixture(2, random_state=0).fit(table)
    with pytest.raises(ValueError, match="follows from others"):
        model.sample(5, given={"country": "NO"})
