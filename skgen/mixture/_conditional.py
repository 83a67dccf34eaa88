"""Inference on a fitted Gaussian mixture from partly observed rows.

Every function here takes a fitted mixture (any object with ``weights_``,
``means_``, ``covariances_`` and ``covariance_type``, as
:class:`skgen.GaussianMixture` and :class:`sklearn.mixture.GaussianMixture`
have) and a batch of rows in which NaN marks the entries that are not known.
It answers, exactly and for the four covariance types:

* :func:`component_log_prob`: the log-density of each row's observed entries
  under each component, ``log N(x_obs; mu_k[obs], Sigma_k[obs, obs])``;
* :func:`estimate_log_prob_resp`: the E-step over the observed entries, the
  mixture's log-density of them and the posterior component probabilities;
  :func:`score_samples` and :func:`predict_proba` return one of the two;
* :func:`conditional_mean`: ``E[x_miss | x_obs]``, the mixture of the
  components' conditional means weighted by those posterior probabilities;
* :func:`sample_conditional`: draws from the exact conditional
  ``p(x_miss | x_obs)``, a component from the posterior, then its Gaussian
  conditional;
* :func:`expected_statistics`: the expected sufficient statistics that an
  EM step over the observed entries needs.

Rows are grouped by missingness pattern, so that each pattern's factorisation
serves all its rows; within a pattern, rows are taken in chunks sized from
``sklearn.get_config()["working_memory"]``.  For a full or tied covariance,
the pattern's covariance is permuted to (observed, missing) order and
factorised once by Cholesky, ``P Sigma P^T = L L^T``.  Then ``L_oo`` is the
Cholesky factor of the observed block (for the log-density), ``L_mo`` maps the
whitened observed entries to the conditional mean, and ``L_mm`` is the
Cholesky factor of the conditional covariance (the Schur complement), so no
block is ever inverted.

A row with no observed entry conditions on nothing: its observed log-density
is 0 (the probability of observing nothing is one), its posterior is the
mixing weights, its conditional mean the mixture's mean, and its draws come
from the mixture itself.  The computation runs in float64 whatever the dtype
of the mixture's parameters.
"""

from numbers import Integral

import numpy as np
from scipy.special import logsumexp
from sklearn import get_config
from sklearn.utils import check_array, check_random_state, gen_batches
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "component_log_prob",
    "conditional_mean",
    "estimate_log_prob_resp",
    "expected_statistics",
    "predict_proba",
    "sample_conditional",
    "score_samples",
]

_COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
_LOG_2PI = np.log(2.0 * np.pi)


# ---------------------------------------------------------------------------
# Parameters and input
# ---------------------------------------------------------------------------


class _Parameters:
    """The mixture's parameters in float64, in the layout the blocks use.

    ``covariances`` is (k, d, d) for 'full', (1, d, d) for 'tied' (one
    factorisation serves every component), and the variances (k, d) for
    'diag' and 'spherical'.
    """

    def __init__(self, mixture):
        check_is_fitted(mixture, ["weights_", "means_", "covariances_"])
        covariance_type = getattr(mixture, "covariance_type", None)
        if covariance_type not in _COVARIANCE_TYPES:
            raise ValueError(
                "The mixture's covariance_type must be one of "
                f"{_COVARIANCE_TYPES}; got {covariance_type!r}."
            )
        self.covariance_type = covariance_type
        self.weights = np.asarray(mixture.weights_, dtype=np.float64)
        self.means = np.asarray(mixture.means_, dtype=np.float64)
        if self.means.ndim != 2 or self.weights.shape != self.means.shape[:1]:
            raise ValueError(
                "The mixture's means_ must have shape (n_components, "
                f"n_features) and weights_ shape (n_components,); got "
                f"{self.means.shape} and {self.weights.shape}."
            )
        k, d = self.means.shape
        covariances = np.asarray(mixture.covariances_, dtype=np.float64)
        expected = {
            "full": (k, d, d),
            "tied": (d, d),
            "diag": (k, d),
            "spherical": (k,),
        }[covariance_type]
        if covariances.shape != expected:
            raise ValueError(
                f"A '{covariance_type}' mixture with {k} components over {d} "
                f"features must have covariances_ of shape {expected}; got "
                f"{covariances.shape}."
            )
        if covariance_type == "tied":
            covariances = covariances[None]
        elif covariance_type == "spherical":
            covariances = np.repeat(covariances[:, None], d, axis=1)
        self.covariances = covariances
        self.diagonal = covariance_type in ("diag", "spherical")
        if self.diagonal and not np.all(covariances > 0.0):
            raise ValueError(
                "The mixture's variances must be positive; refit it, or "
                "increase reg_covar."
            )
        with np.errstate(divide="ignore"):
            self.log_weights = np.log(self.weights)

    @property
    def n_components(self):
        return self.means.shape[0]

    @property
    def n_features(self):
        return self.means.shape[1]

    def factors(self, obs, miss):
        """Cholesky factor of the covariance in (observed, missing) order.

        Returns L of shape (k or 1, d, d) for full and tied covariances, the
        standard deviations (k, d) in the same order for diagonal ones.
        """
        order = np.concatenate([obs, miss])
        if self.diagonal:
            return np.sqrt(self.covariances[:, order])
        permuted = self.covariances[:, order[:, None], order[None, :]]
        try:
            return np.linalg.cholesky(permuted)
        except np.linalg.LinAlgError:
            raise ValueError(
                "A covariance matrix of the mixture is not positive definite; "
                "refit it, or increase reg_covar."
            ) from None


def _check_X(X, n_features):
    """X as a float64 array of width n_features; NaN allowed, inf refused."""
    X = check_array(
        X,
        dtype=np.float64,
        ensure_all_finite="allow-nan",
        ensure_min_samples=0,
        input_name="X",
    )
    if X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but the mixture was fitted on "
            f"{n_features} features: give one column per feature, with NaN "
            "where a value is unknown."
        )
    return X


def _patterns(missing):
    """Yield (rows, observed columns, missing columns) per missingness pattern."""
    n_samples = missing.shape[0]
    if n_samples == 0:
        return
    packed = np.ascontiguousarray(np.packbits(missing, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse))[:-1]
    for rows in np.split(order, bounds):
        pattern = missing[rows[0]]
        yield rows, np.flatnonzero(~pattern), np.flatnonzero(pattern)


def _chunk_rows(n_components, n_features):
    """Rows per chunk so that the (k, rows, d) temporaries fit working_memory."""
    budget = get_config()["working_memory"] * 2**20
    per_row = 8 * 4 * max(n_components, 1) * max(n_features, 1)
    return max(1, int(budget // per_row))


# ---------------------------------------------------------------------------
# The per-block computation
# ---------------------------------------------------------------------------


class _Block:
    """One chunk of rows sharing a missingness pattern.

    Attributes
    ----------
    rows : ndarray of int
        Indices of the rows in X.
    obs, miss : ndarray of int
        The observed and missing columns.
    log_prob : ndarray of shape (n_rows, k)
        ``log N(x_obs; mu_k[obs], Sigma_k[obs, obs])`` per row and component.
    cond_means : ndarray of shape (k, n_rows, n_miss)
        Each component's conditional mean of the missing entries.
    cond_factor : ndarray
        Each component's Cholesky factor of the conditional covariance,
        (k or 1, n_miss, n_miss), or its standard deviations (k, n_miss)
        for diagonal covariances.
    """

    __slots__ = ("rows", "obs", "miss", "log_prob", "cond_means", "cond_factor")


def _blocks(params, X, missing):
    """Yield the :class:`_Block` of every pattern and chunk of X."""
    k, d = params.n_components, params.n_features
    chunk = _chunk_rows(k, d)
    for rows, obs, miss in _patterns(missing):
        n_obs = obs.size
        factor = params.factors(obs, miss)
        if params.diagonal:
            std_obs, cond_factor = factor[:, :n_obs], factor[:, n_obs:]
            log_det = 2.0 * np.log(std_obs).sum(axis=1)
        else:
            L_oo = factor[:, :n_obs, :n_obs]
            L_mo = factor[:, n_obs:, :n_obs]
            cond_factor = factor[:, n_obs:, n_obs:]
            log_det = 2.0 * np.log(np.diagonal(L_oo, axis1=1, axis2=2)).sum(axis=1)
        for batch in gen_batches(rows.size, chunk):
            block = _Block()
            block.rows, block.obs, block.miss = rows[batch], obs, miss
            block.cond_factor = cond_factor
            n_rows = block.rows.size
            cond_means = np.broadcast_to(
                params.means[:, None, miss], (k, n_rows, miss.size)
            )
            if n_obs == 0:
                block.log_prob = np.zeros((n_rows, k))
                block.cond_means = np.array(cond_means)
                yield block
                continue
            # (k, n_obs, n_rows): the observed entries relative to each mean.
            diff = X[np.ix_(block.rows, obs)].T[None] - params.means[:, obs, None]
            if params.diagonal:
                white = diff / std_obs[:, :, None]
                block.cond_means = np.array(cond_means)
            else:
                if params.covariance_type == "tied":
                    # One factor for every component: a single solve.
                    white = np.linalg.solve(
                        L_oo[0], diff.transpose(1, 0, 2).reshape(n_obs, -1)
                    )
                    white = white.reshape(n_obs, k, n_rows).transpose(1, 0, 2)
                else:
                    white = np.linalg.solve(L_oo, diff)
                block.cond_means = cond_means + np.matmul(L_mo, white).transpose(
                    0, 2, 1
                )
            mahalanobis = np.einsum("kor,kor->rk", white, white)
            block.log_prob = -0.5 * (n_obs * _LOG_2PI + log_det + mahalanobis)
            yield block


def _resp(params, log_prob):
    """Log of the normaliser and log posterior from per-component log-densities."""
    weighted = log_prob + params.log_weights
    log_norm = logsumexp(weighted, axis=1)
    return log_norm, weighted - log_norm[:, None]


def _prepare(mixture, X):
    params = _Parameters(mixture)
    X = _check_X(X, params.n_features)
    return params, X, np.isnan(X)


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------


def component_log_prob(mixture, X):
    """Log-density of each row's observed entries under each component.

    Parameters
    ----------
    mixture : fitted Gaussian mixture
        An object with ``weights_``, ``means_``, ``covariances_`` and
        ``covariance_type`` as :class:`skgen.GaussianMixture` has them.

    X : array-like of shape (n_samples, n_features)
        The rows, with NaN where an entry is unknown.

    Returns
    -------
    log_prob : ndarray of shape (n_samples, n_components)
        ``log N(x_obs; mu_k[obs], Sigma_k[obs, obs])``: the marginal
        log-density of the observed entries under component k, without its
        weight. It is 0 for a row with no observed entry.
    """
    params, X, missing = _prepare(mixture, X)
    out = np.empty((X.shape[0], params.n_components))
    for block in _blocks(params, X, missing):
        out[block.rows] = block.log_prob
    return out


def estimate_log_prob_resp(mixture, X):
    """E-step over the observed entries of each row.

    Parameters
    ----------
    mixture : fitted Gaussian mixture
        An object with ``weights_``, ``means_``, ``covariances_`` and
        ``covariance_type``.

    X : array-like of shape (n_samples, n_features)
        The rows, with NaN where an entry is unknown.

    Returns
    -------
    log_prob_norm : ndarray of shape (n_samples,)
        The mixture's log-density of each row's observed entries (0 for a row
        with none).

    log_resp : ndarray of shape (n_samples, n_components)
        Log posterior probability of each component given the observed
        entries (the log mixing weights for a row with none).
    """
    params, X, missing = _prepare(mixture, X)
    log_prob = np.empty((X.shape[0], params.n_components))
    for block in _blocks(params, X, missing):
        log_prob[block.rows] = block.log_prob
    return _resp(params, log_prob)


def score_samples(mixture, X):
    """Marginal log-density of each row's observed entries under the mixture.

    Parameters
    ----------
    mixture : fitted Gaussian mixture
        An object with ``weights_``, ``means_``, ``covariances_`` and
        ``covariance_type``.

    X : array-like of shape (n_samples, n_features)
        The rows, with NaN where an entry is unknown.

    Returns
    -------
    log_prob : ndarray of shape (n_samples,)
        ``log sum_k w_k N(x_obs; mu_k[obs], Sigma_k[obs, obs])``; for a row
        without NaN, the mixture's log-density. A row with no observed entry
        gets 0.
    """
    return estimate_log_prob_resp(mixture, X)[0]


def predict_proba(mixture, X):
    """Posterior probability of each component given the observed entries.

    Parameters
    ----------
    mixture : fitted Gaussian mixture
        An object with ``weights_``, ``means_``, ``covariances_`` and
        ``covariance_type``.

    X : array-like of shape (n_samples, n_features)
        The rows, with NaN where an entry is unknown.

    Returns
    -------
    resp : ndarray of shape (n_samples, n_components)
        Each row sums to one; a row with no observed entry gets the mixing
        weights.
    """
    return np.exp(estimate_log_prob_resp(mixture, X)[1])


def conditional_mean(mixture, X):
    """Fill each row's missing entries with their conditional expectation.

    The conditional mean ``E[x_miss | x_obs] = sum_k p(k | x_obs)
    E_k[x_miss | x_obs]`` is the imputation that minimises the expected
    squared error under the mixture.

    Parameters
    ----------
    mixture : fitted Gaussian mixture
        An object with ``weights_``, ``means_``, ``covariances_`` and
        ``covariance_type``.

    X : array-like of shape (n_samples, n_features)
        The rows, with NaN where an entry is unknown.

    Returns
    -------
    X_filled : ndarray of shape (n_samples, n_features)
        A float64 copy of X whose NaN are replaced by their conditional mean;
        the observed entries are unchanged. A row with no observed entry gets
        the mixture's mean.
    """
    params, X, missing = _prepare(mixture, X)
    out = X.copy()
    for block in _blocks(params, X, missing):
        if block.miss.size == 0:
            continue
        resp = np.exp(_resp(params, block.log_prob)[1])
        out[np.ix_(block.rows, block.miss)] = np.einsum(
            "rk,krm->rm", resp, block.cond_means
        )
    return out


def _check_generator(random_state):
    """A numpy Generator; None gives a fresh one, never numpy's global state."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, Integral):
        return np.random.default_rng(int(random_state))
    # A RandomState (anything else is refused by check_random_state): its
    # stream seeds the generator, so that calls with the same instance differ.
    legacy = check_random_state(random_state)
    return np.random.default_rng(legacy.randint(np.iinfo(np.int32).max))


def sample_conditional(mixture, X, n_samples=1, *, random_state=None):
    """Draw each row's missing entries from their exact conditional law.

    For each row and each draw, a component is drawn from the posterior
    ``p(k | x_obs)``, then the missing entries from that component's Gaussian
    conditional ``N(E_k[x_miss | x_obs], Cov_k[x_miss | x_obs])``; together
    the draws follow ``p(x_miss | x_obs)`` under the mixture. Draws are
    independent across rows and across the ``n_samples`` repetitions.

    Parameters
    ----------
    mixture : fitted Gaussian mixture
        An object with ``weights_``, ``means_``, ``covariances_`` and
        ``covariance_type``.

    X : array-like of shape (n_rows, n_features)
        The rows, with NaN where an entry is to be drawn.

    n_samples : int, default=1
        Number of draws per row.

    random_state : int, RandomState instance, Generator or None, default=None
        The randomness of this call. None draws fresh entropy from the
        operating system (numpy's global state is not used).

    Returns
    -------
    X_drawn : ndarray of shape (n_samples, n_rows, n_features)
        ``X_drawn[i]`` is X, in float64, with its NaN replaced by the i-th
        draw; the observed entries are unchanged. A row with no observed
        entry is drawn from the mixture itself.
    """
    if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or (
        n_samples < 1
    ):
        raise ValueError(
            f"n_samples must be an integer >= 1 (the number of draws per row); "
            f"got {n_samples!r}."
        )
    params, X, missing = _prepare(mixture, X)
    rng = _check_generator(random_state)
    out = np.repeat(X[None], n_samples, axis=0)
    k = params.n_components
    for block in _blocks(params, X, missing):
        n_miss = block.miss.size
        if n_miss == 0:
            continue
        n_rows = block.rows.size
        resp = np.exp(_resp(params, block.log_prob)[1])
        # A component per draw and row by inverse CDF of the posterior.
        cdf = np.cumsum(resp, axis=1)
        uniform = rng.random((n_samples, n_rows)) * cdf[:, -1]
        component = (uniform[..., None] >= cdf[None]).sum(axis=-1)
        np.minimum(component, k - 1, out=component)
        noise = rng.standard_normal((n_samples, n_rows, n_miss))
        row_index = np.broadcast_to(np.arange(n_rows), component.shape)
        drawn = block.cond_means[component, row_index]
        factor = block.cond_factor
        if params.diagonal:
            drawn += factor[component] * noise
        elif factor.shape[0] == 1:  # tied: one conditional covariance
            drawn += noise @ factor[0].T
        else:
            for j in range(k):
                chosen = component == j
                if chosen.any():
                    drawn[chosen] += noise[chosen] @ factor[j].T
        out[:, block.rows[:, None], block.miss[None, :]] = drawn
    return out


def expected_statistics(mixture, X, sample_weight=None):
    """Expected sufficient statistics of an EM step over the observed entries.

    With responsibilities ``r_ik = p(k | x_i,obs)`` and the conditional
    moments of each row's missing entries under component k, returns the sums
    an M-step turns into parameters. For rows without NaN they are the usual
    complete-data statistics.

    Parameters
    ----------
    mixture : fitted Gaussian mixture
        An object with ``weights_``, ``means_``, ``covariances_`` and
        ``covariance_type``.

    X : array-like of shape (n_samples, n_features)
        The rows, with NaN where an entry is unknown.

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights that multiply the responsibilities.

    Returns
    -------
    log_likelihood : float
        ``sum_i w_i log p(x_i,obs)``, the observed-data log-likelihood of
        the current parameters.

    resp_sum : ndarray of shape (n_components,)
        ``sum_i w_i r_ik``.

    first : ndarray of shape (n_components, n_features)
        ``sum_i w_i r_ik E_k[x_i | x_i,obs]``.

    second : ndarray of shape (n_components, n_features, n_features)
        ``sum_i w_i r_ik E_k[x_i x_i^T | x_i,obs]``: the outer product of the
        completed row plus the conditional covariance on the missing block.
    """
    params, X, missing = _prepare(mixture, X)
    if sample_weight is None:
        sample_weight = np.ones(X.shape[0])
    else:
        sample_weight = check_array(
            sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight"
        )
        if sample_weight.shape != (X.shape[0],) or np.any(sample_weight < 0):
            raise ValueError(
                "sample_weight must hold one non-negative weight per row of X; "
                f"got shape {sample_weight.shape} for {X.shape[0]} rows."
            )
    k, d = params.n_components, params.n_features
    log_likelihood = 0.0
    resp_sum = np.zeros(k)
    first = np.zeros((k, d))
    second = np.zeros((k, d, d))
    for block in _blocks(params, X, missing):
        log_norm, log_resp = _resp(params, block.log_prob)
        weight = sample_weight[block.rows]
        log_likelihood += float(weight @ log_norm)
        wresp = np.exp(log_resp) * weight[:, None]  # (rows, k)
        # Each row completed by component k's conditional mean: (k, rows, d).
        filled = np.broadcast_to(X[block.rows], (k, *X[block.rows].shape)).copy()
        filled[:, :, block.miss] = block.cond_means
        total = wresp.sum(axis=0)
        resp_sum += total
        first += np.einsum("rk,krd->kd", wresp, filled)
        second += np.einsum("rk,krd,kre->kde", wresp, filled, filled)
        if block.miss.size:
            factor = block.cond_factor
            if params.diagonal:
                cond_cov = np.einsum("km,mn->kmn", factor**2, np.eye(block.miss.size))
            else:
                cond_cov = np.matmul(factor, factor.transpose(0, 2, 1))
                cond_cov = np.broadcast_to(cond_cov, (k, *cond_cov.shape[1:]))
            second[np.ix_(np.arange(k), block.miss, block.miss)] += (
                total[:, None, None] * cond_cov
            )
    return log_likelihood, resp_sum, first, second
