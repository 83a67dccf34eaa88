"""Tests of DensityOutlierDetector."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
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


def test_non_finite_scores_are_refused(planted):
    X, _ = planted

    class Broken(KernelDensity):
        def score_samples(self, X):
            return np.full(len(X), np.nan)

    with pytest.raises(ValueError, match="non-finite"):
        DensityOutlierDetector(Broken()).fit(X)
