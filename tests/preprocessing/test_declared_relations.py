"""Relations the user declares: checked in fit, kept in every synthetic row."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skgen import TabularMixture
from skgen.preprocessing import TableEncoder

PRICE = {("Oslo", "S"): 10.0, ("Oslo", "M"): 15.0, ("Oslo", "L"): 20.0,
         ("Rome", "S"): 8.0, ("Rome", "M"): 12.0,
         ("Lima", "M"): 6.0, ("Lima", "L"): 9.0}
COUNTRY = {"Oslo": "NO", "Rome": "IT", "Lima": "PE"}

DECLARED = [
    ("total", "sum", ["net", "tax", "fee"]),
    ("net_after", "difference", ["net", "tax"]),
    ("cents", "affine", "net"),
    ("price", "determined_by", ["city", "size"]),
    ("land", "equal", "country"),
    ("order", "identifier"),
]


def _table(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    pairs = list(PRICE)
    city, size = zip(*(pairs[i] for i in rng.integers(len(pairs), size=n)),
                     strict=True)
    net, tax, fee = rng.gamma(3, 10, n), rng.gamma(2, 2, n), rng.uniform(0, 5, n)
    country = pd.Series(city).map(COUNTRY).to_numpy()
    return pd.DataFrame({
        "city": city, "size": size, "net": net, "tax": tax, "fee": fee,
        "total": net + tax + fee, "net_after": net - tax, "cents": 100 * net + 5,
        "price": [PRICE[p] for p in zip(city, size, strict=True)],
        "country": country, "land": country.copy(),
        "order": [f"A{i:06d}" for i in rng.permutation(n)],
    })


FREE = ["city", "size", "net", "tax", "fee", "country"]


@pytest.fixture(scope="module")
def fitted():
    df = _table()
    return df, TabularMixture(random_state=0, relations=DECLARED).fit(df)


def test_the_declared_relations_are_kept_in_every_synthetic_row(fitted):
    df, model = fitted
    assert model.relations_ == [
        "'total' = 'net' + 'tax' + 'fee'", "'net_after' = 'net' - 'tax'",
        "'cents' = 100 * 'net' + 5", "'price' is determined by ('city', 'size')",
        "'land' is determined by 'country'", "'order' identifies the rows",
    ]
    s = model.sample(10000, random_state=0)
    assert list(s.columns) == list(df.columns)
    np.testing.assert_allclose(s["total"], s["net"] + s["tax"] + s["fee"], rtol=1e-12)
    np.testing.assert_allclose(s["net_after"], s["net"] - s["tax"],
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s["cents"], 100 * s["net"] + 5, rtol=1e-12)
    assert (s["land"] == s["country"]).all()
    assert s["order"].is_unique and not set(s["order"]) & set(df["order"])
    # only the combinations of city and size the table holds, each its price
    combos = list(zip(s["city"], s["size"], strict=True))
    assert set(combos) <= set(PRICE)
    assert (s["price"].to_numpy() == [PRICE[c] for c in combos]).all()


def test_the_model_of_declared_relations_is_that_of_the_free_columns(fitted):
    df, model = fitted
    # declared only: 'country' (determined by 'city') stays a modelled column
    free = TabularMixture(random_state=0, relations=None).fit(df[FREE])
    np.testing.assert_allclose(model.score_samples(df.iloc[:200]),
                               free.score_samples(df[FREE].iloc[:200]), rtol=1e-12)


def test_declared_and_found_relations_together():
    df = _table(800)[["net", "tax", "total", "cents", "city", "country"]]
    found = TableEncoder(relations="auto").fit(df).relations_
    assert "'country' is determined by 'city'" in found
    both = TableEncoder(relations=["auto", ("net", "affine", "cents")]).fit(df)
    # the declared one first; 'cents' is its source, so no relation computes it
    assert both.relations_[0] == "'net' = 0.01 * 'cents' - 0.05"
    assert not any(r.startswith("'cents'") for r in both.relations_)
    assert "'country' is determined by 'city'" in both.relations_
    assert "'total' = 'tax' + 'net'" not in both.relations_  # 'net' is computed
    declared_only = TableEncoder(relations=[("net", "affine", "cents")]).fit(df)
    assert declared_only.relations_ == ["'net' = 0.01 * 'cents' - 0.05"]


def test_a_declared_relation_the_training_rows_break_is_an_error():
    df = _table(300)
    broken = [7, 120, 121]
    df.loc[broken, "total"] += 0.5
    with pytest.raises(ValueError, match=(
            r"declared relation 'total' = 'net' \+ 'tax' \+ 'fee' does not hold on "
            r"3 training row\(s\), at positions \[7, 120, 121\]")):
        TabularMixture(relations=[DECLARED[0]]).fit(df)
    df.loc[[4, 9], "price"] = 99.0
    first = df["price"].iloc[4]
    with pytest.raises(ValueError, match=r"positions \[4, 9\]: at position 4, "
                       rf"'price' is {first}"):
        TableEncoder(relations=[DECLARED[3]]).fit(df)
    # a few broken rows of an affine map are the ones named, wherever they are
    df.loc[[df["net"].idxmax()], "cents"] = 0.0
    with pytest.raises(ValueError, match=rf"1 training row\(s\), at positions "
                       rf"\[{df['net'].argmax()}\]"):
        TableEncoder(relations=[DECLARED[2]]).fit(df)
    df.loc[3, "order"] = df.loc[0, "order"]
    with pytest.raises(ValueError, match=r"repeats values in 1 rows, at positions "
                       r"\[3\] \(row 3 repeats row 0"):
        TableEncoder(relations=[DECLARED[5]]).fit(df)


@pytest.mark.parametrize("relations, message", [
    ([("totl", "sum", ["net", "tax"])], "names the column 'totl', which is not in"),
    ([("total", "sums", ["net", "tax"])], "write one of 'equal', 'affine'"),
    ([("total", "sum", "net")], "'sum' takes at least two source columns"),
    ([("cents", "affine", ["net", "tax"])], "'affine' takes one source column"),
    ([("total", "sum", ["net", "total"])], "names a column twice"),
    ([("total", "sum", ["net", "tax"]), ("total", "equal", "net")],
     "dependent column of two declared relations"),
    ([("total", "sum", ["net", "tax"]), ("net", "difference", ["total", "tax"])],
     "form a cycle through"),
    ([("total", "sum", ["net", "tax"]), ("cents", "affine", "total")],
     r"declare 'cents' from the columns 'total' follows from \('net', 'tax'\)"),
    ([("city", "affine", "net")], "Use 'determined_by' for categories"),
    ([("country", "equal", "net")], "makes a number equal to a category"),
    ([("net", "identifier")], "an identifier is a text column"),
    ([("order", "identifier", "city")], "an identifier is written"),
    ([("order",)], "Write a declared relation as a tuple"),
    (["auto", "all"], "the only string it takes is 'auto'"),
])
def test_a_malformed_declaration_says_what_to_write(relations, message):
    with pytest.raises(ValueError, match=message):
        TableEncoder(relations=relations).fit(_table(60))


def test_an_unseen_combination_gets_the_fallback_never_a_gap(fitted):
    df, model = fitted
    rows = df.iloc[:3].copy()
    rows["city"], rows["size"] = "Rome", "L"  # never seen together
    rows["price"] = np.nan
    filled = model.impute(rows)
    # Rome's most frequent price in the training rows, counted here
    rome = df.loc[df["city"] == "Rome", "price"].value_counts()
    assert (filled["price"] == rome.index[0]).all()


def test_declared_relations_on_an_array_by_index():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(600, 2))
    X = np.column_stack([x, x[:, 0] - x[:, 1]])
    model = TabularMixture(2, random_state=0, relations=[(2, "difference", [0, 1])])
    s = model.fit(X).sample(2000, random_state=0)
    assert model.relations_ == ["at index 2 = at index 0 - at index 1"]
    np.testing.assert_allclose(s[:, 2], s[:, 0] - s[:, 1], rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="named by their index, from 0 to 2"):
        TableEncoder(relations=[("c", "sum", [0, 1])]).fit(X)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.integers(2, 4), st.booleans())
def test_any_declared_sum_or_difference_survives_decoding(seed, n_sources, minus):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(50, n_sources)) * rng.uniform(0.1, 100, n_sources)
    signs = np.r_[1.0, -np.ones(n_sources - 1)] if minus else np.ones(n_sources)
    X = np.column_stack([X, X @ signs])
    kind = "difference" if minus else "sum"
    encoder = TableEncoder(relations=[(n_sources, kind, list(range(n_sources)))])
    Z = encoder.fit(X).transform(X)
    assert Z.shape[1] == n_sources
    noise = rng.normal(size=Z.shape)
    back = encoder.inverse_transform(noise)
    np.testing.assert_allclose(back[:, -1], back[:, :-1] @ signs, rtol=1e-12,
                               atol=1e-9 * np.abs(back).max())
