"""TabularMixture: densities in data units, samples like the table, errors."""

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from skgen import TabularMixture


def _table(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    city = rng.choice(["Oslo", "Rome", "Lima"], n, p=[0.6, 0.37, 0.03])
    height = np.where(city == "Oslo", rng.normal(180, 7, n), rng.normal(165, 6, n))
    return pd.DataFrame({
        "height": height,
        "children": rng.poisson(np.where(city == "Lima", 3.0, 1.0)),
        "city": pd.Categorical(city, categories=["Lima", "Oslo", "Rome", "Quito"]),
        "member": rng.random(n) < np.where(city == "Rome", 0.7, 0.2),
    })


@pytest.fixture(scope="module")
def fitted():
    df = _table()
    return df, TabularMixture(random_state=0).fit(df)


def test_samples_are_a_table_like_the_training_one(fitted):
    df, model = fitted
    samples = model.sample(4000, random_state=0)
    assert list(samples.columns) == list(df.columns)
    assert (samples.dtypes == df.dtypes).all()
    assert list(samples["city"].cat.categories) == list(df["city"].cat.categories)
    assert samples["children"].between(0, df["children"].max()).all()
    assert samples["height"].between(df["height"].min(), df["height"].max()).all()
    # the dependence between columns is kept, not only the marginals
    by_city = samples.groupby("city", observed=True)["height"].mean()
    assert by_city["Oslo"] - by_city["Rome"] > 10
    assert samples.loc[samples["city"] == "Rome", "member"].mean() > 0.5


def test_rare_categories_keep_their_share(fitted):
    df, model = fitted
    samples = model.sample(20000, random_state=1)
    real = df["city"].value_counts(normalize=True)
    synthetic = samples["city"].value_counts(normalize=True)
    for level in ["Lima", "Oslo", "Rome"]:
        assert 0.8 <= synthetic[level] / real[level] <= 1.25, level
    assert synthetic.get("Quito", 0) == 0


def test_auto_chooses_components_by_validation_likelihood(fitted):
    _, model = fitted
    scores = model.validation_scores_
    best = max(scores, key=scores.get)
    assert model.n_components_ > 1
    assert model.n_components_ >= best
    assert scores[best] > scores[1]


def test_auto_takes_the_largest_candidate_within_one_standard_error(monkeypatch):
    # Held-out means and paired standard errors chosen by hand: 4 is within
    # one error of 2, 8 is not, so the search stops at 8 and takes 4.
    means = {1: -3.0, 2: -2.0, 4: -2.01, 8: -2.2, 16: -1.0}
    model = TabularMixture()
    monkeypatch.setattr(model, "_fit_em", lambda *a, **k: (a[3], 0.0, 1, True))

    def validation_score(k, reference):
        n = 100.0
        ref = 0.0 if reference is None else means[reference]
        # paired differences of standard deviation 0.5: error 0.05
        difference = means[k] - ref
        return {"weight": n, "new": n * means[k], "ref": n * ref,
                "squares": n * (difference**2 + 0.25)}

    chosen, scores, params = model._select_n_components(
        None, None, 1000.0, 1000, None, validation_score, None)
    assert (chosen, params) == (4, 4)
    assert list(scores) == [1, 2, 4, 8]


def test_integer_and_categorical_probabilities_sum_to_one(fitted):
    df, _ = fitted
    columns = ["children", "city", "member"]
    model = TabularMixture(random_state=0).fit(df[columns])
    high = df["children"].max()
    rows = pd.DataFrame(
        list(itertools.product(range(0, high + 1), ["Lima", "Oslo", "Rome"],
                               [False, True])),
        columns=columns,
    ).astype(df[columns].dtypes.to_dict())
    assert np.exp(model.score_samples(rows)).sum() == pytest.approx(1, abs=1e-9)
    # integer probabilities are what the samples give
    samples = model.sample(40000, random_state=0)
    p_zero = np.exp(logsumexp(model.score_samples(rows[rows["children"] == 0])))
    assert abs((samples["children"] == 0).mean() - p_zero) < 0.01


def test_continuous_density_integrates_to_one(fitted):
    df, _ = fitted
    model = TabularMixture(random_state=0).fit(df[["height"]])
    grid = np.linspace(df["height"].min() - 30, df["height"].max() + 30, 200001)
    density = np.exp(model.score_samples(pd.DataFrame({"height": grid})))
    assert density.sum() * (grid[1] - grid[0]) == pytest.approx(1, abs=2e-3)


def test_k1_without_prior_is_sklearn_diag_gaussian():
    # With one component, no prior and the standard map, the model is a
    # diagonal Gaussian on the raw columns: scikit-learn fits the same one.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 3)) * [1.0, 10.0, 0.1] + [5.0, -2.0, 0.0]
    ours = TabularMixture(n_components=1, prior_strength=0.0, reg_covar=0.0,
                          numeric_transform="standard").fit(X)
    ref = SkGaussianMixture(1, covariance_type="diag", reg_covar=0.0).fit(X)
    np.testing.assert_allclose(ours.score_samples(X), ref.score_samples(X),
                               rtol=1e-9)


def test_scores_match_sklearn_with_the_same_parameters():
    rng = np.random.default_rng(4)
    X = np.vstack([rng.normal(0, 1, (300, 2)), rng.normal(6, 0.5, (200, 2))])
    ours = TabularMixture(n_components=2, numeric_transform="standard",
                          random_state=0).fit(X)
    # The mixture lives on standardised columns: map it back to the data.
    f = ours.encoder_._maps
    scale = np.array([m.slopes[0] for m in f])
    centre = np.array([m.x[0] - m.y[0] / m.slopes[0] for m in f])
    ref = SkGaussianMixture(2, covariance_type="diag")
    ref.weights_ = ours.weights_
    ref.means_ = ours.means_ / scale + centre
    ref.covariances_ = ours.variances_ / scale**2
    ref.precisions_cholesky_ = 1 / np.sqrt(ref.covariances_)
    np.testing.assert_allclose(ours.score_samples(X), ref.score_samples(X),
                               rtol=1e-9)
    proba = ours.predict_proba(X)
    np.testing.assert_allclose(proba, ref.predict_proba(X), atol=1e-9)
    np.testing.assert_array_equal(ours.predict(X), proba.argmax(1))


def test_categories_only_k1_is_the_empirical_distribution():
    rng = np.random.default_rng(5)
    a = rng.choice(list("xyz"), 500, p=[0.5, 0.3, 0.2])
    df = pd.DataFrame({"a": pd.Categorical(a), "b": rng.random(500) < 0.4})
    model = TabularMixture(n_components=1, prior_strength=0.0).fit(df)
    expected = np.log(df["a"].map(df["a"].value_counts(normalize=True)).astype(float)
                      ) + np.log(df["b"].map(df["b"].value_counts(normalize=True)))
    np.testing.assert_allclose(model.score_samples(df), expected, rtol=1e-10)
    # with a prior, the shares are unchanged for one component
    model = TabularMixture(n_components=1, prior_strength=5.0).fit(df)
    np.testing.assert_allclose(model.score_samples(df), expected, rtol=1e-10)


def test_weights_equal_repeated_rows():
    rng = np.random.default_rng(6)
    X = np.vstack([rng.normal(0, 1, (60, 2)), rng.normal(5, 1, (60, 2))])
    w = rng.integers(0, 3, X.shape[0])
    a = TabularMixture(random_state=0).fit(X, sample_weight=w)
    b = TabularMixture(random_state=0).fit(np.repeat(X, w, axis=0))
    assert a.n_components_ == b.n_components_
    np.testing.assert_allclose(a.score_samples(X), b.score_samples(X), rtol=1e-7)


def test_same_random_state_same_model_and_samples():
    df = _table(400)
    a = TabularMixture(random_state=7).fit(df)
    b = TabularMixture(random_state=7).fit(df)
    np.testing.assert_array_equal(a.weights_, b.weights_)
    pd.testing.assert_frame_equal(a.sample(50), b.sample(50))
    assert not a.sample(50, random_state=1).equals(a.sample(50, random_state=2))


def test_many_components_fit(fitted):
    df, _ = fitted
    model = TabularMixture(n_components=300, max_iter=20, random_state=0)
    with warnings.catch_warnings():  # it may stop at max_iter
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(df)
    assert model.weights_.shape == (300,)
    np.testing.assert_allclose(model.predict_proba(df).sum(1), 1)
    assert np.isfinite(model.score_samples(df)).all()


def test_unknown_categories_raise_or_get_the_floor(fitted):
    df, model = fitted
    new = df.head(4).copy()
    new["city"] = pd.Categorical(["Oslo", "Quito", "Oslo", "Rome"],
                                 categories=df["city"].cat.categories)
    with pytest.raises(ValueError, match="'city'.*handle_unknown"):
        model.score_samples(new)
    floor = TabularMixture(random_state=0, handle_unknown="floor").fit(df)
    scores = floor.score_samples(new)
    assert np.isfinite(scores).all()
    known = floor.score_samples(df.head(4))
    assert scores[1] < known[1] - np.log(len(df)) + 2


def test_bic_and_aic_grow_with_parameters(fitted):
    df, _ = fitted
    small = TabularMixture(n_components=1, random_state=0).fit(df)
    big = TabularMixture(n_components=2, random_state=0).fit(df)
    n = len(df)
    assert small.bic(df) == pytest.approx(-2 * small.score(df) * n
                                          + small._n_parameters() * np.log(n))
    assert big._n_parameters() == small._n_parameters() * 2 + 1
    assert big.aic(df) - small.aic(df) == pytest.approx(
        -2 * n * (big.score(df) - small.score(df)) + 2 * (big._n_parameters()
                                                         - small._n_parameters()))


def test_bad_input_gets_clear_errors(fitted):
    df, model = fitted
    with pytest.raises(ValueError, match="feature names"):
        model.score_samples(df[["city", "height", "children", "member"]])
    with pytest.raises(ValueError, match="3 features"):
        model.score_samples(df.iloc[:, :3].to_numpy())
    bad = df.copy()
    bad["when"] = np.arange(len(bad)) * (1 + 1j)  # complex: no model takes it
    with pytest.raises(TypeError, match="'when'"):
        TabularMixture().fit(bad)
    with pytest.raises(ValueError, match="n_components=5000"):
        TabularMixture(n_components=5000).fit(df)
    with pytest.raises(ValueError, match="n_samples"):
        model.sample(0)


def test_stacked_linear_product_computes_the_product_pass():
    # One GEMM over stacked feature maps must give the parts' own pass.
    import torch

    from skgen.mixture._engine.families import (
        CategoricalFamily,
        ExpandedGaussianFamily,
        LinearProductFamily,
        ProductFamily,
    )
    from skgen.mixture._engine.passes import em_pass
    from skgen.mixture._engine.sources import TensorSource

    rng = np.random.default_rng(8)
    k, n = 5, 300
    codes = rng.integers(0, 3, n)
    X = np.hstack([rng.normal(size=(n, 2)), np.eye(3)[codes]])
    t = torch.as_tensor
    params = {
        "weights": t(rng.dirichlet(np.ones(k))),
        "parts": (
            {"weights": torch.ones(k, dtype=torch.float64),
             "means": t(rng.normal(size=(k, 2))),
             "prec_chol": t(rng.uniform(0.5, 2, (k, 2)))},
            {"log_proba": t(np.log(rng.dirichlet(np.ones(3), k)))},
        ),
    }
    parts = [
        (ExpandedGaussianFamily("diag", 0.0), slice(0, 2)),
        (CategoricalFamily([3], t(np.full(3, 1 / 3)), 0.5), slice(2, None)),
    ]
    shift = (torch.zeros(2, dtype=torch.float64), None)
    results = []
    for family in (ProductFamily(parts), LinearProductFamily(parts)):
        frame = family.frame(params, shift, torch.float64)
        stats, log_lik = em_pass(family, frame, TensorSource(t(X)))
        nk, (gauss, cat) = family.m_step(frame, stats, 1e-16)
        results.append((float(log_lik), nk, gauss[1], gauss[2], cat["log_proba"]))
    (a, *rest_a), (b, *rest_b) = results
    assert a == pytest.approx(b, rel=1e-12)
    for x, y in zip(rest_a, rest_b, strict=True):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-10)
    # and the log-likelihood is the mixture's, computed here by hand
    gauss = params["parts"][0]
    means, prec = gauss["means"].numpy(), gauss["prec_chol"].numpy()
    log_gauss = (-0.5 * ((X[:, None, :2] - means) * prec) ** 2).sum(-1) + np.log(
        prec).sum(-1) - np.log(2 * np.pi)
    log_cat = params["parts"][1]["log_proba"].numpy()[:, codes].T
    log_w = np.log(params["weights"].numpy())
    expected = logsumexp(log_w + log_gauss + log_cat, axis=1)
    assert a == pytest.approx(expected.sum(), rel=1e-10)


def _with_gaps(df, share=0.15, seed=100):
    rng = np.random.default_rng(seed)
    gaps = df.astype({"children": "Int64", "member": "boolean"})
    for name in gaps.columns:
        gaps.loc[rng.random(len(gaps)) < share, name] = None
    return gaps


@pytest.fixture(scope="module")
def fitted_with_gaps():
    df = _table()
    gaps = _with_gaps(df)
    return df, gaps, TabularMixture(random_state=0).fit(gaps)


def test_missing_entries_are_marginalised_exactly(fitted_with_gaps):
    df, _, model = fitted_with_gaps
    row = df.iloc[[5]].astype({"children": "Int64", "member": "boolean"})
    levels = ["Lima", "Oslo", "Rome"]
    every_city = pd.concat([
        row.assign(city=pd.Categorical([c], categories=df["city"].cat.categories))
        for c in levels
    ])
    no_city = row.assign(city=np.nan)
    assert model.score_samples(no_city)[0] == pytest.approx(
        logsumexp(model.score_samples(every_city)), rel=1e-10)
    every_count = pd.concat([row.assign(children=v) for v in
                             range(df["children"].max() + 1)])
    every_count = every_count.astype(row.dtypes.to_dict())
    no_count = row.assign(children=pd.array([None], dtype="Int64"))
    assert model.score_samples(no_count)[0] == pytest.approx(
        logsumexp(model.score_samples(every_count)), rel=1e-10)
    # (a missing continuous entry drops out the same way; its integral over a
    # grid is checked on the model without gaps above)


def test_one_component_with_gaps_learns_each_column_from_its_entries():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(400, 3)) * [1.0, 5.0, 0.2] + [3.0, 0.0, -1.0]
    gaps = rng.random(X.shape) < 0.3
    gaps[gaps.all(axis=1), 0] = False  # a row with nothing observed raises
    X[gaps] = np.nan
    model = TabularMixture(n_components=1, prior_strength=0.0, reg_covar=0.0,
                           numeric_transform="standard").fit(X)
    f = model.encoder_._maps
    scale = np.array([m.slopes[0] for m in f])
    centre = np.array([m.x[0] - m.y[0] / m.slopes[0] for m in f])
    np.testing.assert_allclose(model.means_[0] / scale + centre, np.nanmean(X, 0),
                               rtol=1e-10)
    np.testing.assert_allclose(model.variances_[0] / scale**2, np.nanvar(X, 0),
                               rtol=1e-10)
    # the conditional mean of a column is then its observed mean (up to the
    # clipping of draws to the training range)
    filled = model.impute(X)
    missing = np.isnan(X)
    np.testing.assert_allclose(filled[~missing], X[~missing])
    expected = np.broadcast_to(np.nanmean(X, 0), X.shape)
    tolerance = np.broadcast_to(0.01 * np.nanstd(X, 0), X.shape)
    assert (np.abs(filled - expected)[missing] < tolerance[missing]).all()


def test_impute_fills_categories_with_the_most_probable_level(fitted_with_gaps):
    _, gaps, model = fitted_with_gaps
    filled = model.impute(gaps)
    assert not filled.isna().any().any()
    assert (filled.dtypes == gaps.dtypes).all()
    observed = gaps.notna()
    pd.testing.assert_frame_equal(filled[observed.all(axis=1)],
                                  gaps[observed.all(axis=1)])
    # members are mostly in Rome: a row in Rome missing 'member' gets True
    rome = gaps["city"].eq("Rome") & gaps["member"].isna()
    assert filled.loc[rome, "member"].mean() > 0.8
    # heights of rows missing them follow their city
    tall = gaps["height"].isna() & gaps["city"].eq("Oslo")
    short = gaps["height"].isna() & gaps["city"].eq("Rome")
    assert filled.loc[tall, "height"].mean() - filled.loc[short, "height"].mean() > 8


def test_conditional_draws_keep_observed_entries(fitted_with_gaps):
    _, gaps, model = fitted_with_gaps
    rows = gaps.head(40)
    draws = model.sample_conditional(rows, n_samples=3, random_state=0)
    assert draws.index.names[0] == "draw"
    assert (draws.dtypes == rows.dtypes).all()
    for i in range(3):
        draw = draws.xs(i, level="draw")
        assert not draw.isna().any().any()
        observed = rows.notna().to_numpy()
        assert (draw.to_numpy()[observed] == rows.to_numpy()[observed]).all()
    assert not draws.xs(0, level="draw").equals(draws.xs(1, level="draw"))
    again = model.sample_conditional(rows, n_samples=3, random_state=0)
    pd.testing.assert_frame_equal(draws, again)


def test_gaps_that_cannot_be_modelled_raise():
    df = _table(100)
    with pytest.raises(ValueError, match="'height' has no observed value"):
        TabularMixture().fit(df.assign(height=np.nan))
    with pytest.raises(ValueError, match="'height' has infinite values"):
        TabularMixture().fit(df.assign(height=np.inf))
    empty = _with_gaps(df)
    empty.iloc[3] = None
    with pytest.raises(ValueError, match="1 row.*no observed entry.*row 3"):
        TabularMixture().fit(empty)
    model = TabularMixture(random_state=0).fit(_with_gaps(df))
    with pytest.raises(ValueError, match="no observed entry"):
        model.score_samples(empty.iloc[2:5])


def test_a_missing_values_marker_is_a_gap():
    df = _table(300)
    numbers = df.assign(height=df["height"].where(df.index % 7 != 0, -1.0))
    numbers_nan = df.assign(height=df["height"].where(df.index % 7 != 0))
    words = df.astype({"city": "object"})
    words.loc[::5, "city"] = "?"
    words_nan = words.replace({"city": {"?": None}})
    for marked, gaps, marker in [(numbers, numbers_nan, -1.0),
                                 (words, words_nan, "?")]:
        a = TabularMixture(n_components=2, random_state=0, missing_values=marker)
        b = TabularMixture(n_components=2, random_state=0)
        a.fit(marked)
        b.fit(gaps)
        np.testing.assert_allclose(a.weights_, b.weights_)
        np.testing.assert_allclose(a.score_samples(marked), b.score_samples(gaps))
        pd.testing.assert_frame_equal(a.impute(marked), b.impute(gaps))
        with pytest.raises(ValueError, match="X contains NaN, but missing_values"):
            a.fit(gaps)


def test_candidates_are_fitted_on_a_bounded_share_of_the_rows(monkeypatch):
    import skgen.mixture._split as split
    import skgen.mixture._tabular as tabular

    df = _table(1000)
    monkeypatch.setattr(tabular, "_SELECTION_ROWS", 90)
    model = TabularMixture(random_state=0).fit(df)
    # eight rows per component at least: 90 rows allow 8 components, not 16
    assert max(model.validation_scores_) <= 8
    encoded = model.encoder_.transform(df)
    rng = np.random.default_rng(0)
    hash_params = (rng.normal(size=encoded.shape[1]), 0.3, 0.1, 0.1)
    held = split.held_out(encoded, hash_params)
    chosen = split.selected(encoded, hash_params)
    assert not (held & chosen).any()
    assert 0.05 < held.mean() < 0.15
    assert 0.05 < chosen.mean() < 0.13  # a tenth of the other nine tenths
    # the final model is fitted on every row: its shares are the data's
    synthetic = model.sample(20000, random_state=0)
    for level in ["Oslo", "Rome"]:
        share = np.mean(synthetic["city"] == level) / np.mean(df["city"] == level)
        assert 0.9 < share < 1.1


def test_rows_with_nothing_observed_are_filled_from_the_mixture(fitted):
    # Imputing or drawing a row with no observed entry conditions on
    # nothing: the mixture's own expectation and most probable level (as
    # GaussianMixture.impute gives the mixture's mean), and draws whose law
    # is the mixture's; scoring such a row stays an error.
    df, model = fitted
    rows = df.iloc[:3].astype({"children": "Int64", "member": "boolean"})
    rows.iloc[1] = None
    filled = model.impute(rows)
    samples = model.sample(40_000, random_state=1)
    assert filled.iloc[1]["city"] == samples["city"].mode()[0]
    spread = samples["height"].std() / np.sqrt(len(samples))
    assert abs(filled.iloc[1]["height"] - samples["height"].mean()) < 5 * spread
    pd.testing.assert_frame_equal(filled.iloc[[0, 2]], rows.iloc[[0, 2]])
    draws = model.sample_conditional(rows, n_samples=2000, random_state=0)
    empty_draws = draws.xs(1, level=1)
    assert not empty_draws.isna().any().any()
    shares = empty_draws["city"].value_counts(normalize=True)
    expected = samples["city"].value_counts(normalize=True)
    assert abs(shares["Rome"] - expected["Rome"]) < 0.04
    with pytest.raises(ValueError, match="no observed entry"):
        model.score_samples(rows)


def test_auto_holds_on_a_table_of_repeated_rows():
    rng = np.random.default_rng(8)
    # no integer column: its dequantization draws differ between copies
    base = pd.DataFrame({"a": rng.choice(["x", "y", "z"], 30),
                         "b": rng.normal(size=30), "c": rng.normal(size=30)})
    stacked = pd.concat([base] * 30, ignore_index=True)  # under n_quantiles rows
    model = TabularMixture(random_state=0).fit(stacked)
    # copies fall on both sides of the split, as a random split puts them:
    # the held-out rows are rows the model has seen, so it keeps them all
    assert model.n_components_ == 30
    draws = model.sample(2000, random_state=0)
    nearest = np.abs(draws["c"].to_numpy()[:, None] - base["c"].to_numpy()).min(1)
    assert np.mean(nearest < 0.05) > 0.9
    # a weight is copies of its row to the choice too
    weighted = TabularMixture(random_state=0).fit(base, sample_weight=np.full(30, 30))
    assert weighted.n_components_ == model.n_components_


def test_weights_of_two_and_more_equal_copies_in_the_held_out_choice():
    rng = np.random.default_rng(9)
    # more values than half the weight: continuous columns (discrete ones
    # dequantize each copy with its own draw)
    X = np.vstack([rng.normal(0, 1, (100, 3)), rng.normal(4, 1, (100, 3))])
    w = rng.integers(0, 4, X.shape[0])
    a = TabularMixture(random_state=0).fit(X, sample_weight=w)
    b = TabularMixture(random_state=0).fit(np.repeat(X, w, axis=0))
    assert a.validation_scores_.keys() == b.validation_scores_.keys()
    for k, score in a.validation_scores_.items():
        assert b.validation_scores_[k] == pytest.approx(score, rel=1e-9)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-9)


def test_a_heavy_tail_keeps_its_mean_and_upper_quantiles():
    rng = np.random.default_rng(0)
    n = 2000
    df = pd.DataFrame({"w": rng.lognormal(0.0, 1.5, n), "g": rng.choice(["a", "b"], n)})
    model = TabularMixture(random_state=0).fit(df)
    draws = pd.concat([model.sample(n, random_state=r) for r in range(10)])
    standard_error = df["w"].std() / np.sqrt(n)
    assert abs(draws["w"].mean() - df["w"].mean()) < 2 * standard_error
    # within the sampling error of 2000 real rows' quantiles (20 rows above
    # the 99th percentile)
    for q, rel in ((0.9, 0.1), (0.99, 0.2)):
        assert draws["w"].quantile(q) == pytest.approx(df["w"].quantile(q), rel=rel)
    assert draws["w"].max() <= df["w"].max()
