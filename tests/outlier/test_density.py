"""Tests of DensityOutlierDetector."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.metrics import roc_auc_score
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from sklearn.neighbors import KernelDensity
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgen import DensityOutlierDetector, GaussianMixture


@pytest.fixture
def planted(rng):
    inliers = rng.normal(size=(400, 3))
    outliers = rng.uniform(-8, 8, size=(20, 3))
    outliers = outliers[np.linalg.norm(outliers, axis=1) > 5]
    X = np.r_[inliers, outliers]
    y = np.r_[np.zeros(len(inliers)), np.ones(len(outliers))]
    return X, y


def test_default_is_a_skgen_mixture_and_offset_is_the_percentile(planted):
    X, _ = planted
    detector = DensityOutlierDetector(contamination=0.05).fit(X)
    assert isinstance(detector.estimator_, GaussianMixture)
    scores = detector.estimator_.score_samples(X)
    assert detector.offset_ == pytest.approx(np.percentile(scores, 5.0))
    assert_allclose(detector.decision_function(X), scores - detector.offset_)
    assert np.mean(detector.predict(X) == -1) == pytest.approx(0.05, abs=1 / len(X))
    assert set(np.unique(detector.fit_predict(X))) == {-1, 1}


@pytest.mark.parametrize(
    "estimator",
    [
        KernelDensity(bandwidth=0.5),
        SklearnGaussianMixture(2, random_state=0),
        make_pipeline(StandardScaler(), GaussianMixture(2, random_state=0)),
    ],
    ids=["KernelDensity", "sklearn-GMM", "Pipeline"],
)
def test_any_density_model_detects_planted_outliers(planted, estimator):
    X, y = planted
    detector = DensityOutlierDetector(estimator).fit(X)
    assert detector.estimator_ is not estimator  # cloned
    assert roc_auc_score(y, -detector.score_samples(X)) > 0.95
    assert np.mean(detector.predict(X[y == 1]) == -1) > 0.9


def test_bad_estimator_and_parameters(planted):
    X, _ = planted
    with pytest.raises(ValueError, match="estimator"):
        DensityOutlierDetector(StandardScaler()).fit(X)
    with pytest.raises(ValueError, match="contamination"):
        DensityOutlierDetector(contamination=0.7).fit(X)
    detector = DensityOutlierDetector().fit(X)
    with pytest.raises(ValueError, match="features"):
        detector.predict(X[:, :2])


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nan_and_positive_infinite_scores_are_refused(planted, value):
    X, _ = planted

    class Broken(KernelDensity):
        def score_samples(self, X):
            return np.full(len(X), value)

    with pytest.raises(ValueError, match="NaN or \\+inf"):
        DensityOutlierDetector(Broken()).fit(X)
    detector = DensityOutlierDetector(KernelDensity()).fit(X)
    detector.estimator_ = Broken().fit(X)
    for method in (detector.score_samples, detector.decision_function,
                   detector.predict):
        with pytest.raises(ValueError, match="cannot rank"):
            method(X[:3])


def test_zero_density_rows_are_the_most_abnormal_not_an_error(planted):
    # A tophat kernel gives a density of exactly 0 (score -inf) to every row
    # farther than the bandwidth from all the training rows.
    X, _ = planted
    detector = DensityOutlierDetector(
        KernelDensity(kernel="tophat", bandwidth=1.0), contamination=0.05
    ).fit(X)
    far, near = [[50.0, 50.0, 50.0]], [[0.0, 0.0, 0.0]]
    assert detector.score_samples(far)[0] == -np.inf
    assert np.isfinite(detector.offset_)
    assert detector.decision_function(far)[0] == -np.inf
    assert_array_equal(detector.predict(np.r_[far, near]), [-1, 1])
    # The training rows lie inside their own kernel: finite scores, and the
    # same threshold as with scikit-learn's scores directly.
    scores = KernelDensity(kernel="tophat", bandwidth=1.0).fit(X).score_samples(X)
    assert detector.offset_ == pytest.approx(np.percentile(scores, 5.0))


class _ZeroDensityForSome(KernelDensity):
    """A Gaussian KDE that gives a density of 0 to rows with x0 > 1."""

    def score_samples(self, X):
        scores = super().score_samples(X)
        return np.where(np.asarray(X)[:, 0] > 1.0, -np.inf, scores)


def test_zero_density_training_rows_are_outliers_below_a_finite_threshold(rng):
    X = rng.normal(size=(400, 2))
    zero = X[:, 0] > 1.0
    share = zero.mean()  # about 16% of the rows
    detector = DensityOutlierDetector(_ZeroDensityForSome(),
                                      contamination=0.25).fit(X)
    assert np.isfinite(detector.offset_)
    labels = detector.predict(X)
    assert np.all(labels[zero] == -1)
    assert np.mean(labels == -1) == pytest.approx(0.25, abs=1 / len(X))
    assert np.all(detector.decision_function(X)[zero] == -np.inf)
    # More zero-density rows than contamination: no finite threshold can
    # separate them; the error says what to do.
    assert 0.1 < share < 0.25
    with pytest.raises(ValueError, match="score -inf.*raise contamination"):
        DensityOutlierDetector(_ZeroDensityForSome(), contamination=0.1).fit(X)


def test_a_model_of_tables_gets_the_table_as_it_is():
    import pandas as pd

    from skgen import TabularMixture

    rng = np.random.default_rng(0)
    n = 600
    city = rng.choice(["Oslo", "Rome"], n)
    df = pd.DataFrame({
        "height": np.where(city == "Oslo", rng.normal(185, 4, n),
                           rng.normal(160, 4, n)),
        "city": pd.Categorical(city),
    })
    detector = DensityOutlierDetector(TabularMixture(random_state=0),
                                      contamination=0.05).fit(df)
    assert np.mean(detector.predict(df) == -1) == pytest.approx(0.05, abs=0.01)
    # each value is common, their combination is not
    odd = pd.DataFrame({"height": [185.0, 185.0],
                        "city": pd.Categorical(["Rome", "Oslo"])})
    np.testing.assert_array_equal(detector.predict(odd), [-1, 1])
    with pytest.raises(ValueError, match="feature names"):
        detector.predict(odd[["city", "height"]])
