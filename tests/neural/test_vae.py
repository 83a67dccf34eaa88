"""Tests of skgen.VAE: its likelihood, its determinism and its sklearn contract."""

import functools
import pickle
import random
import re
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.integrate import trapezoid
from scipy.stats import binom, expon, multivariate_normal, poisson
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback

from skgen import VAE

# Small, fast settings shared by most tests.
FAST = dict(hidden_layer_sizes=(32, 32), max_epochs=4, early_stopping=False)


def _correlated_gaussian(rng, n_samples):
    """A 4-D Gaussian with strong correlations, far from the origin and not
    at unit scale, so that the standardisation and its Jacobian matter."""
    A = np.array(
        [[1.0, 0.0, 0.0, 0.0], [0.8, 0.6, 0.0, 0.0], [0.5, -0.3, 0.8, 0.0],
         [-0.4, 0.2, 0.1, 0.9]]
    )
    mean = np.array([10.0, -5.0, 3.0, 0.0])
    cov = 9.0 * A @ A.T
    X = rng.multivariate_normal(mean, cov, size=n_samples)
    return X, multivariate_normal(mean, cov)


@functools.cache
def _fitted():
    """One small model and its training data, shared by the read-only tests."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3)) @ np.array([[2.0, 0.5, 0.0], [0.0, 1.0, 0.3],
                                              [0.0, 0.0, 0.5]]) + 1.0
    return VAE(2, random_state=0, **FAST).fit(X), X


# ------------------------------------------------------------- likelihood


def test_score_is_the_log_density_of_a_correlated_gaussian():
    rng = np.random.default_rng(0)
    X, truth = _correlated_gaussian(rng, 6000)
    X_train, X_test = X[:4000], X[4000:]
    vae = VAE(latent_dim=4, max_epochs=60, random_state=0).fit(X_train)
    true_mean = truth.logpdf(X_test).mean()
    assert abs(vae.score(X_test) - true_mean) < 0.2


def _reference_scores(vae, X, n_draws, seed=0):
    """A slow IWAE estimate of log p(x) with ``n_draws`` fresh independent draws.

    Written from the model's definition (prior, encoder, decoder), not from
    the estimator's scoring: z_j = mu + std * eps_j with eps_j ~ N(0, I),
    log w_j = log p(x | z_j) + log N(z_j; 0, I) - log N(z_j; mu, std^2).
    """
    module = vae.net_.module_
    generator = torch.Generator().manual_seed(seed)
    x = torch.as_tensor(X, dtype=torch.float32)
    with torch.no_grad():
        mu, log_var = module.encode(x)
        std = torch.exp(0.5 * log_var)
        prior = torch.distributions.Normal(0.0, 1.0)
        posterior = torch.distributions.Normal(mu[:, None], std[:, None])
        log_w = []
        for _ in range(n_draws // 256):
            eps = torch.randn(len(X), 256, mu.shape[1], generator=generator)
            z = mu[:, None] + std[:, None] * eps
            out = module.decoder(z)
            x_std = (x - module.loc) / module.scale
            log_px = module.log_likelihood(x_std[:, None, :].expand(-1, 256, -1), out)
            log_w.append(log_px.double() + prior.log_prob(z).sum(-1).double()
                         - posterior.log_prob(z).sum(-1).double())
        log_w = torch.cat(log_w, dim=1)
        log_p = torch.logsumexp(log_w, dim=1) - np.log(log_w.shape[1])
    return log_p.numpy() - np.log(module.scale.double().numpy()).sum()


def test_score_matches_a_slow_estimate_with_many_draws():
    # The adaptive estimate (few draws where the bound is tight, more where
    # it is not) agrees with a brute-force one of 4096 fresh draws: a wrong
    # count of draws in a row's mean, a lost Jacobian or a weight of the
    # wrong draws would move the scores by a nat or more.
    rng = np.random.default_rng(0)
    X, _ = _correlated_gaussian(rng, 800)
    vae = VAE(2, hidden_layer_sizes=(32, 32), max_epochs=30, early_stopping=False,
              importance_tol=0.005, random_state=0).fit(X[:600])
    reference = _reference_scores(vae, X[600:], 4096)
    scores, n_draws = vae._importance_scores(X[600:])
    # The few fixed draws of a tight row err by a few hundredths of a nat,
    # with the same sign in neighbouring rows.
    assert np.median(np.abs(scores - reference)) < 0.03
    assert abs(np.mean(scores - reference)) < 0.03
    assert np.abs(scores - reference).max() < 0.3
    # Rows stop early where the bound is tight: fewer draws than the cap.
    assert n_draws.min() >= 16 and n_draws.mean() < 128
    # importance_tol=0 uses every draw.
    vae.importance_tol = 0.0
    full, n_draws = vae._importance_scores(X[600:])
    assert np.all(n_draws == 128)
    assert abs(np.mean(full - reference)) < 0.01
    assert np.median(np.abs(full - reference)) < 0.02


def test_default_tolerance_stays_close_to_a_slow_estimate_with_fewer_draws():
    # The default importance_tol (a tenth of a nat) buys its speed with a
    # looser bound, not a wrong one: a lost log k or a weight of the wrong
    # draws would move the mean by a nat or more.
    rng = np.random.default_rng(0)
    X, _ = _correlated_gaussian(rng, 800)
    vae = VAE(2, hidden_layer_sizes=(32, 32), max_epochs=30, early_stopping=False,
              random_state=0).fit(X[:600])
    reference = _reference_scores(vae, X[600:], 4096)
    scores, n_draws = vae._importance_scores(X[600:])
    assert abs(np.mean(scores - reference)) < 0.1
    assert np.median(np.abs(scores - reference)) < 0.1
    vae.importance_tol = 0.005
    _, tight_draws = vae._importance_scores(X[600:])
    assert n_draws.min() >= 16 and n_draws.mean() < tight_draws.mean()


@pytest.mark.parametrize("n_decoder_components", [1, 4])
def test_scores_over_all_fixed_draws_follow_the_model_definition(
        n_decoder_components):
    # importance_tol=0: every row takes all the fixed draws, so the score is
    # fixed by the model; recomputed here in float64 from the module's own
    # parameters with torch.distributions. The scoring reorders the
    # decoder's outputs, masks the components a point-mass feature does not
    # use and sums in float32: a wrong order, mask or constant would move
    # the scores by far more than float32's rounding.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4)) @ rng.normal(size=(4, 4))
    X[rng.random(300) < 0.3, 1] = 0.0  # a point mass: one normal there
    vae = VAE(2, hidden_layer_sizes=(16, 16), max_epochs=5, early_stopping=False,
              n_decoder_components=n_decoder_components, importance_tol=0.0,
              n_importance_samples=32, random_state=0).fit(X)
    module = vae.net_.module_
    assert n_decoder_components == 1 or module.single.tolist() == [False, True,
                                                                   False, False]
    module = vae._inference_module()  # a float64 copy
    x = torch.as_tensor(X[:50])
    with torch.no_grad():
        mu, log_var = module.encode(x)
        std = torch.exp(0.5 * log_var)
        z = mu[:, None] + std[:, None] * module.eps  # (rows, draws, latent)
        log_weight, mean, var = module.mixture(module.decoder(z))
        law = torch.distributions.MixtureSameFamily(
            torch.distributions.Categorical(logits=log_weight),
            torch.distributions.Normal(mean, var.sqrt()))
        x_std = (x - module.loc) / module.scale
        log_px = law.log_prob(x_std[:, None, :]).sum(-1)
        normal = torch.distributions.Normal(0.0, 1.0)
        log_w = (log_px + normal.log_prob(z).sum(-1)
                 - torch.distributions.Normal(mu[:, None], std[:, None])
                 .log_prob(z).sum(-1))
        expected = (torch.logsumexp(log_w, 1) - np.log(log_w.shape[1])
                    - torch.log(module.scale).sum())
    assert_allclose(vae.score_samples(X[:50]), expected.numpy(), rtol=0, atol=1e-3)


@pytest.mark.parametrize("n_decoder_components", [1, 4])
def test_gaussian_density_integrates_to_one(n_decoder_components):
    # exp(score_samples) is a density on the line: a missing log k, a
    # missing Jacobian or a mis-normalised decoder would break this.
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-3, 1.0, 300), rng.normal(4, 0.5, 300)])[:, None] * 5
    vae = VAE(1, hidden_layer_sizes=(32, 32), max_epochs=60, early_stopping=False,
              n_decoder_components=n_decoder_components, random_state=0).fit(X)
    grid = np.linspace(-60, 60, 4001)
    density = np.exp(vae.score_samples(grid[:, None]))
    assert trapezoid(density, grid) == pytest.approx(1.0, abs=0.05)


def test_decoder_mixture_learns_a_skewed_law_one_normal_cannot():
    # Six independent exponential features and a one-dimensional latent
    # space: given z, most features keep their skewed law. One normal per
    # feature pays the gap between the exponential and the best normal
    # (0.42 nats a feature); a mixture of four normals nearly closes it.
    rng = np.random.default_rng(0)
    X = rng.exponential(size=(3000, 6)) * 3 + 2
    X_train, X_test = X[:2000], X[2000:]
    true_mean = expon(loc=2, scale=3).logpdf(X_test).sum(1).mean()
    scores = {
        k: VAE(1, hidden_layer_sizes=(32, 32), n_decoder_components=k, max_epochs=30,
               early_stopping=False, random_state=0).fit(X_train).score(X_test)
        for k in (1, 4)
    }
    assert scores[1] < true_mean - 1.0
    assert abs(scores[4] - true_mean) < 0.5


def test_decoded_mean_is_the_mean_of_the_draws():
    # inverse_transform's mixture mean and sample's draws (a component,
    # then a normal) must describe the same law given z.
    _, X = _fitted()
    vae = VAE(2, n_decoder_components=3, random_state=0, **FAST).fit(X)
    module = vae._inference_module()
    z = torch.tensor([[0.3, -1.0]], dtype=torch.float64).expand(40000, 2)
    with torch.no_grad():
        draws = module.draw(z, torch.Generator().manual_seed(0)).numpy()
    decoded = vae.inverse_transform(z[:1].numpy())[0]
    standard_error = draws.std(0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(0) - decoded) < 4 * standard_error)


def test_point_mass_features_keep_one_normal():
    # Feature 0 is zero in 30% of the rows, feature 1 takes one of four
    # values (not integers, which would be dequantised), feature 2 is
    # continuous with two rows tied: only the first two hold a point mass
    # (one value in >= 5% of the rows).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3)) * 2 + 5
    X[:120, 0] = 0.0
    X[:, 1] = rng.integers(0, 4, size=400) + 0.5
    X[1, 2] = X[0, 2]
    shares = [max(np.unique(X[:, j], return_counts=True)[1]) / len(X) for j in range(3)]
    assert shares[0] >= 0.3 and shares[1] >= 0.2 and shares[2] == 2 / 400
    vae = VAE(2, n_decoder_components=3, random_state=0, **FAST).fit(X)
    assert_array_equal(vae.point_mass_features_, [True, True, False])
    module = vae._inference_module()
    with torch.no_grad():
        z = torch.randn(50, 2, generator=torch.Generator().manual_seed(0),
                        dtype=torch.float64)
        log_weight, _, _ = module.mixture(module.decoder(z))
    weight = torch.exp(log_weight).numpy()  # (50, features, components)
    assert_array_equal(weight[:, :2], np.broadcast_to([1.0, 0.0, 0.0], (50, 2, 3)))
    assert np.all(weight[:, 2, 1:] > 0)
    assert np.all(np.isfinite(vae.score_samples(X)))
    # The attribute describes the data, whatever the number of components.
    one = VAE(2, n_decoder_components=1, random_state=0, **FAST).fit(X)
    assert_array_equal(one.point_mass_features_, [True, True, False])


def test_trimmed_loss_counts_the_best_explained_rows():
    from skgen.neural._vae.training import _NegativeELBO

    rng = np.random.default_rng(0)
    log_px = torch.as_tensor(rng.normal(size=40) * 5)
    kl = torch.as_tensor(rng.uniform(size=40) * 3)
    per_row = 0.5 * kl.numpy() - log_px.numpy()
    for support, n_kept in [(1.0, 40), (0.9, 36), (0.5, 20), (0.01, 1)]:
        loss = _NegativeELBO(beta=0.5, support_fraction=support)((log_px, kl))
        assert loss.item() == pytest.approx(np.sort(per_row)[:n_kept].mean())


def test_trimming_keeps_a_cluster_of_outliers_out_of_the_density():
    # A tenth of the training rows form a tight cluster away from the bulk.
    # The plain ELBO learns the cluster as part of the density; the default
    # loss leaves out the worst tenth of each batch, which ranks held-out
    # cluster rows as outliers far better.
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)

    def data(n):
        X = rng.normal(size=(n, 2)) @ np.array([[2.0, 0.5], [0.0, 1.0]]) + [10, -3]
        X[: n // 10] = rng.normal(size=(n // 10, 2)) * 0.3 + [16, 1]
        return X, np.arange(n) < n // 10

    (X_train, _), (X_test, outlier) = data(1000), data(1000)
    settings_ = dict(hidden_layer_sizes=(32, 32), max_epochs=60, early_stopping=False,
                     random_state=0)
    auc = {
        support: roc_auc_score(
            outlier, -VAE(2, support_fraction=support, **settings_)
            .fit(X_train).score_samples(X_test))
        for support in (0.9, 1.0)
    }
    assert auc[0.9] > auc[1.0] + 0.05


def test_contamination_sets_only_the_threshold():
    # As in scikit-learn's outlier detectors: the fitted density, and every
    # score, is the same whatever contamination; only offset_ moves, to the
    # contamination percentile of the training scores.
    vae, X = _fitted()
    other = VAE(2, contamination=0.3, random_state=0, **FAST).fit(X)
    scores = vae.score_samples(X)
    assert_array_equal(other.score_samples(X), scores)
    assert other.offset_ == pytest.approx(np.percentile(scores, 30))
    assert other.offset_ > vae.offset_
    assert np.mean(other.predict(X) == -1) == pytest.approx(0.3, abs=1 / len(X))


def test_offset_of_a_large_training_set_comes_from_a_sample_of_its_rows():
    # Past max(2000, 200 / contamination) rows, fit scores a sample of the
    # training rows for offset_: its percentile still flags about the
    # contamination share of all training rows (a sample taken from one end
    # of the data, or the wrong percentile, would not), and the sample is
    # drawn from random_state.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6000, 2)) * [1.0, 3.0]
    X[:3000] += 4.0  # the rows in order: a sample of the first rows is biased
    vae = VAE(1, contamination=0.2, random_state=0, **FAST).fit(X)
    scores = vae.score_samples(X)
    flagged = np.mean(scores < vae.offset_)
    assert flagged == pytest.approx(0.2, abs=0.02)
    assert vae.offset_ != np.percentile(scores, 20)
    again = VAE(1, contamination=0.2, random_state=0, **FAST).fit(X)
    assert again.offset_ == vae.offset_
    # With a small contamination the sample grows to keep 200 rows in the
    # tail: 200 / 0.02 = 10 000 > 6000 rows, so all rows count.
    small = VAE(1, contamination=0.02, random_state=0, **FAST).fit(X)
    assert small.offset_ == pytest.approx(np.percentile(scores, 2))


def _zero_inflated_counts(rng, n_samples):
    """Counts with a known joint pmf and a large atom at zero: x1 is 0 with
    probability 0.4 and Poisson(4) otherwise, x2 given x1 is Binomial(x1,
    1/2). Returns the rows and a function giving the true log-pmf of rows."""
    x1 = rng.poisson(4.0, n_samples) * (rng.uniform(size=n_samples) < 0.6)
    x2 = rng.binomial(x1, 0.5)

    def log_pmf(X):
        p1 = 0.6 * poisson(4.0).pmf(X[:, 0]) + 0.4 * (X[:, 0] == 0)
        return np.log(p1) + binom(X[:, 0].astype(int), 0.5).logpmf(X[:, 1])

    return np.c_[x1, x2].astype(float), log_pmf


@functools.cache
def _fitted_on_counts():
    rng = np.random.default_rng(0)
    X, log_pmf = _zero_inflated_counts(rng, 4000)
    vae = VAE(2, hidden_layer_sizes=(32, 32), max_epochs=40, early_stopping=False,
              support_fraction=1.0, random_state=0).fit(X[:2000])
    return vae, X[:2000], X[2000:], log_pmf


def test_integer_features_are_scored_as_discrete_values():
    # The score of a row of counts is a lower bound on the log-probability
    # of the counts: on held-out rows its mean lies below the true mean
    # log-pmf (the model's cross-entropy is at least the entropy, and the
    # importance-weighted bound is lower still), and not far below it.
    vae, X_train, X_test, log_pmf = _fitted_on_counts()
    assert_array_equal(vae.dequantized_features_, [True, True])
    assert_array_equal(vae.point_mass_features_, [False, False])
    gap = vae.score_samples(X_test) - log_pmf(X_test)
    standard_error = gap.std() / np.sqrt(len(gap))
    assert gap.mean() <= 3 * standard_error
    assert gap.mean() > -0.3
    # Probabilities: over a grid that holds nearly all the mass they sum to
    # one (each score estimates its log-probability), where a continuous
    # density, with its spike on the atom at zero, sums to far more.
    grid = np.array([[a, b] for a in range(-2, 20) for b in range(-2, 20)], float)
    assert np.exp(vae.score_samples(grid)).sum() == pytest.approx(1.0, abs=0.03)
    with pytest.warns(UserWarning, match="integer-valued"):
        continuous = VAE(2, hidden_layer_sizes=(32, 32), max_epochs=40,
                         early_stopping=False, support_fraction=1.0,
                         dequantize=False, random_state=0).fit(X_train)
    assert np.exp(continuous.score_samples(grid)).sum() > 1.1


def test_samples_of_integer_features_are_integers_of_the_right_law():
    vae, X_train, _, _ = _fitted_on_counts()
    drawn = vae.sample(40000, random_state=0)
    assert_array_equal(drawn, np.floor(drawn))
    assert np.all(drawn >= X_train.min(0)) and np.all(drawn <= X_train.max(0))
    # The draws follow the law that score_samples gives: the cell [k, k + 1)
    # of a dequantised draw is the integer k, so rounding instead of
    # flooring would move much of the mass by one.
    grid = np.array([[a, b] for a in range(13) for b in range(9)], float)
    frequency = np.mean(np.all(drawn[:, None, :] == grid, axis=2), axis=0)
    probability = np.exp(vae.score_samples(grid))
    assert 0.5 * np.abs(frequency - probability).sum() < 0.05
    # And close to the true means, (2.4, 1.2).
    assert_allclose(drawn.mean(0), [2.4, 1.2], atol=0.15)
    # inverse_transform decodes the mean of the integers, not of x + u.
    decoded = vae.inverse_transform(vae.transform(X_train))
    assert_allclose(decoded.mean(0), X_train.mean(0), atol=0.25)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16), size=st.integers(1, 60))
def test_scores_of_integer_rows_do_not_depend_on_the_other_rows(seed, size):
    # The uniform offsets are drawn at fit time, as the latent draws are.
    vae, _, X_test, _ = _fitted_on_counts()
    X = X_test[:300]
    rows = np.random.default_rng(seed).choice(len(X), size=size, replace=False)
    assert_allclose(vae.score_samples(X[rows]), vae.score_samples(X)[rows],
                    rtol=1e-12, atol=1e-12)
    assert_allclose(vae.transform(X[rows]), vae.transform(X)[rows], rtol=1e-12,
                    atol=1e-12)


def test_dequantize_auto_fires_on_raw_digits_and_not_on_dequantised_ones():
    # The P2 protocol adds its own U[0, 1) noise to the digits: those data
    # are continuous and must be fitted as before. The raw pixels are
    # integers, constant columns included.
    X = load_digits().data[:200]
    settings_ = dict(hidden_layer_sizes=(8,), max_epochs=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        raw = VAE(2, **settings_).fit(X)
        noisy = X + np.random.default_rng(0).uniform(size=X.shape)
        dequantised = VAE(2, **settings_).fit(noisy)
    assert raw.dequantized_features_.all()
    assert not raw.point_mass_features_.any()
    assert not dequantised.dequantized_features_.any()
    explicit = VAE(2, dequantize=False, **settings_).fit(noisy)
    assert_array_equal(dequantised.score_samples(noisy), explicit.score_samples(noisy))


def test_dequantize_mixed_features_and_bad_settings():
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=100), rng.integers(0, 5, size=100), rng.normal(size=100)]
    settings_ = dict(hidden_layer_sizes=(8,), max_epochs=1, random_state=0)
    vae = VAE(2, **settings_).fit(X)
    assert_array_equal(vae.dequantized_features_, [False, True, False])
    drawn = vae.sample(50, random_state=0)
    assert_array_equal(drawn[:, 1], np.floor(drawn[:, 1]))
    assert not np.array_equal(drawn[:, [0, 2]], np.floor(drawn[:, [0, 2]]))
    restored = pickle.loads(pickle.dumps(vae))
    assert_array_equal(restored.score_samples(X), vae.score_samples(X))
    assert_array_equal(restored.sample(50, random_state=0), drawn)
    with pytest.warns(UserWarning, match=r"Features 1 of X are integer-valued"):
        VAE(2, dequantize=False, **settings_).fit(X)
    with pytest.raises(ValueError, match=r"features 0, 2 of X hold non-integer"):
        VAE(2, dequantize=True, **settings_).fit(X)
    with pytest.raises(ValueError, match="likelihood='gaussian'"):
        VAE(2, dequantize=True, likelihood="bernoulli", **settings_).fit(X[:, [1]] > 2)
    with pytest.raises(InvalidParameterError, match="dequantize"):
        VAE(2, dequantize="yes", **settings_).fit(X)


def test_bernoulli_probabilities_sum_to_one():
    rng = np.random.default_rng(0)
    X = (rng.uniform(size=(400, 3)) < [0.2, 0.5, 0.9]).astype(float)
    X[:, 2] = X[:, 0]  # a dependence for the latent variable to carry
    vae = VAE(2, likelihood="bernoulli", hidden_layer_sizes=(16,), max_epochs=40,
              early_stopping=False, random_state=0).fit(X)
    patterns = np.array([[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)],
                        dtype=float)
    assert np.exp(vae.score_samples(patterns)).sum() == pytest.approx(1.0, abs=0.05)
    assert np.all(vae.sample(50, random_state=0) ** 2 == vae.sample(50, random_state=0))


# ------------------------------------------------------------ determinism


def test_same_random_state_gives_identical_models():
    vae, X = _fitted()
    other = VAE(2, random_state=0, **FAST).fit(X)
    assert_array_equal(vae.score_samples(X), other.score_samples(X))
    assert_array_equal(vae.transform(X), other.transform(X))
    assert_array_equal(vae.sample(7, random_state=3), other.sample(7, random_state=3))
    different = VAE(2, random_state=1, **FAST).fit(X)
    assert not np.array_equal(vae.score_samples(X), different.score_samples(X))


def test_sample_randomness_is_taken_at_call_time():
    vae, _ = _fitted()
    first = vae.sample(10, random_state=0)
    assert first.shape == (10, 3)
    assert_array_equal(first, vae.sample(10, random_state=0))
    assert not np.allclose(first, vae.sample(10, random_state=1))
    # None: the estimator's own random_state, so repeated calls agree.
    assert_array_equal(vae.sample(4), vae.sample(4))


def test_global_random_states_are_untouched():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    torch_state, np_state, py_state = (
        torch.get_rng_state(), np.random.get_state(), random.getstate()
    )
    vae = VAE(2, random_state=0, **{**FAST, "early_stopping": True}).fit(X)
    vae.partial_fit(X)
    vae.score_samples(X)
    vae.transform(X)
    vae.sample(5, random_state=1)
    assert torch.equal(torch_state, torch.get_rng_state())
    assert random.getstate() == py_state
    after = np.random.get_state()
    assert np_state[0] == after[0] and np.array_equal(np_state[1], after[1])
    assert np_state[2:] == after[2:]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), size=st.integers(1, 120))
def test_scores_do_not_depend_on_the_other_rows(seed, size):
    vae, X = _fitted()
    rows = np.random.default_rng(seed).choice(len(X), size=size, replace=False)
    full = vae.score_samples(X)
    assert_allclose(vae.score_samples(X[rows]), full[rows], rtol=1e-12, atol=1e-12)
    assert_allclose(vae.transform(X[rows]), vae.transform(X)[rows], rtol=1e-12,
                    atol=1e-12)


@settings(max_examples=6, deadline=None)
@given(
    n_samples=st.integers(2, 40),
    n_features=st.integers(1, 5),
    latent_dim=st.integers(1, 3),
    likelihood=st.sampled_from(["gaussian", "bernoulli"]),
    n_decoder_components=st.integers(1, 3),
    seed=st.integers(0, 1000),
)
def test_shapes_and_finite_outputs(
    n_samples, n_features, latent_dim, likelihood, n_decoder_components, seed
):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n_samples, n_features))
    vae = VAE(latent_dim, likelihood=likelihood, hidden_layer_sizes=(8,), max_epochs=2,
              n_decoder_components=n_decoder_components, batch_size=16,
              random_state=seed).fit(X)
    scores = vae.score_samples(X)
    assert scores.shape == (n_samples,) and np.all(np.isfinite(scores))
    Z = vae.transform(X)
    assert Z.shape == (n_samples, latent_dim) and np.all(np.isfinite(Z))
    assert vae.inverse_transform(Z).shape == (n_samples, n_features)
    assert vae.sample(3, random_state=0).shape == (3, n_features)
    assert set(np.unique(vae.predict(X))) <= {-1, 1}


# --------------------------------------------------------- persistence


def test_pickle_round_trip_gives_identical_scores():
    vae, X = _fitted()
    restored = pickle.loads(pickle.dumps(vae))
    assert_array_equal(restored.score_samples(X), vae.score_samples(X))
    assert_array_equal(
        restored.sample(5, random_state=0), vae.sample(5, random_state=0)
    )


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize(
    "n_decoder_components, counts", [(1, False), (3, False), (3, True)]
)
def test_cuda_fitted_model_unpickles_on_a_cpu_only_machine(
    unpickle_on_cpu_only, n_decoder_components, counts
):
    rng = np.random.default_rng(0)
    # counts: integer features, dequantised (offsets and bounds on the GPU).
    X = rng.poisson(3.0, size=(100, 3)) * 1.0 if counts else rng.normal(size=(100, 3))
    vae = VAE(2, device="cuda", n_decoder_components=n_decoder_components,
              random_state=0, **FAST).fit(X)
    scores = vae.score_samples(X)
    drawn = vae.sample(50, random_state=0)
    assert drawn.shape == (50, 3) and np.all(np.isfinite(drawn))
    restored = unpickle_on_cpu_only(pickle.dumps(vae))
    assert_allclose(restored.score_samples(X), scores, rtol=1e-6)
    assert restored.sample(50, random_state=0).shape == (50, 3)


# ------------------------------------------------------- sklearn contract


def test_outlier_conventions():
    vae, X = _fitted()
    scores = vae.score_samples(X)
    assert vae.offset_ == pytest.approx(np.percentile(scores, 10))
    assert_allclose(vae.decision_function(X), scores - vae.offset_)
    labels = vae.predict(X)
    assert labels.dtype.kind == "i"
    assert np.mean(labels == -1) == pytest.approx(0.1, abs=1 / len(X))
    assert_array_equal(vae.fit_predict(X), labels)
    assert vae.score(X) == pytest.approx(scores.mean())


def test_transform_feature_names_and_inverse():
    vae, X = _fitted()
    assert_array_equal(vae.get_feature_names_out(), ["vae0", "vae1"])
    assert vae.fit_transform(X).shape == (len(X), 2)
    assert vae.inverse_transform(vae.transform(X)).shape == X.shape
    # Once trained, decoded posterior means land nearer the data than its mean.
    trained = VAE(2, random_state=0, **{**FAST, "max_epochs": 100}).fit(X)
    decoded = trained.inverse_transform(trained.transform(X))
    assert np.mean((decoded - X) ** 2) < 0.9 * np.mean((X - X.mean(0)) ** 2)
    vae.set_output(transform="default")
    with pytest.raises(ValueError, match="latent_dim"):
        vae.inverse_transform(np.zeros((2, 3)))


def test_set_output_pandas():
    pd = pytest.importorskip("pandas")
    _, X = _fitted()
    vae = VAE(2, random_state=0, **FAST).set_output(transform="pandas")
    out = vae.fit(X).transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["vae0", "vae1"]
    assert vae.n_features_in_ == 3


def test_grid_search_needs_no_scorer():
    _, X = _fitted()
    search = GridSearchCV(VAE(random_state=0, **FAST), {"latent_dim": [1, 2]}, cv=2)
    search.fit(X)
    assert search.best_params_["latent_dim"] in (1, 2)
    assert np.isfinite(search.best_score_)


def test_partial_fit_continues_training():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)) @ np.array([[1.0, 0.9, 0.0], [0, 0.4, 0], [0, 0, 1]])
    vae = VAE(2, random_state=0, **FAST)
    vae.partial_fit(X)
    assert vae.n_iter_ == 1
    first = vae.score(X)
    for _ in range(15):
        vae.partial_fit(X)
    assert vae.n_iter_ == 16
    assert vae.score(X) > first
    with pytest.raises(ValueError, match="features"):
        vae.partial_fit(X[:, :2])
    # fit starts afresh: the same model as a new estimator's fit.
    fresh = VAE(2, random_state=0, **FAST).fit(X)
    assert_array_equal(vae.fit(X).score_samples(X), fresh.score_samples(X))


def test_early_stopping_stops_and_keeps_history():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    # A learning rate too small to improve the validation loss by 1e-3:
    # the first epoch sets the best value, then 2 misses stop training.
    vae = VAE(2, hidden_layer_sizes=(8,), lr=1e-9, max_epochs=50, n_iter_no_change=2,
              random_state=0).fit(X)
    assert vae.n_iter_ == 3
    assert "valid_loss" in vae.net_.history[-1]


def test_early_stopping_ends_before_the_cap_on_easy_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    vae = VAE(1, hidden_layer_sizes=(16,), max_epochs=300, n_iter_no_change=5,
              random_state=0).fit(X)
    history = vae.net_.history
    assert vae.n_iter_ < 300
    # The table's stop_by column: the last epoch is the one it announced.
    assert history[-1, "stop_by"] == vae.n_iter_
    best = [row["epoch"] for row in history if row["event_best"]]
    assert vae.n_iter_ == best[-1] + 5


class _RecordThreads(Callback):
    def initialize(self):
        self.threads = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.threads.append(torch.get_num_threads())


@pytest.fixture
def three_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    yield
    torch.set_num_threads(before)


def test_small_network_trains_at_one_thread_and_restores_the_setting(three_threads):
    _, X = _fitted()
    vae = VAE(2, callbacks=[_RecordThreads()], random_state=0, **FAST).fit(X)
    (used,) = [cb for _, cb in vae.net_.callbacks_ if isinstance(cb, _RecordThreads)]
    assert used.threads == [1] * FAST["max_epochs"]
    assert torch.get_num_threads() == 3
    # Also when the fit raises.
    with pytest.raises(ValueError, match="diverged"):
        VAE(2, lr=1e6, max_epochs=20, early_stopping=False, random_state=0).fit(X)
    assert torch.get_num_threads() == 3
    # A large network keeps the user's setting.
    recorder = _RecordThreads()
    big = VAE(2, hidden_layer_sizes=(1024, 1024), batch_size=256, max_epochs=1,
              early_stopping=False, callbacks=[recorder], random_state=0).fit(X)
    (used,) = [cb for _, cb in big.net_.callbacks_ if isinstance(cb, _RecordThreads)]
    assert used.threads == [3]


def test_user_callbacks_run_each_epoch():
    class CountEpochs(Callback):
        def initialize(self):
            self.n_epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.n_epochs += 1

    counter = CountEpochs()
    _, X = _fitted()
    vae = VAE(2, callbacks=[counter], random_state=0, **FAST).fit(X)
    (used,) = [cb for _, cb in vae.net_.callbacks_ if isinstance(cb, CountEpochs)]
    assert used.n_epochs == FAST["max_epochs"]


def test_verbose_prints_the_epoch_table_and_quiet_prints_nothing(capsys):
    _, X = _fitted()
    VAE(2, random_state=0, **FAST).fit(X)
    assert capsys.readouterr().out == ""
    VAE(2, random_state=0, verbose=1, **FAST).fit(X)
    out = capsys.readouterr().out
    assert "train_loss" in out and "epoch" in out


def test_verbose_table_is_plain_text_and_tells_when_training_ends(capsys):
    _, X = _fitted()
    vae = VAE(2, hidden_layer_sizes=(8,), lr=1e-9, max_epochs=50, n_iter_no_change=2,
              verbose=1, random_state=0).fit(X)
    out = capsys.readouterr().out
    # No colour codes in captured (not a terminal) output.
    assert "\x1b" not in out
    header, rule, *rows = out.splitlines()
    assert header.split() == ["epoch", "stop_by", "train_loss", "valid_loss", "best",
                              "dur"]
    table = [line.split() for line in rows if line.split()[0].isdigit()]
    # Every epoch has its row, the last (which stopped training) included,
    # and each announces that training ends at epoch 3 unless it improves.
    assert [row[0] for row in table] == ["1", "2", "3"] == [
        str(i + 1) for i in range(vae.n_iter_)]
    assert [row[1] for row in table] == ["3", "3", "3"]
    assert table[0][4] == "+"
    assert f"Scoring {len(X)} training rows for offset_" in out


def test_posterior_variance_stays_bounded_on_extreme_rows():
    # Rows 60 standard deviations out drove the encoder's log-variance to 127
    # on ODDS pageblocks, whose exp overflowed float32 in training. It is
    # bounded by construction, whatever the input, and extreme rows score
    # finite (very low) log-likelihoods.
    vae, X = _fitted()
    module = vae.net_.module_
    far = X[:5] * np.array([[1e2], [1e3], [1e4], [1e5], [1e6]])
    with torch.no_grad():
        _, log_var = module.encode(torch.as_tensor(far, dtype=torch.float32))
    assert torch.isfinite(log_var).all()
    assert log_var.max().item() <= 6.0
    scores = vae.score_samples(far)
    assert np.all(np.isfinite(scores))
    assert scores.max() < vae.score_samples(X).min()


# ------------------------------------------------------------ bad input


def test_diverging_training_raises_and_names_lr():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    with pytest.raises(ValueError, match=r"diverged.*smaller lr"):
        VAE(2, lr=1e6, max_epochs=20, early_stopping=False, random_state=0).fit(X)


@pytest.mark.parametrize(
    "lr, max_epochs, seed", [(1.0, 5, 0), (10.0, 5, 1), (10.0, 1, 2)]
)
def test_divergence_is_caught_whatever_the_budget(lr, max_epochs, seed):
    # These runs keep a finite loss that climbs by ten orders of magnitude:
    # with a short budget they used to return a model whose scores were
    # around -1e12 to -1e27, without a word.
    X = load_digits().data / 16
    vae = VAE(lr=lr, max_epochs=max_epochs, random_state=seed)
    with pytest.raises(ValueError, match=rf"diverged.*smaller lr \(it is {lr}\)"):
        vae.fit(X)


class _WreckModelAtTheEnd(Callback):
    """Send the model's idea of where the data lie 1000 standard deviations
    away once the last loss has been computed, as a last diverging step
    would: no training loss ever sees the result, only the final scores."""

    def on_train_end(self, net, **kwargs):
        net.module_.loc += 1e3 * net.module_.scale


def test_absurd_training_scores_raise_and_name_lr():
    _, X = _fitted()
    vae = VAE(2, callbacks=[_WreckModelAtTheEnd()], random_state=0, **FAST)
    message = r"diverged.*median log-likelihood.*smaller lr"
    with pytest.raises(ValueError, match=message):
        vae.fit(X)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.array([[0.0, 1.0], [np.nan, np.nan], [1.0, 2.0]]), "no observed entry"),
        (np.array([[0.0, 1.0], [np.inf, 1.0], [1.0, 2.0]]), "infinity"),
        (np.array([[0.0, 1.0]]), "minimum of 2 is required"),
        (np.array([0.0, 1.0, 2.0]), "Expected 2D array"),
    ],
)
def test_bad_training_input_raises(X, message):
    with pytest.raises(ValueError, match=message):
        VAE(**FAST).fit(X)


def test_bad_inference_input_raises():
    vae, X = _fitted()
    message = re.escape("X has 2 features, but VAE is expecting 3")
    with pytest.raises(ValueError, match=message):
        vae.score_samples(X[:, :2])
    bad = X[:3].copy()
    bad[0, 0] = np.inf
    methods = (vae.score_samples, vae.transform, vae.predict, vae.decision_function)
    for method in methods:
        with pytest.raises(ValueError, match="infinity"):
            method(bad)
    with pytest.raises(ValueError, match="n_samples"):
        vae.sample(0)


def test_bad_parameters_raise():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(InvalidParameterError, match="latent_dim"):
        VAE(0).fit(X)
    with pytest.raises(InvalidParameterError, match="contamination"):
        VAE(contamination=0.7).fit(X)
    with pytest.raises(InvalidParameterError, match="n_decoder_components"):
        VAE(n_decoder_components=0).fit(X)
    for support in (0.0, 1.5, None):
        with pytest.raises(InvalidParameterError, match="support_fraction"):
            VAE(support_fraction=support).fit(X)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        VAE(hidden_layer_sizes=(8, 0)).fit(X)
    with pytest.raises(ValueError, match=r"bernoulli.*\[0, 1\]"):
        VAE(likelihood="bernoulli", **FAST).fit(X)


def test_unfitted_model_raises():
    vae = VAE()
    for method in (vae.score_samples, vae.transform, vae.inverse_transform):
        with pytest.raises(NotFittedError):
            method(np.zeros((2, 2)))
    with pytest.raises(NotFittedError):
        vae.sample(2)
