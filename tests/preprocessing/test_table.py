"""TableEncoder: kinds, invertibility, Jacobians and errors."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import norm

from skgen.preprocessing import TableEncoder


def _table(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "x": rng.lognormal(size=n),
        "count": rng.poisson(3, n).astype(np.int32),
        "city": pd.Categorical(
            rng.choice(["Oslo", "Rome", "Lima"], n),
            categories=["Lima", "Oslo", "Rome", "Quito"],  # Quito is never seen
        ),
        "member": rng.random(n) < 0.3,
        "tag": rng.choice(["a", "b"], n).astype(object),
    })


def test_round_trip_keeps_values_columns_and_dtypes():
    df = _table()
    enc = TableEncoder().fit(df)
    assert list(enc.kinds_) == [
        "continuous", "integer", "categorical", "categorical", "categorical"
    ]
    back = enc.inverse_transform(enc.transform(df))
    assert list(back.columns) == list(df.columns)
    assert (back.dtypes == df.dtypes).all()
    # The category set is the training frame's, unseen levels included.
    assert list(back["city"].cat.categories) == ["Lima", "Oslo", "Rome", "Quito"]
    np.testing.assert_allclose(back["x"], df["x"], rtol=1e-10)
    for name in ["count", "city", "member", "tag"]:
        assert (back[name] == df[name]).all()


def test_one_hot_blocks_cover_only_seen_levels():
    df = _table()
    enc = TableEncoder().fit(df)
    Z = enc.transform(df)
    assert enc.n_numeric_ == 2
    assert Z.shape[1] == 2 + 3 + 2 + 2
    blocks = Z[:, 2:]
    # one 1 per categorical column and row
    assert blocks.sum() == 3 * len(df)
    assert list(enc.categories_[0]) == ["Lima", "Oslo", "Rome"]


def test_numeric_scores_are_close_to_standard_normal():
    rng = np.random.default_rng(1)
    X = rng.exponential(size=(5000, 1))
    Z = TableEncoder().fit_transform(X)
    assert abs(Z.mean()) < 0.02
    assert abs(Z.std() - 1) < 0.03


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (40, 2), elements=st.floats(-1e3, 1e3)))
def test_log_jacobian_is_the_log_derivative_of_the_map(X):
    enc = TableEncoder(discrete_float_ratio=0.0)
    assume((np.ptp(X, axis=0) >= 1e-300).all())  # else a one-level category
    enc.fit(X)
    points = np.linspace(X.min(0) - 1, X.max(0) + 1, 7)
    h = 1e-6 * np.maximum(1.0, np.abs(points))
    slope = (enc.transform(points + h) - enc.transform(points - h)) / (2 * h)
    # A knot between the two points makes the slope a mix of two segments:
    # compare where the finite difference is one segment's slope.
    with np.errstate(divide="ignore"):
        numeric = np.log(slope).sum(1)
    assert np.isfinite(enc.log_jacobian(points)).all()
    close = np.isclose(enc.log_jacobian(points), numeric, rtol=1e-5, atol=1e-6)
    assert close.mean() >= 0.5
    # the map is increasing and invertible
    Z = enc.transform(X)
    np.testing.assert_allclose(enc.inverse_transform(Z), X, rtol=1e-9, atol=1e-9)


def test_integer_value_probability_is_its_interval_mass():
    # Under uniform dequantization, the normal mass between the scores of v
    # and v + 1 is the probability of v.
    rng = np.random.default_rng(2)
    counts = rng.poisson(2.5, 20000)
    df = pd.DataFrame({"n": counts})
    enc = TableEncoder().fit(df)
    f = enc._maps[0]
    for v in range(0, 7):
        mass = norm.cdf(f(np.array([v + 1.0]))) - norm.cdf(f(np.array([v + 0.0])))
        share = np.mean(counts == v)
        assert abs(mass[0] - share) < 0.15 * share + 0.005, (v, mass, share)


def test_repeated_floats_are_discrete_over_the_values_seen():
    rng = np.random.default_rng(5)
    rounded = np.round(rng.normal(size=300), 1)
    df = pd.DataFrame({"r": rounded, "c": rng.normal(size=300)})
    enc = TableEncoder().fit(df)
    assert list(enc.kinds_) == ["discrete", "continuous"]
    back = enc.inverse_transform(rng.normal(scale=0.5, size=(1000, 2)))
    assert set(back["r"]) <= set(rounded)
    assert back["c"].nunique() == 1000
    # a value's probability is the normal mass over its rank's interval:
    # over the values seen, they sum to one
    seen = np.unique(rounded)
    lower, upper = enc.integer_intervals(pd.DataFrame({"r": seen, "c": 0.0}))
    mass = norm.cdf(upper[:, 0]) - norm.cdf(lower[:, 0])
    assert mass.sum() == pytest.approx(1.0, abs=1e-12)
    shares = np.array([np.mean(rounded == v) for v in seen])
    assert np.abs(mass - shares).max() < 0.02
    # with the ratio at 0 the column is continuous
    assert TableEncoder(discrete_float_ratio=0).fit(df).kinds_[0] == "continuous"


def test_dequantized_rows_stay_in_their_value_interval():
    df = _table()
    enc = TableEncoder(random_state=0)
    Z = enc.fit_transform_dequantized(df)
    f = enc._maps[1]
    counts = df["count"].to_numpy(float)
    assert (Z[:, 1] >= f(counts) - 1e-12).all()
    assert (Z[:, 1] <= f(counts + 1) + 1e-12).all()
    assert (enc.inverse_transform(Z)["count"] == df["count"]).all()


def test_inverse_transform_keeps_integers_in_range_and_decodes_probabilities():
    df = _table()
    enc = TableEncoder().fit(df)
    rng = np.random.default_rng(3)
    Z = rng.normal(scale=5, size=(500, enc.transform(df).shape[1]))
    back = enc.inverse_transform(Z)
    assert back["count"].between(df["count"].min(), df["count"].max()).all()
    assert back["x"].between(df["x"].min(), df["x"].max()).all()
    assert set(back["city"].unique()) <= {"Lima", "Oslo", "Rome"}
    assert back["member"].dtype == bool


def test_arrays_without_categories_are_numeric_and_keep_their_dtype():
    X = np.arange(20).reshape(10, 2)
    enc = TableEncoder().fit(X)
    assert list(enc.kinds_) == ["integer", "integer"]
    back = enc.inverse_transform(enc.transform(X))
    assert back.dtype == X.dtype
    np.testing.assert_array_equal(back, X)


def test_array_categories_by_index():
    X = np.array([[1.0, "a"], [2.0, "b"], [3.5, "a"], [0.5, "c"]], dtype=object)
    enc = TableEncoder(categorical_features=[1]).fit(X)
    assert list(enc.kinds_) == ["continuous", "categorical"]
    back = enc.inverse_transform(enc.transform(X))
    assert list(back[:, 1]) == ["a", "b", "a", "c"]


@pytest.mark.parametrize(
    "column, error, match",
    [
        (np.array([1 + 1j, 2, 3]), TypeError, "'when' has the dtype complex128"),
        ([1.0, np.nan, 2.0], ValueError, "NaN"),
        (pd.Categorical(["a", None, "b"]), ValueError, "missing categories"),
        (pd.interval_range(0, 3), TypeError, "'when' has the dtype interval"),
    ],
)
def test_bad_columns_raise_naming_the_column(column, error, match):
    df = pd.DataFrame({"ok": [0.1, 0.5, 0.3], "when": column})
    with pytest.raises(error, match=match):
        TableEncoder().fit(df)


@pytest.mark.parametrize(
    "column", [pd.Categorical(["a", "a", "a"]), [2.5, 2.5, 2.5], [7, 7, 7]]
)
def test_a_single_value_is_a_one_level_category(column):
    df = pd.DataFrame({"ok": [0.1, 0.5, 0.3], "same": column})
    enc = TableEncoder().fit(df)
    assert enc.kinds_[1] == "categorical"
    Z = enc.transform(df)
    np.testing.assert_array_equal(Z[:, -1], 1.0)
    back = enc.inverse_transform(Z)
    assert back["same"].dtype == df["same"].dtype
    assert (back["same"] == df["same"]).all()
    other = "b" if isinstance(column, pd.Categorical) else 9.0
    with pytest.raises(ValueError, match="'same' has categories not seen"):
        enc.transform(pd.DataFrame({"ok": [0.2], "same": [other]}))


def test_unseen_category_raises_or_is_an_empty_block():
    df = _table()
    new = df.head(3).copy()
    new["tag"] = ["a", "zzz", "b"]
    with pytest.raises(ValueError, match="'tag' has categories not seen"):
        TableEncoder().fit(df).transform(new)
    enc = TableEncoder(handle_unknown="ignore").fit(df)
    Z = enc.transform(new)
    tag_block = Z[:, -2:]
    np.testing.assert_array_equal(tag_block.sum(1), [1, 0, 1])
    np.testing.assert_array_equal(enc.unknown_mask(new)[:, -1], [False, True, False])


def test_columns_must_match_the_fit():
    df = _table()
    enc = TableEncoder().fit(df)
    with pytest.raises(ValueError, match="feature names"):
        enc.transform(df[list(reversed(df.columns))])
    with pytest.raises(ValueError, match="features"):
        enc.transform(df.iloc[:, :3].to_numpy())


def test_categorical_features_by_name_and_bad_names():
    df = _table()
    enc = TableEncoder(categorical_features=["count"]).fit(df[["x", "count"]])
    assert list(enc.kinds_) == ["continuous", "categorical"]
    with pytest.raises(ValueError, match="'nope'"):
        TableEncoder(categorical_features=["nope"]).fit(df)
    with pytest.raises(TypeError, match="'city' is not numeric"):
        TableEncoder(categorical_features=["count"]).fit(df)


def test_weights_equal_repeated_rows():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 2))
    w = rng.integers(0, 3, 30)
    a = TableEncoder().fit(X, sample_weight=w)
    b = TableEncoder().fit(np.repeat(X, w, axis=0))
    np.testing.assert_allclose(a.transform(X), b.transform(X))


def test_missing_entries_raise_unless_allowed():
    df = _table(50)
    df["x"] = df["x"].where(np.arange(50) % 7 != 0)
    df["city"] = df["city"].where(np.arange(50) % 5 != 0)
    with pytest.raises(ValueError, match="'x' has missing values"):
        TableEncoder().fit(df)
    enc = TableEncoder(allow_missing=True).fit(df)
    Z = enc.transform(df)
    missing = enc.missing_mask(df)
    np.testing.assert_array_equal(missing[:, 0], np.arange(50) % 7 == 0)
    np.testing.assert_array_equal(missing[:, 2], np.arange(50) % 5 == 0)
    assert np.isnan(Z[missing[:, 0], 0]).all()
    assert not np.isnan(Z[~missing[:, 0], 0]).any()
    city_block = Z[:, 2:5]
    np.testing.assert_array_equal(city_block.sum(1), ~missing[:, 2])
    # a missing category is not an unknown one
    assert not enc.unknown_mask(df).any()
    # the map is learnt from the observed entries only
    full = TableEncoder().fit(df[~missing[:, 0]].drop(columns="city"))
    np.testing.assert_allclose(enc._maps[0].x, full._maps[0].x)


def test_identity_map_passes_numbers_and_decodes_to_values_a_column_takes():
    df = _table()
    df["rounded"] = np.round(np.random.default_rng(7).normal(size=len(df)), 1)
    enc = TableEncoder(numeric_transform="identity").fit(df)
    assert enc.kinds_[-1] == "discrete"
    Z = enc.transform(df)
    numeric = ["x", "count", "rounded"]  # continuous, then interval kinds
    np.testing.assert_array_equal(Z[:, :3], df[numeric].to_numpy(float))
    assert enc.log_jacobian(df) == pytest.approx(np.zeros(len(df)))
    # a model's real-valued output: integers spread over [v, v + 1), discrete
    # values off by less than half their spacing
    noisy = Z.copy()
    rng = np.random.default_rng(8)
    noisy[:, 1] += rng.uniform(0, 0.99, len(df))
    noisy[:, 2] += rng.uniform(-0.04, 0.04, len(df))
    back = enc.inverse_transform(noisy)
    assert (back["count"] == df["count"]).all()
    np.testing.assert_array_equal(back["rounded"], df["rounded"])
