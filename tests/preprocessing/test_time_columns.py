"""Dates, times and durations round-trip through the table models."""

import numpy as np
import pandas as pd
import pytest

from skgen import TabularMixture
from skgen.preprocessing import TableEncoder


def _table(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "day": pd.Timestamp("2020-01-01")
        + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
        "stamp": pd.Timestamp("2023-03-20 09:00", tz="Europe/Oslo")
        + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
        "hourly": pd.Timestamp("2021-05-01 09:30")
        + pd.to_timedelta(rng.integers(0, 500, n), unit="h"),
        "wait": pd.to_timedelta(rng.gamma(2.0, 30.0, n).round(), unit="min"),
        "x": rng.normal(size=n),
    })


@pytest.fixture(scope="module")
def sampled():
    df = _table()
    df.loc[df.index[:150], "stamp"] = pd.NaT
    model = TabularMixture(random_state=0).fit(df)
    return df, model, model.sample(6000, random_state=0)


def test_dtype_and_time_zone_come_back(sampled):
    df, _, s = sampled
    assert (s.dtypes == df.dtypes).all()
    assert str(s["stamp"].dt.tz) == "Europe/Oslo"


def test_values_stay_on_the_resolution_and_within_the_range(sampled):
    df, _, s = sampled
    assert (s["day"] == s["day"].dt.normalize()).all()
    assert (s["hourly"].dt.minute == 30).all() and (s["hourly"].dt.second == 0).all()
    stamps = s["stamp"].dropna()
    assert (stamps.dt.microsecond == 0).all()
    assert (s["wait"].dt.total_seconds() % 60 == 0).all()
    for column in ["day", "stamp", "hourly", "wait"]:
        assert s[column].min() >= df[column].min()
        assert s[column].max() <= df[column].max()


def test_the_law_of_the_times_is_kept(sampled):
    df, _, s = sampled
    # NaT is a gap, drawn at its share
    assert abs(s["stamp"].isna().mean() - 0.1) < 0.02
    for column in ["day", "wait"]:
        real = df[column].astype("int64").astype(float)
        synthetic = s[column].astype("int64").astype(float)
        assert abs(synthetic.mean() - real.mean()) < 0.1 * real.std()
        assert abs(synthetic.std() - real.std()) < 0.1 * real.std()


def test_scores_and_imputation_take_times(sampled):
    df, model, _ = sampled
    scores = model.score_samples(df.iloc[150:160])
    assert np.isfinite(scores).all()
    rows = df.iloc[150:155].copy()
    rows.loc[rows.index[0], "day"] = pd.NaT
    filled = model.impute(rows)
    assert filled["day"].notna().all() and filled["day"].dtype == df["day"].dtype
    pd.testing.assert_frame_equal(filled.iloc[1:], rows.iloc[1:])


def test_the_encoder_counts_whole_units_since_the_earliest_value():
    df = pd.DataFrame({"t": pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-10"])})
    encoder = TableEncoder(numeric_transform="identity").fit(df)
    assert list(encoder.kinds_) == ["integer"]
    np.testing.assert_array_equal(encoder.transform(df)[:, 0], [2, 0, 9])
    back = encoder.inverse_transform(np.array([[4.0], [0.0]]))
    assert back["t"].tolist() == list(pd.to_datetime(["2024-01-05", "2024-01-01"]))
