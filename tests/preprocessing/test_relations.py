"""Exact relations between columns: found in fit, kept in every synthetic row."""

import numpy as np
import pandas as pd
import pytest

from skgen import TabularMixture
from skgen.preprocessing import TableEncoder

CITIES = {"Oslo": "NO", "Bergen": "NO", "Rome": "IT", "Milan": "IT", "Lima": "PE"}


def _table(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    city = rng.choice(list(CITIES), n)
    a = rng.normal(10, 3, n)
    b = rng.gamma(2, 2, n)
    k = rng.integers(0, 9, n)
    return pd.DataFrame({
        "city": city, "a": a, "b": b, "k": k,
        "total": a + b, "a_copy": a.copy(), "a_cents": 100 * a + 5,
        "country": pd.Series(city).map(CITIES).to_numpy(), "k2": 2 * k,
        "margin": b - a,
    })


FREE = ["city", "a", "b", "k"]


@pytest.fixture(scope="module")
def fitted():
    df = _table()
    return df, TabularMixture(random_state=0).fit(df)


def test_the_relations_of_the_table_are_found(fitted):
    _, model = fitted
    assert sorted(model.relations_) == sorted([
        "'a_copy' = 'a'", "'a_cents' = 100 * 'a' + 5",
        "'country' is determined by 'city'", "'k2' = 2 * 'k'",
        "'total' = 'a' + 'b'", "'margin' = - 'a' + 'b'",
    ])


def test_independent_columns_have_no_relation():
    rng = np.random.default_rng(1)
    n = 500
    df = pd.DataFrame({
        "x": rng.normal(size=n), "y": rng.normal(size=n),
        "small": rng.integers(0, 3, n), "other": rng.integers(0, 3, n),
        "id": [f"row{i}" for i in range(n)],  # determines everything: not a map
        "c": rng.choice(["u", "v"], n),
    })
    assert TableEncoder(relations="auto").fit(df).relations_ == [
        "'id' identifies the rows"
    ]


def test_every_synthetic_row_holds_every_relation(fitted):
    _, model = fitted
    s = model.sample(10000, random_state=0)
    assert (s["a_copy"] == s["a"]).all()
    assert (s["a_cents"] == 100 * s["a"] + 5).all()
    assert (s["k2"] == 2 * s["k"]).all() and s["k2"].dtype == np.int64
    assert (s["country"] == s["city"].map(CITIES)).all()
    np.testing.assert_allclose(s["total"], s["a"] + s["b"], rtol=1e-12)
    np.testing.assert_allclose(s["margin"], s["b"] - s["a"], rtol=1e-12, atol=1e-12)
    assert list(s.columns) == list(_table(5).columns)


def test_the_model_is_that_of_the_free_columns(fitted):
    df, model = fitted
    free = TabularMixture(random_state=0).fit(df[FREE])
    np.testing.assert_allclose(model.score_samples(df.iloc[:200]),
                               free.score_samples(df[FREE].iloc[:200]), rtol=1e-12)
    pd.testing.assert_frame_equal(model.sample(300, random_state=1)[FREE],
                                  free.sample(300, random_state=1))


def test_a_row_that_breaks_a_relation_is_refused_or_scored_on_its_free_columns(fitted):
    df, model = fitted
    rows = df.iloc[:5].copy()
    wrong = "PE" if rows["country"].iloc[3] != "PE" else "NO"
    rows.loc[rows.index[3], "country"] = wrong
    with pytest.raises(ValueError, match=r"row 3 breaks 'country' is determined by"):
        model.score_samples(rows)
    ignoring = TabularMixture(random_state=0, broken_relations="ignore").fit(df)
    np.testing.assert_allclose(ignoring.score_samples(rows),
                               model.score_samples(df.iloc[:5]), rtol=1e-12)


def test_imputation_follows_the_relations_both_ways(fitted):
    df, model = fitted
    rows = df.iloc[:4].copy()
    rows.loc[rows.index[0], "a"] = np.nan           # known from a_copy
    rows.loc[rows.index[1], "total"] = np.nan       # computed from a + b
    rows.loc[rows.index[2], "country"] = None       # from the city
    rows.loc[rows.index[3], ["a", "a_copy", "a_cents"]] = np.nan  # total - b
    filled = model.impute(rows)
    pd.testing.assert_frame_equal(filled[["a", "total", "a_copy"]],
                                  df.iloc[:4][["a", "total", "a_copy"]], rtol=1e-12)
    assert (filled["country"] == df["country"].iloc[:4]).all()
    draws = model.sample_conditional(rows, 3, random_state=0)
    np.testing.assert_allclose(draws["total"], draws["a"] + draws["b"], rtol=1e-12)
    assert (draws["a"] == draws["a_copy"]).all()


def test_gaps_shared_by_a_source_and_its_copy_are_kept_together():
    df = _table(1500, seed=2)[["a", "a_copy", "b", "city"]]
    gaps = np.random.default_rng(3).random(len(df)) < 0.2
    df.loc[gaps, ["a", "a_copy"]] = np.nan
    model = TabularMixture(random_state=0).fit(df)
    assert model.relations_ == ["'a_copy' = 'a'"]
    s = model.sample(4000, random_state=0)
    assert abs(s["a"].isna().mean() - 0.2) < 0.03
    assert (s["a"].isna() == s["a_copy"].isna()).all()
    assert (s["a"].dropna() == s["a_copy"].dropna()).all()
    # a copy with gaps of its own is another column, not a relation
    df.loc[df.index[:50], "a_copy"] = np.nan
    df.loc[df.index[:50], "a"] = 1.0
    assert TabularMixture(random_state=0).fit(df).relations_ == []


def test_relations_off_models_every_column_and_arrays_work():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(800, 2))
    X = np.column_stack([x, x[:, 0] * 3 - 1])
    assert TabularMixture(2, random_state=0, relations=None).fit(X).relations_ == []
    model = TabularMixture(2, random_state=0).fit(X)
    assert model.relations_ == ["at index 2 = 3 * at index 0 - 1"]
    s = model.sample(1000, random_state=0)
    np.testing.assert_allclose(s[:, 2], 3 * s[:, 0] - 1, rtol=1e-12)
    assert model.encoder_.get_feature_names_out().tolist() == ["x0", "x1"]


def test_an_identifier_comes_back_unique_new_and_of_the_same_form():
    rng = np.random.default_rng(5)
    n = 800
    df = pd.DataFrame({
        "id": [f"CUST-{i:05d}-{'ab'[i % 2]}" for i in rng.permutation(n)],
        "x": rng.normal(size=n), "c": rng.choice(["u", "v"], n),
    })
    model = TabularMixture(random_state=0).fit(df)
    assert model.relations_ == ["'id' identifies the rows"]
    s = model.sample(500, random_state=0)
    assert s["id"].is_unique and not set(s["id"]) & set(df["id"])
    assert s["id"].str.fullmatch(r"CUST-00\d{3}-[ab]").all()
    pd.testing.assert_frame_equal(s, model.sample(500, random_state=0))
    # the identifier is not modelled: the scores are those of the rest
    rest = TabularMixture(random_state=0).fit(df[["x", "c"]])
    np.testing.assert_allclose(model.score_samples(df.iloc[:50]),
                               rest.score_samples(df[["x", "c"]].iloc[:50]),
                               rtol=1e-12)
    # a repeated text value is a category, not an identifier
    df.loc[1, "id"] = df.loc[0, "id"]
    assert TabularMixture(random_state=0).fit(df).relations_ == []


def test_a_category_determined_by_a_later_column_is_found():
    df = _table(800)[["country", "a", "city"]]
    assert TableEncoder(relations="auto").fit(df).relations_ == [
        "'country' is determined by 'city'"]
    # one to one: the later column follows the earlier, as before
    df["code"] = df["city"].str[:3].str.upper()
    found = TableEncoder(relations="auto").fit(df[["code", "city"]]).relations_
    assert found == ["'city' is determined by 'code'"]


# neither the state nor the city alone gives the county, nor the county them
COUNTIES = {("CA", "Springfield"): "Greene", ("CA", "LA"): "Union",
            ("NY", "Springfield"): "Union", ("NY", "Albany"): "Albany",
            ("TX", "Springfield"): "Greene", ("TX", "Austin"): "Travis",
            ("TX", "LA"): "Travis"}


def _pairs_table(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    keys = list(COUNTIES)
    state, city = zip(*(keys[i] for i in rng.integers(len(keys), size=n)),
                      strict=True)
    size = rng.choice(["S", "M", "L"], n)
    crust = rng.choice(["thin", "deep"], n)
    price = [{"S": 10.0, "M": 12.5, "L": 15.0}[s] + (2.0 if c == "deep" else 0.0)
             for s, c in zip(size, crust, strict=True)]
    return pd.DataFrame({
        "state": state, "city": city, "x": rng.normal(size=n), "size": size,
        "crust": crust, "price": price,
        "county": [COUNTIES[k] for k in zip(state, city, strict=True)],
    })


def test_a_column_determined_by_a_pair_of_categories_is_found_and_kept():
    df = _pairs_table()
    model = TabularMixture(random_state=0).fit(df)
    assert model.relations_ == ["'county' is determined by ('state', 'city')",
                                "'price' is determined by ('size', 'crust')"]
    s = model.sample(10000, random_state=0)
    pairs = list(zip(s["state"], s["city"], strict=True))
    assert set(pairs) <= set(COUNTIES)  # no combination the table lacks
    assert (s["county"].to_numpy() == [COUNTIES[p] for p in pairs]).all()
    expected = np.where(s["crust"] == "deep", 2.0, 0.0) + s["size"].map(
        {"S": 10.0, "M": 12.5, "L": 15.0})
    assert (s["price"] == expected).all() and s["price"].dtype == np.float64
    # the model is that of the free columns
    free = ["state", "city", "x", "size", "crust"]
    alone = TabularMixture(random_state=0, relations=None).fit(df[free])
    np.testing.assert_allclose(model.score_samples(df.iloc[:100]),
                               alone.score_samples(df[free].iloc[:100]), rtol=1e-12)


def test_no_pair_map_among_independent_categories():
    rng = np.random.default_rng(7)
    df = pd.DataFrame({c: rng.choice(list("abcdefgh"), 400) for c in "pqrst"})
    assert TableEncoder(relations="auto").fit(df).relations_ == []
    # a column one source determines is that source's map, not a pair's
    df["p_upper"] = df["p"].str.upper()
    assert TableEncoder(relations="auto").fit(df).relations_ == [
        "'p_upper' is determined by 'p'"]


def test_identifiers_of_a_used_up_form_are_still_new_and_unique():
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"id": [f"R0{i:02d}" for i in rng.permutation(100)],
                       "x": rng.normal(size=100)})  # every string of the form
    model = TabularMixture(2, random_state=0).fit(df)
    s = model.sample(300, random_state=0)
    assert s["id"].is_unique and not set(s["id"]) & set(df["id"])
    # a form with room left draws inside it only
    half = df.iloc[::2]
    s = TabularMixture(2, random_state=0).fit(half).sample(50, random_state=0)
    assert s["id"].str.fullmatch(r"R0\d\d").all()
    assert s["id"].is_unique and not set(s["id"]) & set(half["id"])
