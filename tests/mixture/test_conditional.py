"""Inference from partly observed rows on a fitted mixture, against closed forms.

The references are written independently of ``skgen.mixture._engine.conditional``:
scikit-learn on complete rows, scipy's multivariate normal with explicit Bayes
and the textbook conditional ``Sigma_mo Sigma_oo^-1`` (np.linalg.solve), and
numerical integration of the joint density in 2-D.
"""

import numpy as np
import pytest
from scipy import integrate, stats
from sklearn import config_context
from sklearn.exceptions import NotFittedError
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from skgen import GaussianMixture
from skgen.mixture._engine import conditional as cond

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


def _random_mixture(covariance_type, n_components=3, n_features=4, seed=0,
                    spread=2.0):
    """A mixture with given random parameters (not fitted: only assigned)."""
    rng = np.random.default_rng(seed)
    k, d = n_components, n_features
    weights = rng.dirichlet(5 * np.ones(k))
    means = rng.normal(scale=spread, size=(k, d))

    def spd():
        A = rng.normal(size=(d, d))
        return A @ A.T / d + 0.3 * np.eye(d)

    covariances = {
        "full": lambda: np.stack([spd() for _ in range(k)]),
        "tied": spd,
        "diag": lambda: rng.uniform(0.3, 2.0, size=(k, d)),
        "spherical": lambda: rng.uniform(0.3, 2.0, size=k),
    }[covariance_type]()
    mixture = GaussianMixture(k, covariance_type=covariance_type)
    mixture.weights_, mixture.means_ = weights, means
    mixture.covariances_ = covariances
    return mixture


def _dense_covariances(mixture):
    """(k, d, d) covariance matrices of any covariance type."""
    k, d = mixture.means_.shape
    c = np.asarray(mixture.covariances_, dtype=np.float64)
    return {
        "full": lambda: c,
        "tied": lambda: np.repeat(c[None], k, axis=0),
        "diag": lambda: np.stack([np.diag(v) for v in c]),
        "spherical": lambda: np.stack([v * np.eye(d) for v in c]),
    }[mixture.covariance_type]()


def _with_gaps(X, rate, seed, keep_empty_rows=True):
    rng = np.random.default_rng(seed)
    X = np.array(X, dtype=np.float64)
    X[rng.random(X.shape) < rate] = np.nan
    if keep_empty_rows:
        X[0] = np.nan  # nothing observed
        X[1] = np.abs(X[1]) + 0.5  # everything observed
    return X


def _brute_force(mixture, x):
    """Explicit Bayes for one row: log p(x_obs), posterior, conditional moments."""
    covs = _dense_covariances(mixture)
    o, m = ~np.isnan(x), np.isnan(x)
    k = len(mixture.weights_)
    log_comp = np.zeros(k)
    means, cond_covs = [], []
    for j in range(k):
        mu, S = mixture.means_[j], covs[j]
        if o.any():
            log_comp[j] = stats.multivariate_normal(
                mu[o], S[np.ix_(o, o)]
            ).logpdf(x[o])
            gain = np.linalg.solve(S[np.ix_(o, o)], S[np.ix_(o, m)]).T
            means.append(mu[m] + gain @ (x[o] - mu[o]))
            cond_covs.append(S[np.ix_(m, m)] - gain @ S[np.ix_(o, m)])
        else:
            means.append(mu[m])
            cond_covs.append(S[np.ix_(m, m)])
    weighted = np.log(mixture.weights_) + log_comp
    log_norm = np.logaddexp.reduce(weighted)
    post = np.exp(weighted - log_norm)
    means = np.array(means)
    mean = post @ means
    # Law of total covariance.
    centred = means - mean
    cov = sum(p * (C + np.outer(c, c)) for p, C, c in
              zip(post, cond_covs, centred, strict=True))
    return log_comp, log_norm, post, means, np.array(cond_covs), mean, cov


# ---------------------------------------------------------------------------
# Complete rows: the same answers as scikit-learn
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_complete_rows_match_sklearn(covariance_type, blobs):
    X, _ = blobs
    reference = SklearnGaussianMixture(
        3, covariance_type=covariance_type, random_state=0
    ).fit(X)
    np.testing.assert_allclose(
        cond.score_samples(reference, X), reference.score_samples(X), rtol=1e-10
    )
    np.testing.assert_allclose(
        cond.predict_proba(reference, X), reference.predict_proba(X), atol=1e-10
    )
    # Nothing to fill: the rows come back as they were.
    np.testing.assert_array_equal(cond.conditional_mean(reference, X), X)
    draws = cond.sample_conditional(reference, X, 2, random_state=0)
    np.testing.assert_array_equal(draws, np.stack([X, X]))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_skgen_fitted_mixture(covariance_type, blobs, global_dtype):
    # A mixture fitted by skgen (float32 included) scores complete rows as
    # its own score_samples does.
    X, _ = blobs
    X = X.astype(global_dtype)
    gmm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    rtol = 1e-4 if global_dtype == np.float32 else 1e-10
    np.testing.assert_allclose(
        cond.score_samples(gmm, X), gmm.score_samples(X), rtol=rtol
    )


# ---------------------------------------------------------------------------
# Rows with gaps: explicit Bayes with scipy
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_observed_entries_against_explicit_bayes(covariance_type):
    mixture = _random_mixture(covariance_type, n_features=5, seed=1)
    X, _ = mixture.sample(120, random_state=0)
    X = _with_gaps(X, 0.4, seed=1)
    log_comp = cond.component_log_prob(mixture, X)
    log_norm, log_resp = cond.estimate_log_prob_resp(mixture, X)
    filled = cond.conditional_mean(mixture, X)
    for i, x in enumerate(X):
        ref_comp, ref_norm, ref_post, _, _, ref_mean, _ = _brute_force(mixture, x)
        np.testing.assert_allclose(log_comp[i], ref_comp, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(log_norm[i], ref_norm, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(np.exp(log_resp[i]), ref_post, atol=1e-10)
        np.testing.assert_allclose(filled[i, np.isnan(x)], ref_mean, rtol=1e-9,
                                   atol=1e-9)
        np.testing.assert_array_equal(filled[i, ~np.isnan(x)], x[~np.isnan(x)])
    np.testing.assert_allclose(cond.score_samples(mixture, X), log_norm)
    np.testing.assert_allclose(cond.predict_proba(mixture, X), np.exp(log_resp))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_row_with_nothing_observed_gets_the_prior(covariance_type):
    mixture = _random_mixture(covariance_type, seed=2)
    X = np.full((1, 4), np.nan)
    assert cond.score_samples(mixture, X)[0] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(cond.predict_proba(mixture, X)[0], mixture.weights_)
    np.testing.assert_allclose(
        cond.conditional_mean(mixture, X)[0], mixture.weights_ @ mixture.means_
    )
    # The draws follow the mixture itself: compare their mean and covariance
    # with the mixture's (law of total covariance).
    draws = cond.sample_conditional(mixture, X, 40000, random_state=0)[:, 0]
    _, _, _, _, _, mean, cov = _brute_force(mixture, X[0])
    _assert_moments(draws, mean, cov)


# ---------------------------------------------------------------------------
# One Gaussian: conditional mean and covariance in closed form
# ---------------------------------------------------------------------------


def _assert_moments(draws, mean, cov, n_sigma=5.0):
    """Sample mean and covariance within n_sigma standard errors."""
    n = draws.shape[0]
    se_mean = np.sqrt(np.diag(cov) / n)
    assert np.all(np.abs(draws.mean(axis=0) - mean) < n_sigma * se_mean), (
        draws.mean(axis=0), mean)
    # Var of a sample covariance entry (Gaussian approximation, good enough
    # for mixtures here at these sample sizes): (S_ij^2 + S_ii S_jj) / n.
    se_cov = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / n)
    empirical = np.cov(draws, rowvar=False).reshape(cov.shape)
    assert np.all(np.abs(empirical - cov) < 2 * n_sigma * se_cov), (empirical, cov)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_single_gaussian_closed_form(covariance_type):
    mixture = _random_mixture(covariance_type, n_components=1, n_features=5,
                              seed=3)
    mu = mixture.means_[0]
    S = _dense_covariances(mixture)[0]
    x = np.array([0.3, np.nan, -1.2, np.nan, np.nan])
    o, m = ~np.isnan(x), np.isnan(x)
    # Textbook conditional, with an explicit inverse in the reference only.
    S_oo_inv = np.linalg.inv(S[np.ix_(o, o)])
    mean = mu[m] + S[np.ix_(m, o)] @ S_oo_inv @ (x[o] - mu[o])
    cov = S[np.ix_(m, m)] - S[np.ix_(m, o)] @ S_oo_inv @ S[np.ix_(o, m)]
    np.testing.assert_allclose(
        cond.conditional_mean(mixture, x[None])[0, m], mean, rtol=1e-12
    )
    draws = cond.sample_conditional(mixture, x[None], 40000, random_state=0)[:, 0]
    np.testing.assert_array_equal(draws[:, o], np.broadcast_to(x[o], (40000, 2)))
    _assert_moments(draws[:, m], mean, cov)


# ---------------------------------------------------------------------------
# A mixture: brute force
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("layout", ["one row", "many rows"])
def test_mixture_draws_moments_against_brute_force(covariance_type, layout):
    mixture = _random_mixture(covariance_type, n_features=4, seed=4, spread=1.0)
    x = np.array([np.nan, 0.0, np.nan, 0.0])
    # Observed values between the components, so that each has a share.
    x[[1, 3]] = mixture.weights_ @ mixture.means_[:, [1, 3]]
    _, _, post, _, _, mean, cov = _brute_force(mixture, x)
    # Every component matters here, or the test would not test the mixing.
    assert post.min() > 0.02, post
    if layout == "one row":  # a row alone in its pattern: its own factor
        draws = cond.sample_conditional(mixture, x[None], 40000, random_state=1)[:, 0]
    else:  # rows sharing a pattern: one factor for all
        rows = np.repeat(x[None], 20000, axis=0)
        draws = cond.sample_conditional(mixture, rows, 2, random_state=1)
        draws = draws.reshape(-1, 4)
    _assert_moments(draws[:, np.isnan(x)], mean, cov)


def _two_d_mixture(covariance_type):
    return _random_mixture(covariance_type, n_components=3, n_features=2, seed=5,
                           spread=1.5)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("observed", [0, 1])
def test_two_d_against_numerical_integration(covariance_type, observed):
    mixture = _two_d_mixture(covariance_type)
    joint = _joint_density(mixture)
    missing = 1 - observed
    for value in (-1.0, 0.4, 2.0):
        x = np.full(2, np.nan)
        x[observed] = value

        def point(t, value=value):
            p = np.empty(2)
            p[observed], p[missing] = value, t
            return p

        marginal = integrate.quad(lambda t: joint(point(t)), -np.inf, np.inf,
                                  epsabs=1e-13, epsrel=1e-11)[0]
        first = integrate.quad(lambda t: t * joint(point(t)), -np.inf, np.inf,
                               epsabs=1e-13, epsrel=1e-11)[0]
        np.testing.assert_allclose(
            cond.score_samples(mixture, x[None])[0], np.log(marginal), rtol=1e-7
        )
        np.testing.assert_allclose(
            cond.conditional_mean(mixture, x[None])[0, missing], first / marginal,
            rtol=1e-6, atol=1e-8,
        )
        # The draws follow the conditional law: Kolmogorov-Smirnov against the
        # CDF integrated numerically from the joint density.
        grid = np.linspace(-25, 25, 50001)
        points = np.empty((grid.size, 2))
        points[:, observed], points[:, missing] = value, grid
        density = joint(points)
        cdf = integrate.cumulative_trapezoid(density, grid, initial=0.0)
        cdf /= cdf[-1]
        draws = cond.sample_conditional(mixture, x[None], 4000, random_state=2)
        result = stats.kstest(draws[:, 0, missing],
                              lambda t, g=grid, c=cdf: np.interp(t, g, c))
        # 24 such tests: 1e-4 keeps chance failures rare, while a wrong
        # conditional variance or posterior gives p-values near zero.
        assert result.pvalue > 1e-4, result


def _joint_density(mixture):
    covs = _dense_covariances(mixture)
    parts = [
        (w, stats.multivariate_normal(mu, S))
        for w, mu, S in zip(mixture.weights_, mixture.means_, covs, strict=True)
    ]
    return lambda p: sum(w * dist.pdf(p) for w, dist in parts)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_blocks_against_brute_force(covariance_type):
    # Every block kind (rows sharing a pattern, rows alone in theirs and
    # factorised together): completed rows, conditional covariances and the
    # noise of a draw equal the textbook ones, with the noise built from the
    # Cholesky factor of each component's conditional covariance.
    mixture = _random_mixture(covariance_type, n_features=6, seed=12)
    X = _with_gaps(mixture.sample(80, random_state=0)[0], 0.4, seed=6)
    X[2:5] = X[5]  # a pattern shared by several rows
    rng = np.random.default_rng(0)
    params = cond._Parameters(mixture)
    kinds = set()
    for block in cond._blocks(params, X, np.isnan(X), precision_form=False):
        if block.factor is not None:
            kinds.add("shared" if block.factor.shape[1] == 1 else "alone")
        n_rows, d = block.missing.shape
        component = rng.integers(3, size=(2, n_rows))
        eps = rng.standard_normal((2, n_rows, d))
        noise = block.noise(component, eps)
        cond_covs = block.conditional_covariances()
        for r, i in enumerate(block.rows):
            _, _, _, means, covs, _, _ = _brute_force(mixture, X[i])
            m = np.isnan(X[i])
            np.testing.assert_allclose(block.filled[:, r][:, m], means, rtol=1e-10,
                                       atol=1e-10)
            for j in range(3):
                if block.factor is None:
                    got = np.diag(cond_covs[j, r])
                else:
                    got = cond_covs[min(j, cond_covs.shape[0] - 1),
                                    min(r, cond_covs.shape[1] - 1)]
                expected = np.zeros((d, d))
                expected[np.ix_(m, m)] = covs[j]
                np.testing.assert_allclose(got, expected, atol=1e-10)
            for s in range(2):
                c = component[s, r]
                expected = np.zeros(d)
                if m.any():
                    expected[m] = np.linalg.cholesky(covs[c]) @ eps[s, r, m]
                np.testing.assert_allclose(noise[s, r], expected, atol=1e-10)
                assert np.all(noise[s, r, ~m] == 0.0)
    if covariance_type in ("full", "tied"):
        assert kinds == {"shared", "alone"}


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_precision_form_blocks_against_brute_force(covariance_type):
    # Rows in patterns of their own are answered from the precision matrix,
    # several numbers of gaps padded into one stack: their log-densities,
    # completed rows and summed conditional covariances equal the textbook
    # ones; a pattern of many rows shares one factorisation.
    mixture = _random_mixture(covariance_type, n_features=7, seed=21)
    X = _with_gaps(mixture.sample(150, random_state=1)[0], 0.45, seed=8)
    X[2:42] = X[42]  # a pattern shared by 41 rows
    params = cond._Parameters(mixture)
    rng = np.random.default_rng(3)
    padded = False
    seen = np.zeros(len(X), dtype=bool)
    for block in cond._blocks(params, X, np.isnan(X)):
        seen[block.rows] = True
        if block.missing_index is None:
            assert block.rows.size >= cond._SHARED_PATTERN_ROWS
            continue
        counts = block.missing.sum(axis=1)
        padded |= counts.min() < counts.max()
        wresp = rng.uniform(size=(block.rows.size, 3))
        expected_sum = np.zeros((3, 7, 7))
        for r, i in enumerate(block.rows):
            log_comp, _, _, means, covs, _, _ = _brute_force(mixture, X[i])
            m = np.isnan(X[i])
            np.testing.assert_allclose(block.log_prob[r], log_comp, rtol=1e-10,
                                       atol=1e-10)
            np.testing.assert_allclose(block.filled[:, r][:, m], means, rtol=1e-10,
                                       atol=1e-10)
            np.testing.assert_array_equal(block.filled[:, r][:, ~m],
                                          np.broadcast_to(X[i, ~m], (3, (~m).sum())))
            for j in range(3):
                expected_sum[j][np.ix_(m, m)] += wresp[r, j] * covs[j]
        np.testing.assert_allclose(block.covariance_sum(wresp), expected_sum,
                                   rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(
            block.covariance_sum(wresp, diagonal=True),
            np.diagonal(expected_sum, axis1=1, axis2=2), rtol=1e-10, atol=1e-10,
        )
    assert seen.all() and padded


@pytest.mark.parametrize("c", [1, 3, 7, 8, 9, 40])
def test_spd_inverse_logdet_against_numpy(c):
    # The vectorised Cholesky (and LAPACK above _SMALL_SPD) on a stack laid
    # out last: inverses and log-determinants as numpy's per-matrix ones.
    rng = np.random.default_rng(c)
    A = rng.normal(size=(5, 2, c, c))
    A = A @ A.swapaxes(-1, -2) + 0.1 * np.eye(c)
    inverse, log_det = cond._spd_inverse_logdet(np.moveaxis(A, (0, 1), (2, 3)))
    np.testing.assert_allclose(np.moveaxis(inverse, (2, 3), (0, 1)),
                               np.linalg.inv(A), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(log_det, np.linalg.slogdet(A)[1], rtol=1e-10)
    singular = np.moveaxis(A, (0, 1), (2, 3)).copy()
    singular[0, 0] = -1.0
    with pytest.raises(ValueError, match="not positive definite"):
        cond._spd_inverse_logdet(singular)


# ---------------------------------------------------------------------------
# Draws: reproducibility and randomness
# ---------------------------------------------------------------------------


def test_draws_reproducible_and_independent_of_global_state():
    mixture = _random_mixture("full", seed=6)
    X = _with_gaps(mixture.sample(50, random_state=0)[0], 0.5, seed=0)
    a = cond.sample_conditional(mixture, X, 3, random_state=0)
    b = cond.sample_conditional(mixture, X, 3, random_state=0)
    c = cond.sample_conditional(mixture, X, 3, random_state=1)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    # The repetitions differ from one another.
    assert not np.allclose(a[0], a[1])
    gen = cond.sample_conditional(mixture, X, 1, random_state=np.random.default_rng(0))
    legacy = cond.sample_conditional(mixture, X, 1,
                                     random_state=np.random.RandomState(0))
    assert gen.shape == legacy.shape == (1, 50, 4)
    state = np.random.get_state()[1].copy()
    cond.sample_conditional(mixture, X, 2)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_row_order_and_chunking_do_not_change_results(covariance_type):
    mixture = _random_mixture(covariance_type, seed=7)
    X = _with_gaps(mixture.sample(200, random_state=0)[0], 0.3, seed=3)
    filled = cond.conditional_mean(mixture, X)
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(cond.conditional_mean(mixture, X[order]),
                               filled[order], rtol=1e-12)
    # A tiny working memory splits each pattern into chunks of one row.
    with config_context(working_memory=1e-6):
        np.testing.assert_allclose(cond.conditional_mean(mixture, X), filled,
                                   rtol=1e-12)
        small = cond.score_samples(mixture, X)
    np.testing.assert_allclose(small, cond.score_samples(mixture, X), rtol=1e-12)


# ---------------------------------------------------------------------------
# Expected sufficient statistics
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_expected_statistics_against_brute_force(covariance_type):
    mixture = _random_mixture(covariance_type, seed=8)
    X = _with_gaps(mixture.sample(60, random_state=0)[0], 0.4, seed=4)
    weight = np.random.default_rng(0).uniform(0.5, 2.0, size=len(X))
    log_lik, resp_sum, first, second = cond.expected_statistics(
        mixture, X, sample_weight=weight
    )
    k, d = mixture.means_.shape
    ref_ll, ref_n = 0.0, np.zeros(k)
    ref_first, ref_second = np.zeros((k, d)), np.zeros((k, d, d))
    for x, w in zip(X, weight, strict=True):
        _, log_norm, post, means, cond_covs, _, _ = _brute_force(mixture, x)
        m = np.isnan(x)
        ref_ll += w * log_norm
        for j in range(k):
            filled = x.copy()
            filled[m] = means[j]
            moment = np.outer(filled, filled)
            moment[np.ix_(m, m)] += cond_covs[j]
            ref_n[j] += w * post[j]
            ref_first[j] += w * post[j] * filled
            ref_second[j] += w * post[j] * moment
    np.testing.assert_allclose(log_lik, ref_ll, rtol=1e-10)
    np.testing.assert_allclose(resp_sum, ref_n, rtol=1e-10)
    np.testing.assert_allclose(first, ref_first, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(second, ref_second, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
def test_diagonal_statistics_are_the_diagonals(covariance_type):
    # The matrix-product path of diagonal mixtures (diagonal=True) gives the
    # diagonals of the general statistics, which are checked against brute
    # force above; the data sit far from the origin, as the expansion of the
    # squares about the mixture's mean must allow.
    mixture = _random_mixture(covariance_type, n_features=5, seed=4)
    mixture.means_ = mixture.means_ + 1e3
    X = _with_gaps(mixture.sample(300, random_state=2)[0], 0.35, seed=9)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, size=len(X))
    full = cond.expected_statistics(mixture, X, weights)
    fast = cond.expected_statistics(mixture, X, weights, diagonal=True)
    np.testing.assert_allclose(fast[0], full[0], rtol=1e-12)
    np.testing.assert_allclose(fast[1], full[1], rtol=1e-10)
    np.testing.assert_allclose(fast[2], full[2], rtol=1e-10)
    np.testing.assert_allclose(fast[3], np.diagonal(full[3], axis1=1, axis2=2),
                               rtol=1e-9)


def test_em_steps_from_expected_statistics_increase_likelihood():
    # EM built on the statistics never lowers the observed-data likelihood:
    # a wrong conditional covariance term breaks this within a few steps.
    mixture = _random_mixture("full", n_features=3, seed=9)
    X = _with_gaps(mixture.sample(400, random_state=0)[0], 0.35, seed=5,
                   keep_empty_rows=False)
    current = _random_mixture("full", n_features=3, seed=10)
    previous = -np.inf
    for _ in range(15):
        log_lik, n, first, second = cond.expected_statistics(current, X)
        assert log_lik >= previous - 1e-8
        previous = log_lik
        means = first / n[:, None]
        current.weights_ = n / n.sum()
        current.means_ = means
        current.covariances_ = (
            second / n[:, None, None] - np.einsum("kd,ke->kde", means, means)
            + 1e-6 * np.eye(3)
        )


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


def test_bad_input():
    mixture = _random_mixture("full", seed=11)
    with pytest.raises(ValueError, match="X has 3 features, but the mixture"):
        cond.conditional_mean(mixture, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="infinity"):
        cond.score_samples(mixture, np.array([[np.inf, 0, 0, 0]]))
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1"):
        cond.sample_conditional(mixture, np.zeros((1, 4)), 0)
    with pytest.raises(NotFittedError):
        cond.conditional_mean(GaussianMixture(), np.zeros((1, 4)))
    broken = _random_mixture("full", seed=11)
    broken.covariances_ = -broken.covariances_
    with pytest.raises(ValueError, match="not positive definite"):
        cond.conditional_mean(broken, np.array([[0.0, np.nan, 1.0, 2.0]]))
    with pytest.raises(ValueError, match="covariances_ of shape"):
        broken.covariances_ = np.ones((2, 4))
        cond.conditional_mean(broken, np.zeros((1, 4)))
