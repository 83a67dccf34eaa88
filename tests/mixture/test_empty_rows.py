"""A row with nothing observed: the same answer from every model and wrapper."""

import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import KernelDensity

from skgen import DensityOutlierDetector, GaussianMixture, TabularMixture


def _data(seed=0, n=300):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(size=(n // 2, 3)), rng.normal(4, 1, (n // 2, 3))])
    gaps = X.copy()
    gaps[rng.random(X.shape) < 0.2] = np.nan
    gaps[np.isnan(gaps).all(1), 0] = 1.0
    return gaps


def _table(seed=0, n=300):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "x": rng.normal(size=n),
        "y": rng.normal(size=n),
        "c": pd.Categorical(rng.choice(["a", "b"], n)),
    })


def _models():
    X = _data()
    yield "gm", GaussianMixture(2, random_state=0).fit(X), X
    table = _table()
    yield "tm", TabularMixture(2, random_state=0).fit(table), table


def _with_empty_row(X, at):
    if isinstance(X, pd.DataFrame):
        rows = X.iloc[:4].copy()
        rows.iloc[at] = None
        return rows
    rows = X[:4].copy()
    rows[at] = np.nan
    return rows


@pytest.mark.parametrize("name, model, X", list(_models()), ids=["gm", "tm"])
def test_an_empty_row_is_an_error_naming_it(name, model, X):
    rows = _with_empty_row(X, at=2)
    for method in (model.score_samples, model.predict_proba, model.predict,
                   model.score):
        with pytest.raises(ValueError, match=r"1 row\(s\).*no observed.*row\(s\) 2"):
            method(rows)


@pytest.mark.parametrize("name, model, X", list(_models()), ids=["gm", "tm"])
def test_prior_scores_an_empty_row_log_one_with_the_mixing_weights(name, model, X):
    rows = _with_empty_row(X, at=2)
    model.set_params(empty_rows="prior")
    scores = model.score_samples(rows)
    proba = model.predict_proba(rows)
    assert scores[2] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(proba[2], model.weights_, rtol=1e-10)
    # The other rows are answered as without the empty one.
    others = [0, 1, 3]
    alone = rows.iloc[others] if isinstance(rows, pd.DataFrame) else rows[others]
    np.testing.assert_allclose(scores[others], model.score_samples(alone), rtol=1e-12)
    model.set_params(empty_rows="error")


def test_density_outlier_detector_passes_gaps_to_a_model_that_takes_them():
    X = _data()
    detector = DensityOutlierDetector(GaussianMixture(2, random_state=0)).fit(X)
    direct = GaussianMixture(2, random_state=0).fit(X)
    np.testing.assert_allclose(detector.score_samples(X), direct.score_samples(X))
    assert set(detector.predict(X)) <= {-1, 1}
    assert detector.__sklearn_tags__().input_tags.allow_nan
    # An empty row keeps the model's answer: an error by default.
    with pytest.raises(ValueError, match="no observed entry"):
        detector.predict(_with_empty_row(X, at=0))


def test_density_outlier_detector_refuses_gaps_for_a_model_without_them():
    X = _data()
    detector = DensityOutlierDetector(KernelDensity())
    assert not detector.__sklearn_tags__().input_tags.allow_nan
    with pytest.raises(ValueError, match="NaN"):
        detector.fit(X)
