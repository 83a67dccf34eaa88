"""The VAE with missing entries: MIWAE training, scores, impute, draws."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.special import logsumexp

from skgen import VAE
from skgen.impute import GenerativeImputer

TINY = dict(latent_dim=2, hidden_layer_sizes=(8,), n_importance_samples=32,
            max_epochs=3, random_state=0)


def _linear(n=500, seed=0):
    """x2 = 2 x1 + small noise, x3 independent: x2 is known from x1."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    return np.c_[x1, 2 * x1 + 0.1 * rng.normal(size=n), rng.normal(size=n)]


def _with_gaps(X, share, seed=0):
    rng = np.random.default_rng(seed)
    missing = rng.random(X.shape) < share
    missing[missing.all(axis=1), 0] = False
    X_gaps = X.copy()
    X_gaps[missing] = np.nan
    return X_gaps, missing


@pytest.fixture(scope="module")
def linear_fit():
    """A VAE trained on the linear data with 30% of the entries missing."""
    X = _linear()
    X_gaps, missing = _with_gaps(X, 0.3)
    # One latent dimension is the model of this law: x3 is decoder noise.
    vae = VAE(latent_dim=1, hidden_layer_sizes=(16, 16), n_decoder_components=1,
              support_fraction=1.0, early_stopping=False, max_epochs=150, lr=1e-2,
              random_state=0).fit(X_gaps)
    return vae, X, X_gaps, missing


# ---------------------------------------------------------------- the bound


def test_masked_likelihood_equals_unmasked_on_complete_rows():
    X = _linear(100)
    vae = VAE(**TINY).fit(X)
    module = vae._inference_module()
    x = torch.as_tensor(X[:20])
    all_observed = torch.ones_like(x, dtype=torch.bool)
    with torch.no_grad():
        plain = module.importance(x, module.eps)[0]
        masked = module.importance(x, module.eps, observed=all_observed)[0]
    np.testing.assert_allclose(masked.numpy(), plain.numpy(), rtol=1e-12)


@pytest.mark.parametrize("kwargs", [{}, {"n_decoder_components": 1},
                                    {"dequantize": True}])
def test_value_under_a_gap_changes_nothing(kwargs):
    # The encoder and the likelihood must both ignore a masked entry.
    X = np.round(_linear(100) * 3)
    vae = VAE(**{**TINY, **kwargs}).fit(X)
    module = vae._inference_module()
    observed = torch.ones((5, 3), dtype=torch.bool)
    observed[:, 1] = False
    weights = []
    for value in (-50.0, 0.0, 7.0):
        x = torch.as_tensor(X[:5].copy())
        x[:, 1] = value
        offsets = module.offsets if module.n_dequantized else None
        with torch.no_grad():
            weights.append(module.importance(x, module.eps, offsets, observed)[0])
    torch.testing.assert_close(weights[0], weights[1], rtol=0, atol=0)
    torch.testing.assert_close(weights[0], weights[2], rtol=0, atol=0)
    # And a masked entry changes the weights from those of the full row.
    with torch.no_grad():
        full = module.importance(torch.as_tensor(X[:5]), module.eps, offsets)[0]
    assert not torch.allclose(full, weights[0])


def test_score_of_a_gap_is_the_marginal_over_the_missing_entry():
    # log p(x1, x3) = log of the integral of p(x1, x2, x3) over x2, by
    # quadrature of the model's own complete-row scores.
    X_gaps, _ = _with_gaps(_linear(400), 0.3)
    vae = VAE(latent_dim=1, hidden_layer_sizes=(8,), n_decoder_components=1,
              max_epochs=10, early_stopping=False, n_importance_samples=2048,
              importance_tol=0.0, random_state=0).fit(X_gaps)
    for row in ([0.5, np.nan, 0.3], [-1.0, np.nan, 1.5]):
        row = np.array(row)
        grid = np.linspace(-10, 10, 801)
        full = np.tile(row, (grid.size, 1))
        full[:, 1] = grid
        brute = logsumexp(vae.score_samples(full)) + np.log(grid[1] - grid[0])
        assert vae.score_samples(row[None])[0] == pytest.approx(brute, abs=0.02)


def test_scores_of_gaps_rows_do_not_depend_on_the_batch():
    X_gaps, _ = _with_gaps(_linear(200), 0.3)
    vae = VAE(**TINY).fit(X_gaps)
    together = vae.score_samples(X_gaps)
    alone = np.array([vae.score_samples(row[None])[0] for row in X_gaps[:10]])
    np.testing.assert_allclose(together[:10], alone, rtol=1e-10)
    assert np.all(np.isfinite(together))


def test_row_with_nothing_observed():
    vae = VAE(**TINY).fit(_with_gaps(_linear(200), 0.3)[0])
    empty = np.full((1, 3), np.nan)
    rows = np.vstack([np.zeros((1, 3)), empty, np.zeros((1, 3))])
    with pytest.raises(ValueError, match=r"1 row\(s\).*no observed entry.*row\(s\) 1"):
        vae.score_samples(rows)
    with pytest.raises(ValueError, match="empty_rows='prior'"):
        vae.predict(empty)
    prior = vae.set_params(empty_rows="prior")
    assert prior.score_samples(empty)[0] == 0.0  # the probability of nothing
    assert np.all(np.isfinite(vae.impute(empty)))
    assert np.all(np.isfinite(vae.sample_conditional(empty, 3, random_state=0)))


def test_missing_values_marker():
    X_gaps, missing = _with_gaps(_linear(200), 0.3)
    marked = np.where(missing, -999.0, X_gaps)
    a = VAE(**TINY).fit(X_gaps)
    b = VAE(**TINY, missing_values=-999.0).fit(marked)
    np.testing.assert_array_equal(a.score_samples(X_gaps), b.score_samples(marked))
    np.testing.assert_array_equal(a.impute(X_gaps), b.impute(marked))
    with pytest.raises(ValueError, match="missing_values=-999.0"):
        b.score_samples(X_gaps)


# ------------------------------------------------------------ imputation


def test_impute_recovers_a_linear_relation(linear_fit):
    vae, X, X_gaps, missing = linear_fit
    filled = vae.impute(X_gaps)
    np.testing.assert_array_equal(filled[~missing], X[~missing])
    known = missing[:, 1] & ~missing[:, 0]
    rmse = np.sqrt(np.mean((filled[known, 1] - X[known, 1]) ** 2))
    rmse_mean = np.sqrt(np.mean((np.nanmean(X_gaps[:, 1]) - X[known, 1]) ** 2))
    assert rmse < 0.25 * rmse_mean


def test_sample_conditional_scatters_around_the_relation(linear_fit):
    vae = linear_fit[0]
    rows = np.array([[1.0, np.nan, np.nan], [-1.0, np.nan, 0.5]])
    draws = vae.sample_conditional(rows, 400, random_state=0)
    assert draws.shape == (400, 2, 3)
    np.testing.assert_array_equal(draws[:, 0, 0], 1.0)
    np.testing.assert_array_equal(draws[:, 1, [0, 2]], [[-1.0, 0.5]] * 400)
    # x2 given x1 is tight around 2 x1; x3 is independent of x1, N(0, 1).
    x2 = draws[:, :, 1]
    np.testing.assert_allclose(x2.mean(0), [2.0, -2.0], atol=0.3)
    assert np.all(x2.std(0) < 0.25 * 2.0)
    assert 0.6 < draws[:, 0, 2].std() < 1.5
    assert np.all(x2.std(0) < 0.6 * draws[:, 0, 2].std())
    # The draws' mean is the imputation, within the error of 400 draws.
    # The draws' mean estimates the imputation (each a self-normalised
    # importance estimate over 128 draws, hence some bias and scatter).
    np.testing.assert_allclose(x2.mean(0), vae.impute(rows)[:, 1], atol=0.15)


def test_sample_conditional_randomness():
    vae = VAE(**TINY).fit(_with_gaps(_linear(200), 0.3)[0])
    rows = _with_gaps(_linear(20, seed=1), 0.3, seed=1)[0]
    state = torch.get_rng_state()
    a = vae.sample_conditional(rows, 2, random_state=1)
    np.testing.assert_array_equal(a, vae.sample_conditional(rows, 2, random_state=1))
    assert not np.array_equal(a, vae.sample_conditional(rows, 2, random_state=2))
    assert not np.array_equal(a[0], a[1])
    assert torch.equal(state, torch.get_rng_state())


# -------------------------------------------------------- GenerativeImputer


@pytest.mark.parametrize("strategy", ["mean", "sample"])
def test_generative_imputer_with_the_vae(strategy):
    X = _linear(300)
    X_gaps, missing = _with_gaps(X, 0.3)
    model = VAE(latent_dim=2, hidden_layer_sizes=(16,), max_epochs=20,
                random_state=0)
    imputer = GenerativeImputer(model, strategy=strategy, random_state=0)
    filled = imputer.fit_transform(X_gaps)
    assert filled.shape == X.shape and np.all(np.isfinite(filled))
    np.testing.assert_array_equal(filled[~missing], X[~missing])
    if strategy == "sample":
        again = GenerativeImputer(model, strategy=strategy, random_state=0)
        np.testing.assert_array_equal(again.fit_transform(X_gaps), filled)
        other = imputer.set_params(random_state=1).transform(X_gaps)
        assert not np.array_equal(other[missing], filled[missing])


# ------------------------------------------------------------------ tables


def test_table_with_missing_numbers_and_categories():
    rng = np.random.default_rng(0)
    n = 300
    x = rng.normal(size=n)
    df = pd.DataFrame({
        "x": x,
        "k": rng.poisson(3.0, n).astype(float),
        "c": pd.Categorical(np.where(x > 0, "pos", "neg")),
    })
    gaps = df.copy()
    gaps.loc[rng.random(n) < 0.2, "x"] = np.nan
    gaps.loc[rng.random(n) < 0.2, "k"] = np.nan
    gaps.loc[rng.random(n) < 0.2, "c"] = None
    gaps = gaps[gaps.notna().any(axis=1)]
    vae = VAE(latent_dim=2, hidden_layer_sizes=(16,), max_epochs=30,
              random_state=0).fit(gaps)
    assert np.all(np.isfinite(vae.score_samples(gaps)))
    filled = vae.impute(gaps)
    assert list(filled.dtypes) == list(df.dtypes)
    assert not filled.isna().any().any()
    pd.testing.assert_frame_equal(filled[gaps.notna()], gaps, check_dtype=False)
    drawn = vae.sample_conditional(gaps.iloc[:5], 3, random_state=0)
    assert drawn.index.names[0] == "draw" and len(drawn) == 15
    assert not drawn.isna().any().any()
    unseen = gaps.iloc[:2].copy()
    unseen["c"] = pd.Categorical(["zero", "neg"])
    with pytest.raises(ValueError, match="not seen in fit"):
        vae.impute(unseen)


# ------------------------------------------------------------------ errors


def test_errors():
    X_gaps, _ = _with_gaps(_linear(100), 0.3)
    empty_row = X_gaps.copy()
    empty_row[3] = np.nan
    with pytest.raises(ValueError, match="no observed entry"):
        VAE(**TINY).fit(empty_row)
    empty_column = _linear(100)
    empty_column[:, 2] = np.nan
    with pytest.raises(ValueError, match=r"Column\(s\) \[2\]"):
        VAE(**TINY).fit(empty_column)
    with_inf = X_gaps.copy()
    with_inf[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        VAE(**TINY).fit(with_inf)
    vae = VAE(**TINY).fit(X_gaps)
    for method in (vae.score_samples, vae.impute, vae.sample_conditional):
        with pytest.raises(ValueError, match="infinity"):
            method(with_inf)
        with pytest.raises(ValueError, match="3 features"):
            method(X_gaps[:, :2])
    with pytest.raises(ValueError, match="n_samples"):
        vae.sample_conditional(X_gaps, 0)
    with pytest.raises(ValueError, match="X contains NaN, but missing_values"):
        VAE(**TINY, missing_values=-1).fit(X_gaps)


def _table_with_mar_gaps(n=3000, seed=0):
    """y is missing at random given c: 5%, 10% and 50% by level."""
    rng = np.random.default_rng(seed)
    c = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    x = rng.normal(np.select([c == "a", c == "b"], [0.0, 4.0], 8.0), 1.0)
    y = 2 * x + rng.normal(0, 1, n)
    y[rng.random(n) < np.select([c == "a", c == "b"], [0.05, 0.10], 0.50)] = np.nan
    d = rng.choice(["u", "v"], n).astype(object)
    d[rng.random(n) < 0.08] = None
    return pd.DataFrame({"c": pd.Categorical(c), "x": x, "y": y, "d": d})


@pytest.fixture(scope="module")
def table_fit():
    df = _table_with_mar_gaps()
    return df, VAE(random_state=0, max_epochs=60).fit(df)


def test_samples_keep_the_tables_gaps(table_fit):
    df, vae = table_fit
    s = vae.sample(10000, random_state=1)
    assert (s.dtypes == df.dtypes).all()
    assert s["c"].notna().all() and s["x"].notna().all()
    assert abs(s["d"].isna().mean() - df["d"].isna().mean()) < 0.02

    def shares(t):
        return t["y"].isna().groupby(t["c"].astype(str)).mean()

    np.testing.assert_allclose(shares(s), shares(df), atol=0.05)
    # overall, y's share is the real rates over the sampled levels (the
    # VAE's own share of each level is a matter of its fit, not of its gaps)
    levels = s["c"].astype(str).value_counts(normalize=True)
    assert abs(s["y"].isna().mean() - (levels * shares(df)).sum()) < 0.02


def test_gaps_follow_a_logistic_model_of_the_other_columns(table_fit):
    df, vae = table_fit
    model = vae.missingness_
    # the columns with gaps, in the encoder's order (numbers, then categories)
    assert model.columns.tolist() == [1, 3]
    # y's gaps depend on the level of c, not on y itself
    assert model.coef[0, 1] == 0.0
    assert np.abs(model.coef[0, 2:5]).max() > 0.5


def test_complete_rows_on_request_and_without_gaps(table_fit):
    df, vae = table_fit
    complete = vae.set_params(sample_gaps=False).sample(500, random_state=0)
    vae.set_params(sample_gaps=True)
    assert not complete.isna().any().any()
    X = np.random.default_rng(0).normal(size=(300, 3))
    full = VAE(**TINY).fit(X)
    assert full.missingness_ is None
    X[::4, 1] = np.nan
    gappy = VAE(**TINY).fit(X)
    draws = gappy.sample(4000, random_state=0)
    assert abs(np.isnan(draws[:, 1]).mean() - 0.25) < 0.03
    assert not np.isnan(draws[:, [0, 2]]).any()
    np.testing.assert_array_equal(draws, gappy.sample(4000, random_state=0))
