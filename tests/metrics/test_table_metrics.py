"""Sample metrics and sample scorers on tables and on samples with gaps."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import OneHotEncoder

from skgen import TabularMixture
from skgen.metrics import c2st_auc, energy_distance, make_sample_scorer, mmd, prdc


def _table(n, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    group = rng.choice(["low", "mid", "high"], n, p=[0.5, 0.3, 0.2])
    centre = np.select([group == "low", group == "mid"], [0.0, 5.0], 10.0)
    return pd.DataFrame({
        "x": rng.normal(centre + shift, 1.0),
        "n": rng.poisson(2 + centre / 5),
        "group": pd.Categorical(group, categories=["low", "mid", "high"]),
        "flag": rng.random(n) < 0.3,
    })


def _by_hand(X, Y):
    """Standardised numbers (X's mean, population sd) and one-hot categories."""
    numbers = ["x", "n"]
    mean, sd = X[numbers].mean(), X[numbers].std(ddof=0)
    onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    onehot.fit(X[["group", "flag"]].astype(str))

    def encode(T):
        return np.hstack([((T[numbers] - mean) / sd).to_numpy(),
                          onehot.transform(T[["group", "flag"]].astype(str))])

    return encode(X), encode(Y)


@pytest.mark.parametrize("metric", [mmd, energy_distance])
def test_metrics_on_tables_are_the_metrics_of_the_encoded_rows(metric):
    X, Y = _table(300, 0), _table(250, 1, shift=0.5)
    assert metric(X, Y) == pytest.approx(metric(*_by_hand(X, Y)), rel=1e-10)


def test_a_category_unseen_in_the_reference_counts_as_no_level():
    X, Y = _table(200, 0), _table(200, 1)
    Y["group"] = Y["group"].cat.add_categories(["new"])
    Y.loc[:9, "group"] = "new"
    by_hand = _by_hand(X, Y)
    assert not by_hand[1][:10, 2:5].any()
    assert energy_distance(X, Y) == pytest.approx(energy_distance(*by_hand), rel=1e-10)


def test_gaps_are_compared_as_a_flag_beside_the_value():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 2))
    Y = rng.normal(size=(400, 2))
    X[:200, 1] = np.nan  # half of X's second column missing, none of Y's
    d = energy_distance(X, Y)
    assert np.isfinite(d) and d > 0.1
    X2 = rng.normal(size=(400, 2))
    X2[rng.permutation(400)[:200], 1] = np.nan
    # the same share of gaps on both sides is nearly indistinguishable
    assert energy_distance(X, X2) < d / 5


def test_c2st_and_prdc_take_tables():
    X, Y = _table(300, 0), _table(300, 1)
    assert 0.3 < c2st_auc(X, Y, random_state=0) < 0.7
    assert c2st_auc(X, _table(300, 1, shift=3.0), random_state=0) > 0.8
    assert set(prdc(X, Y)) == {"precision", "recall", "density", "coverage"}


@pytest.mark.parametrize("metric", ["mmd", "energy_distance", "c2st_auc"])
def test_model_selection_by_sample_quality_works_on_tables(metric):
    X = _table(600, 2)
    search = GridSearchCV(
        TabularMixture(random_state=0), {"n_components": [1, 6]},
        scoring=make_sample_scorer(metric), cv=3, error_score="raise",
    ).fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all()
    if metric != "c2st_auc":  # the AUC of 200 rows is too noisy to rank on
        assert search.best_params_ == {"n_components": 6}


def test_a_nan_score_is_an_error():
    X = _table(200, 0)
    model = TabularMixture(2, random_state=0).fit(X)
    scorer = make_sample_scorer(lambda A, B: np.nan)
    with pytest.raises(ValueError, match="nan"):
        scorer(model, X)
