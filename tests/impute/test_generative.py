"""GenerativeImputer: closed forms, scikit-learn's imputer conventions, errors."""

import copy
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from sklearn.neighbors import KernelDensity
from sklearn.utils.estimator_checks import parametrize_with_checks

from skgen import GaussianMixture, GenerativeImputer

# Imputers' own checks beyond the default one in tests/test_common.py. The
# variants of the default model choose it by BIC (the hidden-entry choice is
# checked by the default's own run there): the checks are about the strategy
# and the marker; two fits keep the draws from an average of mixtures.
VARIANTS = [
    GenerativeImputer(strategy="sample", selection="bic", n_fits=2),
    GenerativeImputer(missing_values=-1.0, selection="bic", n_fits=1),
    GenerativeImputer(
        SklearnGaussianMixture(2, covariance_type="tied"),
        add_indicator=True,
        keep_empty_features=True,
    ),
    GenerativeImputer(GaussianMixture(2, covariance_type="spherical"),
                      strategy="sample"),
]


@parametrize_with_checks(VARIANTS)
def test_sklearn_compatible_variants(estimator, check):
    check(estimator)


# For the tests of conventions, not of the default's choice: one model chosen
# by BIC (the hidden-entry choice fits every candidate on several masks).
QUICK = dict(selection="bic", n_fits=1)

MEAN = np.array([1.0, -2.0, 0.5, 10.0])
COV = np.array([
    [1.0, 0.8, 0.3, 2.0],
    [0.8, 2.0, -0.5, 1.0],
    [0.3, -0.5, 1.5, 0.2],
    [2.0, 1.0, 0.2, 9.0],
])


def _gaussian_with_gaps(n=600, rate=0.15, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.multivariate_normal(MEAN, COV, size=n)
    X_gaps = X.copy()
    X_gaps[rng.random(X.shape) < rate] = np.nan
    return X, X_gaps


def _closed_form_mean(X_gaps):
    """Gaussian conditional mean under the MLE of the complete rows, computed
    as the imputer's model sees the data: standardised by the observed
    entries of each column, with scikit-learn's reg_covar on the diagonal."""
    location = np.nanmean(X_gaps, axis=0)
    scale = np.nanstd(X_gaps, axis=0)
    Z = (X_gaps - location) / scale
    complete = Z[~np.isnan(Z).any(axis=1)]
    mu = complete.mean(axis=0)
    S = np.cov(complete, rowvar=False, bias=True) + 1e-6 * np.eye(Z.shape[1])
    out = Z.copy()
    for i, z in enumerate(Z):
        m = np.isnan(z)
        if not m.any():
            continue
        o = ~m
        gain = S[np.ix_(m, o)] @ np.linalg.inv(S[np.ix_(o, o)]) if o.any() else 0
        out[i, m] = mu[m] + (gain @ (z[o] - mu[o]) if o.any() else 0)
    return out * scale + location, mu, S, location, scale


# ---------------------------------------------------------------------------
# Against closed forms
# ---------------------------------------------------------------------------


def _conditional_mean_of(X_gaps, mean, cov):
    out = X_gaps.copy()
    for i, x in enumerate(X_gaps):
        m, o = np.isnan(x), ~np.isnan(x)
        if m.any():
            gain = cov[np.ix_(m, o)] @ np.linalg.inv(cov[np.ix_(o, o)])
            out[i, m] = mean[m] + gain @ (x[o] - mean[o])
    return out


def test_mean_is_the_gaussian_conditional_expectation():
    _, X_gaps = _gaussian_with_gaps()
    # A model without NaN support learns from the complete rows: the
    # conditional mean under their maximum-likelihood Gaussian.
    expected = _closed_form_mean(X_gaps)[0]
    one = GenerativeImputer(SklearnGaussianMixture(1), random_state=0).fit(X_gaps)
    np.testing.assert_allclose(one.transform(X_gaps), expected, rtol=1e-6,
                               atol=1e-6)
    # The default learns from every row (EM over the observed entries);
    # chosen by BIC it picks one full Gaussian on Gaussian data: the
    # conditional mean under its parameters, back in the units of X, and near
    # the one under the true parameters.
    default = GenerativeImputer(selection="bic", random_state=0).fit(X_gaps)
    choice = default.selection_
    assert (choice["covariance_type"], choice["n_components"]) == ("full", 1)
    # One component's EM does not depend on its start: one fit.
    assert choice["n_members"] == len(default.estimators_) == 1
    assert default.estimator_ is default.estimators_[0]
    scale, location = default.scale_, default.location_
    expected = []
    for model in default.estimators_:
        assert (model.n_components, model.covariance_type) == (1, "full")
        mean = model.means_[0] * scale + location
        cov = model.covariances_[0] * np.outer(scale, scale)
        expected.append(_conditional_mean_of(X_gaps, mean, cov))
    filled = default.transform(X_gaps)
    np.testing.assert_allclose(filled, np.mean(expected, axis=0), rtol=1e-9,
                               atol=1e-9)
    truth = _conditional_mean_of(X_gaps, MEAN, COV)
    missing = np.isnan(X_gaps)
    error = ((filled - truth) / np.sqrt(np.diag(COV)))[missing]
    assert np.sqrt(np.mean(error**2)) < 0.1


def test_sample_draws_follow_the_gaussian_conditional():
    _, X_gaps = _gaussian_with_gaps(seed=1)
    _, mu, S, location, scale = _closed_form_mean(X_gaps)
    imputer = GenerativeImputer(SklearnGaussianMixture(1), strategy="sample",
                                random_state=0).fit(X_gaps)
    x = np.array([np.nan, -1.0, np.nan, 12.0])
    draws = imputer.transform(np.repeat(x[None], 20000, axis=0))
    m, o = np.isnan(x), ~np.isnan(x)
    z = (x - location) / scale
    gain = S[np.ix_(m, o)] @ np.linalg.inv(S[np.ix_(o, o)])
    mean = (mu[m] + gain @ (z[o] - mu[o])) * scale[m] + location[m]
    cov = (S[np.ix_(m, m)] - gain @ S[np.ix_(o, m)]) * np.outer(scale[m], scale[m])
    np.testing.assert_array_equal(draws[:, o], np.broadcast_to(x[o], (20000, 2)))
    se = np.sqrt(np.diag(cov) / 20000)
    assert np.all(np.abs(draws[:, m].mean(axis=0) - mean) < 5 * se)
    np.testing.assert_allclose(np.cov(draws[:, m], rowvar=False), cov, rtol=0.05,
                               atol=0.05 * np.sqrt(np.outer(np.diag(cov),
                                                            np.diag(cov))).max())


@pytest.mark.parametrize("gaps", [False, True])
def test_default_model_finds_the_clusters(blobs, gaps):
    X, _ = blobs
    X = X.copy()
    if gaps:
        X[np.random.default_rng(0).random(X.shape) < 0.1] = np.nan
    imputer = GenerativeImputer(random_state=0).fit(X)
    assert 3 <= imputer.estimator_.n_components <= 5


def _correlated(n, seed):
    rng = np.random.default_rng(seed)
    cov = 0.9 * np.ones((5, 5)) + 0.1 * np.eye(5)
    return rng.multivariate_normal(np.zeros(5), cov, size=n)


def test_selection_picks_the_candidate_that_imputes_best():
    # Five strongly correlated columns: one full Gaussian predicts each from
    # the others; diagonal components need many to mimic the correlation.
    X = _correlated(500, seed=0)
    X[np.random.default_rng(1).random(X.shape) < 0.2] = np.nan
    imputer = GenerativeImputer(random_state=0).fit(X)
    choice = imputer.selection_
    assert (choice["covariance_type"], choice["n_components"]) == ("full", 1)
    assert choice["criterion"] == "rmse"
    scores = choice["scores"]
    assert scores["full", 1] < min(v for (c, _), v in scores.items()
                                   if c == "diag")
    # The hidden entries' error is what the imputation gets on X's own gaps:
    # a correlation of 0.9 leaves about a third of a column's spread.
    assert 0.2 < scores["full", 1] < 0.45
    # Four separated clusters on the axes: four diagonal or full components.
    rng = np.random.default_rng(2)
    centres = 8 * np.eye(4)
    X = centres[rng.integers(4, size=800)] + rng.normal(size=(800, 4))
    X[rng.random(X.shape) < 0.2] = np.nan
    choice = GenerativeImputer(random_state=0).fit(X).selection_
    assert choice["n_components"] == 4


def _two_moons_with_gaps(seed):
    # Curved clusters: several components, and EM's optimum depends on its
    # start.
    from sklearn.datasets import make_moons

    X = make_moons(200, noise=0.1, random_state=seed)[0]
    X = np.column_stack([X, X[:, 0] * X[:, 1]])
    X[np.random.default_rng(seed).random(X.shape) < 0.2] = np.nan
    return X


@pytest.fixture(scope="module")
def moons_fit():
    """Moons with gaps, a copy, and the default imputer fitted on them."""
    X_gaps = _two_moons_with_gaps(seed=7)
    before = X_gaps.copy()
    return X_gaps, before, GenerativeImputer(n_fits=3, random_state=0).fit(X_gaps)


def test_selection_leaves_the_data_alone_and_is_reproducible(moons_fit):
    X_gaps, before, a = moons_fit
    np.testing.assert_array_equal(X_gaps, before)  # the hidden entries are a copy
    b = GenerativeImputer(n_fits=3, random_state=0).fit(X_gaps)
    assert a.selection_ == b.selection_
    np.testing.assert_array_equal(a.transform(X_gaps), b.transform(X_gaps))
    sample = copy.deepcopy(a).set_params(strategy="sample").transform(X_gaps)
    np.testing.assert_array_equal(
        sample, b.set_params(strategy="sample").transform(X_gaps))


def test_the_kept_candidates_are_averaged(moons_fit):
    X_gaps, _, imputer = moons_fit
    fits = imputer.estimators_
    choice = imputer.selection_
    assert choice["n_components"] > 1
    assert 2 <= len(fits) == choice["n_members"] <= 3
    assert imputer.estimator_ is fits[0]
    # The members are the kept candidates, the best one first, refitted on X.
    assert choice["members"][0] == (choice["covariance_type"],
                                    choice["n_components"])
    assert len(set(choice["members"])) == len(fits)
    for fit, (covariance_type, n_components) in zip(fits, choice["members"],
                                                   strict=True):
        assert (fit.covariance_type, fit.n_components) == (
            covariance_type, n_components)
    # The averaged candidates imputed the hidden entries better than the best
    # alone.
    assert choice["ensemble_score"] < min(choice["scores"].values())
    standard = (X_gaps - imputer.location_) / imputer.scale_
    each = [fit.impute(standard) * imputer.scale_ + imputer.location_
            for fit in fits]
    np.testing.assert_allclose(imputer.transform(X_gaps), np.mean(each, axis=0),
                               rtol=1e-10)
    one = GenerativeImputer(n_fits=1, random_state=0).fit(X_gaps)
    assert len(one.estimators_) == 1
    assert one.selection_["members"] == choice["members"][:1]


@settings(max_examples=30, deadline=None)
@given(
    n_candidates=st.integers(1, 6),
    size=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_ensemble_is_the_greedy_forward_selection(n_candidates, size, seed):
    from skgen.impute._generative import _ensemble

    rng = np.random.default_rng(seed)
    target = rng.normal(size=40)
    predictions = [target + rng.normal(scale=rng.uniform(0.2, 2), size=40)
                   + rng.normal(scale=0.5) for _ in range(n_candidates)]

    def rmse(chosen):
        average = np.mean([predictions[i] for i in chosen], axis=0)
        return np.sqrt(np.mean((average - target) ** 2))

    chosen, score = _ensemble(predictions, target, size)
    assert 1 <= len(chosen) <= min(size, n_candidates)
    assert len(set(chosen)) == len(chosen)
    np.testing.assert_allclose(score, rmse(chosen), rtol=1e-12)
    # Brute force, step by step: each step adds the candidate that lowers the
    # error most, and the selection stops when none lowers it.
    singles = [rmse([i]) for i in range(n_candidates)]
    assert chosen[0] == int(np.argmin(singles))
    for step in range(1, len(chosen) + 1):
        errors = {i: rmse(chosen[:step] + [i]) for i in range(n_candidates)
                  if i not in chosen[:step]}
        if step < len(chosen):
            assert rmse(chosen[:step + 1]) < rmse(chosen[:step])
            assert chosen[step] == min(errors, key=errors.get)
        elif step < size and errors:
            assert min(errors.values()) >= rmse(chosen)


def test_bic_selection_is_one_model():
    X = _correlated(300, seed=3)
    X[np.random.default_rng(4).random(X.shape) < 0.2] = np.nan
    imputer = GenerativeImputer(selection="bic", random_state=0).fit(X)
    choice = imputer.selection_
    assert choice["criterion"] == "bic" and choice["n_members"] == 1
    assert imputer.estimators_ == [imputer.estimator_]
    model = imputer.estimator_
    key = (model.covariance_type, model.n_components)
    assert key == (choice["covariance_type"], choice["n_components"])
    assert choice["scores"][key] == min(choice["scores"].values())
    np.testing.assert_allclose(choice["scores"][key], model.bic(
        (X - imputer.location_) / imputer.scale_))
    # A given model is not chosen: no selection.
    given = GenerativeImputer(GaussianMixture(2), random_state=0).fit(X)
    assert given.selection_ is None and given.estimators_ == [given.estimator_]


@pytest.mark.parametrize("params", [
    {"holdout": 0.0}, {"holdout": 1.0}, {"holdout": -0.1}, {"holdout": "a"},
    {"selection": "likelihood"}, {"n_fits": 0}, {"n_fits": 1.5},
])
def test_bad_selection_parameters(params):
    _, X_gaps = _gaussian_with_gaps(n=50, seed=7)
    with pytest.raises(ValueError, match=next(iter(params))):
        GenerativeImputer(**params).fit(X_gaps)


@settings(max_examples=30, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 30), st.integers(1, 6)),
    rate=st.floats(0.0, 0.9),
    share=st.floats(0.01, 0.99),
    seed=st.integers(0, 2**16),
)
def test_hidden_entries_are_observed_and_spare_one_per_row(shape, rate, share, seed):
    from skgen.impute._generative import _hidden_entries

    rng = np.random.default_rng(seed)
    observed = rng.random(shape) >= rate
    hidden = _hidden_entries(observed, share, np.random.default_rng(seed))
    assert not (hidden & ~observed).any()
    kept = observed & ~hidden
    np.testing.assert_array_equal(kept.any(axis=1), observed.any(axis=1))
    again = _hidden_entries(observed, share, np.random.default_rng(seed))
    np.testing.assert_array_equal(hidden, again)


def test_hidden_entries_share():
    from skgen.impute._generative import _hidden_entries

    observed = np.random.default_rng(0).random((4000, 10)) < 0.7
    hidden = _hidden_entries(observed, 0.1, np.random.default_rng(1))
    assert abs(hidden.sum() / observed.sum() - 0.1) < 0.01


def test_default_model_beats_column_means_on_wine():
    # Few complete rows in 13 dimensions: a model of the complete rows alone
    # imputed worse than the column means; EM over every row does not.
    from sklearn.datasets import load_wine

    X = load_wine().data
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    for rate in (0.1, 0.3, 0.5):
        removed = np.random.default_rng(0).random(X.shape) < rate
        X_gaps = np.where(removed, np.nan, X)

        def rmse(imputer, X_gaps=X_gaps, removed=removed):
            filled = imputer.fit_transform(X_gaps)
            return np.sqrt(np.mean((filled - X)[removed] ** 2))

        assert rmse(GenerativeImputer(random_state=0)) < 0.9 * rmse(SimpleImputer())


def test_default_model_needs_more_rows_than_features_per_full_component():
    # Twenty rows in 8 dimensions, too few to hold any out: chosen by BIC,
    # two full Gaussians of ten rows each would win, nearly singular, and
    # their draws would have almost no spread.
    rng = np.random.default_rng(11)
    X = rng.multivariate_normal(np.zeros(8), np.eye(8) + 0.5, size=20)
    X[rng.random(X.shape) < 0.2] = np.nan
    imputer = GenerativeImputer(strategy="sample", random_state=0).fit(X)
    model = imputer.estimator_
    assert model.covariance_type == "diag" or model.n_components == 1
    draws = np.stack([imputer.set_params(random_state=i).transform(X)
                      for i in range(5)])
    assert np.median(draws.std(axis=0)[np.isnan(X)]) > 0.3


def test_rows_with_nothing_observed_get_the_mixture_mean():
    _, X_gaps = _gaussian_with_gaps(seed=2)
    imputer = GenerativeImputer(GaussianMixture(2, random_state=0),
                                random_state=0).fit(X_gaps)
    filled = imputer.transform(np.full((2, 4), np.nan))
    model = imputer.estimator_
    expected = (model.weights_ @ model.means_) * imputer.scale_ + imputer.location_
    np.testing.assert_allclose(filled, np.stack([expected, expected]), rtol=1e-10)


def test_beats_column_means_and_chained_equations_on_a_mixture():
    # Two clusters with opposite correlations: the conditional expectation is
    # not linear, so one regression per column (IterativeImputer) misses it.
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    rng = np.random.default_rng(3)
    n = 800
    sign = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    t = rng.normal(size=n)
    noise = rng.normal(scale=0.2, size=(n, 3))
    # Column 2 tells the cluster; column 1 follows column 0 with slope +-1.
    X = np.column_stack([t, sign * t, 3 * sign]) + noise
    X_gaps = X.copy()
    removed = rng.random(X.shape) < 0.2
    X_gaps[removed] = np.nan

    def rmse(imputer):
        filled = imputer.fit(X_gaps).transform(X_gaps)
        return np.sqrt(np.mean((filled - X)[removed] ** 2))

    ours = rmse(GenerativeImputer(random_state=0))
    assert ours < 0.8 * rmse(SimpleImputer())
    assert ours < 0.8 * rmse(IterativeImputer(random_state=0))


# ---------------------------------------------------------------------------
# Draws and random_state
# ---------------------------------------------------------------------------


def test_random_state_and_multiple_imputation():
    _, X_gaps = _gaussian_with_gaps(n=200, seed=4)
    missing = np.isnan(X_gaps)
    # Chosen by BIC (the hidden-entry choice's bits, with several members,
    # are checked on the moons).
    params = dict(strategy="sample", selection="bic", random_state=0)
    imputer = GenerativeImputer(**params).fit(X_gaps)
    first = imputer.transform(X_gaps)
    np.testing.assert_array_equal(first, imputer.transform(X_gaps))
    np.testing.assert_array_equal(first[~missing], X_gaps[~missing])
    np.testing.assert_array_equal(
        first, GenerativeImputer(**params).fit_transform(X_gaps))
    # Multiple imputation: new draws for each random_state, same model.
    draws = [imputer.set_params(random_state=i).transform(X_gaps)
             for i in range(3)]
    assert not np.allclose(draws[0][missing], draws[1][missing])
    # A generator instance gives new draws at each call.
    imputer.set_params(random_state=np.random.default_rng(0))
    a, b = imputer.transform(X_gaps), imputer.transform(X_gaps)
    assert not np.allclose(a[missing], b[missing])
    # The mean strategy does not depend on the draws (the fit does not depend
    # on the strategy).
    mean = imputer.set_params(strategy="mean")
    np.testing.assert_array_equal(mean.transform(X_gaps), mean.transform(X_gaps))
    # Nothing touches numpy's global random state.
    state = np.random.get_state()[1].copy()
    GenerativeImputer(strategy="sample").fit(X_gaps[:100]).transform(X_gaps)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


# ---------------------------------------------------------------------------
# scikit-learn's imputer conventions
# ---------------------------------------------------------------------------


def test_missing_values_marker():
    _, X_gaps = _gaussian_with_gaps(n=200, seed=5)
    X_marked = np.where(np.isnan(X_gaps), -999.0, X_gaps)
    by_nan = GenerativeImputer(random_state=0, **QUICK).fit_transform(X_gaps)
    by_marker = GenerativeImputer(missing_values=-999.0, random_state=0,
                                  **QUICK).fit_transform(X_marked)
    np.testing.assert_allclose(by_marker, by_nan, rtol=1e-12)
    assert GenerativeImputer(missing_values=-999.0).__sklearn_tags__(
    ).input_tags.allow_nan is False


@pytest.mark.parametrize("keep_empty_features", [False, True])
@pytest.mark.parametrize("add_indicator", [False, True])
def test_empty_features_and_indicator_like_simple_imputer(keep_empty_features,
                                                          add_indicator):
    _, X_gaps = _gaussian_with_gaps(n=200, seed=6)
    X = np.column_stack([X_gaps[:, :2], np.full(len(X_gaps), np.nan), X_gaps[:, 2:]])
    kwargs = dict(keep_empty_features=keep_empty_features,
                  add_indicator=add_indicator)
    ours = GenerativeImputer(random_state=0, **QUICK, **kwargs)
    if keep_empty_features:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = ours.fit_transform(X)
    else:
        with pytest.warns(UserWarning, match=r"Skipping features .*\[2\]"):
            out = ours.fit_transform(X)
    reference = SimpleImputer(**kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = reference.fit_transform(X)
    assert out.shape == expected.shape
    np.testing.assert_array_equal(ours.get_feature_names_out(),
                                  reference.get_feature_names_out())
    assert not np.isnan(out).any()
    n_values = 5 if keep_empty_features else 4
    if keep_empty_features:
        np.testing.assert_array_equal(out[:, 2], 0.0)
    if add_indicator:
        np.testing.assert_array_equal(
            out[:, n_values:], MissingIndicator().fit_transform(X)
        )
    # The imputed columns are those of an imputer fitted without the empty
    # column.
    alone = GenerativeImputer(random_state=0, **QUICK).fit_transform(
        np.delete(X, 2, axis=1))
    imputed = np.delete(out[:, :n_values], 2, axis=1) if keep_empty_features else (
        out[:, :n_values])
    np.testing.assert_allclose(imputed, alone, rtol=1e-12)


def test_set_output_pandas():
    pd = pytest.importorskip("pandas")
    _, X_gaps = _gaussian_with_gaps(n=200, seed=7)
    frame = pd.DataFrame(X_gaps, columns=["a", "b", "c", "d"])
    imputer = GenerativeImputer(add_indicator=True, random_state=0, **QUICK)
    out = imputer.set_output(transform="pandas").fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == [
        "a", "b", "c", "d", "missingindicator_a", "missingindicator_b",
        "missingindicator_c", "missingindicator_d",
    ]
    assert not out.isna().any().any()


def test_float32_is_preserved():
    _, X_gaps = _gaussian_with_gaps(n=200, seed=8)
    out = GenerativeImputer(random_state=0, **QUICK).fit_transform(
        X_gaps.astype(np.float32))
    assert out.dtype == np.float32
    np.testing.assert_allclose(
        out, GenerativeImputer(random_state=0, **QUICK).fit_transform(X_gaps),
        rtol=1e-4,
        atol=1e-4,
    )


class _MeanModel(BaseEstimator):
    """A model that conditions through methods (not a Gaussian mixture)."""

    def fit(self, X):
        self.mean_ = X.mean(axis=0)
        return self

    def impute(self, X):
        return np.where(np.isnan(X), self.mean_, X)

    def sample_conditional(self, X, n_samples=1, *, random_state=None):
        return np.where(np.isnan(X), self.mean_ + 1.0, X)[None]


def test_any_model_with_impute_and_sample_conditional():
    _, X_gaps = _gaussian_with_gaps(seed=9)
    missing = np.isnan(X_gaps)
    filled = GenerativeImputer(_MeanModel()).fit_transform(X_gaps)
    complete = X_gaps[~missing.any(axis=1)]
    np.testing.assert_allclose(filled, np.where(missing, complete.mean(axis=0),
                                                X_gaps), rtol=1e-12)
    drawn = GenerativeImputer(_MeanModel(), strategy="sample").fit_transform(X_gaps)
    np.testing.assert_allclose(drawn[missing], filled[missing] + np.broadcast_to(
        np.nanstd(X_gaps, axis=0), X_gaps.shape)[missing], rtol=1e-10)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


def test_bad_input():
    _, X_gaps = _gaussian_with_gaps(seed=10)
    with pytest.raises(ValueError, match="infinity"):
        GenerativeImputer().fit(np.where(np.isnan(X_gaps), np.inf, X_gaps))
    with pytest.raises(ValueError, match=r"X contains NaN, but missing_values=-1"):
        GenerativeImputer(missing_values=-1).fit(X_gaps)
    imputer = GenerativeImputer(GaussianMixture(2), random_state=0).fit(X_gaps)
    with pytest.raises(ValueError, match="X has 3 features, but GenerativeImputer "
                       "is expecting 4 features"):
        imputer.transform(X_gaps[:, :3])
    # A model without NaN support learns from the complete rows only.
    complete = X_gaps[~np.isnan(X_gaps).any(axis=1)]
    no_complete_row = np.full((50, 4), np.nan)
    no_complete_row[:, 0] = 1.0
    plain = GenerativeImputer(SklearnGaussianMixture())
    with pytest.raises(ValueError, match=r"GaussianMixture does not accept "
                       r"missing values.*at least 5 \(one more than the "
                       r"features\); got 1 sample without"):
        plain.fit(np.vstack([complete[:1], no_complete_row]))
    with pytest.raises(ValueError, match="got 4 samples without"):
        plain.fit(np.vstack([complete[:4], no_complete_row]))
    plain.fit(np.vstack([complete[:5], no_complete_row]))
    # The default learns from rows with gaps, but needs two with an entry.
    with pytest.raises(ValueError, match="at least 2 rows with an observed "
                       "entry to fit its mixture; got 1 sample"):
        GenerativeImputer().fit(np.vstack([complete[:1], np.full((5, 4), np.nan)]))
    no_row_complete = np.random.default_rng(0).normal(size=(50, 3))
    no_row_complete[np.arange(50), np.arange(50) % 3] = np.nan
    GenerativeImputer().fit(no_row_complete)
    with pytest.raises(ValueError, match="Every feature of X is missing"):
        GenerativeImputer().fit(np.full((5, 3), np.nan))
    with pytest.raises(ValueError, match="strategy"):
        GenerativeImputer(strategy="median").fit(X_gaps)
    with pytest.raises(ValueError, match="missing_values"):
        GenerativeImputer(missing_values="?").fit(X_gaps)
    with pytest.raises(TypeError, match="needs a model it can condition"):
        GenerativeImputer(KernelDensity()).fit(X_gaps)
    with pytest.raises(NotFittedError):
        GenerativeImputer().transform(X_gaps)


# ---------------------------------------------------------------------------
# Tables: DataFrames with categorical columns
# ---------------------------------------------------------------------------


def _mixed_table(n=900, seed=0):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    x = np.select([group == "a", group == "b"], [0.0, 6.0], 12.0) + rng.normal(size=n)
    return pd.DataFrame({
        "group": pd.Categorical(group),
        "x": x,
        "y": 2.0 * x + rng.normal(size=n),
        "count": pd.array(rng.poisson(np.where(group == "c", 6.0, 1.0)), "Int64"),
    })


def _remove(df, share, seed):
    rng = np.random.default_rng(seed)
    gaps = df.copy()
    mask = rng.random(df.shape) < share
    mask[mask.all(axis=1), 0] = False
    for j, name in enumerate(df.columns):
        gaps.loc[mask[:, j], name] = None
    return gaps, mask


@pytest.fixture(scope="module")
def table_fit():
    df = _mixed_table()
    gaps, mask = _remove(df, 0.2, seed=1)
    imputer = GenerativeImputer(random_state=0).fit(gaps)
    return df, gaps, mask, imputer


def test_a_table_is_imputed_from_its_relations(table_fit):
    # A TabularMixture learns the groups: a missing group is read off x and
    # y, a missing x off the group and y; far better than the marginal fill.
    from skgen import TabularMixture

    df, gaps, mask, imputer = table_fit
    assert isinstance(imputer.estimator_, TabularMixture)
    filled = imputer.transform(gaps)
    assert (filled.dtypes == df.dtypes).all()
    assert filled.index.equals(gaps.index) and not filled.isna().any().any()
    assert filled.mask(mask, df).equals(df)  # observed entries untouched
    group_rows = mask[:, 0] & ~mask[:, 1]
    accuracy = (filled["group"][group_rows] == df["group"][group_rows]).mean()
    assert accuracy > 0.95  # the majority level alone: about 0.5
    x_rows = mask[:, 1]
    error = np.sqrt(((filled["x"] - df["x"])[x_rows] ** 2).mean())
    assert error < 0.3 * df["x"].std()
    simple = SimpleImputer(strategy="mean").fit(gaps[["x"]]).transform(gaps[["x"]])
    assert error < 0.3 * np.sqrt(((simple[:, 0] - df["x"])[x_rows] ** 2).mean())


def test_table_draws_are_reproducible_multiple_imputations(table_fit):
    df, gaps, mask, _ = table_fit
    imputer = GenerativeImputer(strategy="sample", random_state=3).fit(gaps)
    first = imputer.transform(gaps)
    assert first.equals(imputer.transform(gaps))
    other = imputer.set_params(random_state=4).transform(gaps)
    assert not first.equals(other)
    assert first.mask(mask, df).equals(df) and other.mask(mask, df).equals(df)
    # Draws of x given the rest scatter about the truth with about the
    # noise's spread (x given y and the group: sd about 0.45).
    residual = (first["x"] - df["x"])[mask[:, 1] & ~mask[:, 2]]
    assert 0.2 < residual.std() < 1.0


def test_table_indicator_names_and_bad_input(table_fit):
    df, gaps, mask, _ = table_fit
    imputer = GenerativeImputer(random_state=0, add_indicator=True).fit(gaps)
    out = imputer.transform(gaps)
    names = list(imputer.get_feature_names_out())
    assert list(out.columns) == names
    assert names[4:] == [f"missingindicator_{c}" for c in df.columns]
    np.testing.assert_array_equal(out.iloc[:, 4:].to_numpy(), mask)
    with pytest.raises(TypeError, match="needs a DataFrame"):
        imputer.transform(gaps.to_numpy())
    with pytest.raises(ValueError, match="must be NaN, None or pd.NA"):
        GenerativeImputer(missing_values=-1).fit(gaps)
    empty = gaps.assign(y=np.nan)
    with pytest.raises(ValueError, match="keep_empty_features"):
        GenerativeImputer(keep_empty_features=True).fit(empty)
    with pytest.warns(UserWarning, match="Skipping features"):
        dropped = GenerativeImputer(random_state=0).fit(empty)
    assert list(dropped.transform(empty).columns) == ["group", "x", "count"]
    with pytest.raises(ValueError, match="feature names"):
        imputer.transform(gaps.rename(columns={"x": "z"}))
