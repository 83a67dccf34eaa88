"""Gaussian mixture model fitted by EM over sufficient statistics, in torch.

The EM here is a single streaming pass per iteration.  For each chunk of rows
it builds the feature map ``phi(x)`` of the covariance type (the upper
triangle of ``x x^T``, then ``x``, then ``1``; for ``diag`` and ``spherical``
only ``x**2``, ``x`` and ``1``), so that

* the E-step is one GEMM: ``log w_k + log N(x | mu_k, Sigma_k) = A_k . phi(x)``
  with the coefficient matrix ``A`` built from the current parameters, and
* the M-step statistics ``(sum r, sum r x, sum r x x^T)`` of every component
  are one more GEMM, ``phi(X)^T R``, on the same features.

Sample weights multiply the responsibilities before the second GEMM, which is
all weighted EM needs.  Memory stays bounded by the chunk size, taken from
``sklearn.get_config()["working_memory"]``.

The ``E[x x^T] - mu mu^T`` form loses precision when the data sit far from the
origin (scikit-learn issue #30382), so the features are built from data
centred on their (weighted) mean; statistics are accumulated across chunks in
float64 whatever the input dtype, and the M-step runs in float64.
"""

import math
import warnings
from numbers import Integral, Real
from time import time

import numpy as np
import torch
from sklearn import get_config
from sklearn.base import BaseEstimator, DensityMixin, _fit_context
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)
from skgen.utils._torch import as_tensor, resolve_device

__all__ = ["GaussianMixture"]

_QUADRATIC = ("full", "tied")

# On the CPU a chunk is also kept small enough to stay in cache: the two
# GEMMs of a pass then read features that the previous step just wrote.
_CPU_CHUNK_BYTES = 32 * 2**20
_CPU_MAX_CHUNK_ROWS = 8192

_ILL_DEFINED_COVARIANCE = (
    "Fitting the mixture model failed because some components have "
    "ill-defined empirical covariance (for instance caused by singleton "
    "or collapsed samples). Try to decrease the number of components, "
    "increase reg_covar, or scale the input data."
)
_FLOAT32_HINT = (
    " The numerical accuracy can also be improved by passing float64"
    " data instead of float32."
)


# ---------------------------------------------------------------------------
# Validation of user-given initial parameters (same rules and messages as
# scikit-learn's, so that code written against it keeps working).
# ---------------------------------------------------------------------------


def _check_shape(param, param_shape, name):
    if param.shape != param_shape:
        raise ValueError(
            "The parameter '%s' should have the shape of %s, but got %s"
            % (name, param_shape, param.shape)
        )


def _check_weights(weights, n_components):
    weights = check_array(weights, dtype=[np.float64, np.float32], ensure_2d=False)
    _check_shape(weights, (n_components,), "weights")
    if np.any(weights < 0.0) or np.any(weights > 1.0):
        raise ValueError(
            "The parameter 'weights' should be in the range "
            "[0, 1], but got max value %.5f, min value %.5f"
            % (np.max(weights), np.min(weights))
        )
    atol = 1e-6 if weights.dtype == np.float32 else 1e-8
    if not np.allclose(np.abs(1.0 - np.sum(weights)), 0.0, atol=atol):
        raise ValueError(
            "The parameter 'weights' should be normalized, but got sum(weights) = %.5f"
            % np.sum(weights)
        )
    return weights


def _check_means(means, n_components, n_features):
    means = check_array(means, dtype=[np.float64, np.float32], ensure_2d=False)
    _check_shape(means, (n_components, n_features), "means")
    return means


def _check_precisions(precisions, covariance_type, n_components, n_features):
    precisions = check_array(
        precisions,
        dtype=[np.float64, np.float32],
        ensure_2d=False,
        allow_nd=covariance_type == "full",
    )
    shapes = {
        "full": (n_components, n_features, n_features),
        "tied": (n_features, n_features),
        "diag": (n_components, n_features),
        "spherical": (n_components,),
    }
    _check_shape(precisions, shapes[covariance_type], "%s precision" % covariance_type)
    if covariance_type in _QUADRATIC:
        matrices = precisions.reshape(-1, n_features, n_features)
        symmetric = np.allclose(matrices, np.swapaxes(matrices, 1, 2))
        if not (symmetric and np.all(np.linalg.eigvalsh(matrices) > 0.0)):
            raise ValueError(
                "'%s precision' should be symmetric, positive-definite"
                % covariance_type
            )
    elif np.any(precisions <= 0.0):
        raise ValueError("'%s precision' should be positive" % covariance_type)
    return precisions


# ---------------------------------------------------------------------------
# The numerical core: features, coefficients, statistics, M-step.
# All parameters live in float64 torch tensors; only the two GEMMs of a pass
# run in the compute dtype of the input.
# ---------------------------------------------------------------------------


def _n_features_map(n_features, covariance_type):
    """Number of rows of the feature map phi for one sample."""
    if covariance_type in _QUADRATIC:
        return n_features * (n_features + 1) // 2 + n_features + 1
    return 2 * n_features + 1


def _build_features(x, shift, covariance_type, out):
    """Fill ``out`` (n_phi, n_rows) with phi(x - shift) for a chunk ``x``."""
    xt = (x - shift).T.contiguous()
    n_features = xt.shape[0]
    if covariance_type in _QUADRATIC:
        # Row block i holds x_i * x_j for j >= i: the row-major upper
        # triangle, the order of torch.triu_indices.
        row = 0
        for i in range(n_features):
            width = n_features - i
            torch.mul(xt[i : i + 1], xt[i:], out=out[row : row + width])
            row += width
    else:
        torch.mul(xt, xt, out=out[:n_features])
        row = n_features
    out[row : row + n_features] = xt
    out[row + n_features] = 1.0
    return out


def _precision_matrices(prec_chol, covariance_type, n_components, n_features):
    """Precision matrices or vectors, broadcast to every component."""
    if covariance_type == "full":
        return prec_chol @ prec_chol.mT
    if covariance_type == "tied":
        return (prec_chol @ prec_chol.mT).expand(n_components, -1, -1)
    if covariance_type == "diag":
        return prec_chol**2
    return (prec_chol**2)[:, None].expand(n_components, n_features)


def _log_det_cholesky(prec_chol, covariance_type, n_components, n_features):
    if covariance_type == "full":
        return torch.log(torch.diagonal(prec_chol, dim1=-2, dim2=-1)).sum(-1)
    if covariance_type == "tied":
        log_det = torch.log(torch.diagonal(prec_chol)).sum()
        return log_det.expand(n_components)
    if covariance_type == "diag":
        return torch.log(prec_chol).sum(-1)
    return n_features * torch.log(prec_chol)


def _coefficients(params, shift, covariance_type):
    """The (n_components, n_phi) matrix A with A . phi(x) = log w_k N(x|k)."""
    weights, means, prec_chol = params["weights"], params["means"], params["prec_chol"]
    n_components, n_features = means.shape
    mu = means - shift
    precisions = _precision_matrices(prec_chol, covariance_type, n_components, n_features)
    if covariance_type in _QUADRATIC:
        rows, cols = torch.triu_indices(n_features, n_features, device=mu.device)
        quadratic = precisions[:, rows, cols] * torch.where(rows == cols, -0.5, -1.0)
        linear = (precisions @ mu[:, :, None])[:, :, 0]
    else:
        quadratic = -0.5 * precisions
        linear = precisions * mu
    # mu^T P mu, computed through the Cholesky factor as a sum of squares.
    if covariance_type == "full":
        mahalanobis = ((mu[:, None, :] @ prec_chol)[:, 0, :] ** 2).sum(-1)
    elif covariance_type == "tied":
        mahalanobis = ((mu @ prec_chol) ** 2).sum(-1)
    else:
        mahalanobis = (precisions * mu**2).sum(-1)
    log_weights = torch.log(weights)
    constant = (
        -0.5 * (n_features * math.log(2 * math.pi) + mahalanobis)
        + _log_det_cholesky(prec_chol, covariance_type, n_components, n_features)
        + log_weights
    )
    return torch.cat([quadratic, linear, constant[:, None]], dim=1)


def _normalise_(log_prob):
    """Log-normaliser and responsibilities of ``log_prob`` (n_components, n).

    A log-sum-exp over components, written out because torch's own takes
    exp of terms far below the maximum, whose underflowing results crawl
    through the CPU (10x slower here).  Log-ratios are floored at
    log(sqrt(tiny)) of the dtype, -43.7 in float32 and -354 in float64: a
    responsibility of 1e-19 (or 1e-154) instead of less changes nothing at the
    precision of the dtype, and the GEMM that takes the responsibilities next
    meets no denormals.  ``log_prob`` is overwritten by the responsibilities.
    """
    log_floor = 0.5 * math.log(torch.finfo(log_prob.dtype).tiny)
    log_max = log_prob.amax(0)
    resp = log_prob.sub_(log_max).clamp_(min=log_floor).exp_()
    total = resp.sum(0)
    resp.div_(total)
    return total.log_().add_(log_max), resp


def _unpack_second_moments(stats, covariance_type, n_features):
    """Per-component sums of r x x^T (or r x**2) from the statistics."""
    if covariance_type in _QUADRATIC:
        n_quadratic = n_features * (n_features + 1) // 2
        rows, cols = torch.triu_indices(n_features, n_features, device=stats.device)
        n_components = stats.shape[1]
        second = stats.new_zeros((n_components, n_features, n_features))
        second[:, rows, cols] = stats[:n_quadratic].T
        second[:, cols, rows] = stats[:n_quadratic].T
        return second, n_quadratic
    return stats[:n_features].T, n_features


def _parameters_from_stats(stats, shift, covariance_type, reg_covar, eps):
    """M-step: (weights before normalisation, means, covariances).

    ``shift`` is the centre the statistics were gathered around: one point
    of shape (n_features,), or one per component, (n_components, n_features).
    """
    n_features = shift.shape[-1]
    second, offset = _unpack_second_moments(stats, covariance_type, n_features)
    nk = stats[-1] + 10 * eps
    mu = stats[offset : offset + n_features].T / nk[:, None]
    if covariance_type == "full":
        covariances = second / nk[:, None, None] - mu[:, :, None] * mu[:, None, :]
        covariances.diagonal(dim1=-2, dim2=-1).add_(reg_covar)
    elif covariance_type == "tied":
        scatter = second.sum(0) - (nk[:, None] * mu).T @ mu
        covariances = scatter / nk.sum()
        covariances.diagonal().add_(reg_covar)
    else:
        covariances = second / nk[:, None] - mu**2 + reg_covar
        if covariance_type == "spherical":
            covariances = covariances.mean(1)
    return nk, mu + shift, covariances


def _precision_cholesky(covariances, covariance_type, input_dtype):
    """Cholesky factor U of the precision, P = U U^T, U upper triangular."""
    float32_input = input_dtype == np.float32
    message = _ILL_DEFINED_COVARIANCE + (_FLOAT32_HINT if float32_input else "")
    if covariance_type in _QUADRATIC:
        cov_chol, info = torch.linalg.cholesky_ex(covariances)
        if bool((info != 0).any()) or not bool(torch.isfinite(cov_chol).all()):
            raise ValueError(message)
        eye = torch.eye(
            covariances.shape[-1], dtype=covariances.dtype, device=covariances.device
        ).expand_as(cov_chol)
        return torch.linalg.solve_triangular(cov_chol, eye, upper=False).mT
    if bool((covariances <= 0.0).any()) or not bool(torch.isfinite(covariances).all()):
        raise ValueError(message)
    return 1.0 / torch.sqrt(covariances)


def _precision_cholesky_from_precisions(precisions, covariance_type):
    """U with P = U U^T, U upper triangular, as scikit-learn computes it."""
    if covariance_type in _QUADRATIC:
        flipped = torch.flip(precisions, dims=(-2, -1))
        return torch.flip(torch.linalg.cholesky(flipped), dims=(-2, -1))
    return torch.sqrt(precisions)


def _covariances_from_precisions(precisions, covariance_type):
    if covariance_type in _QUADRATIC:
        return torch.linalg.inv(precisions)
    return 1.0 / precisions


class GaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture model, a faster drop-in for scikit-learn's.

    Same parameters, attributes, methods, warnings and errors as
    :class:`sklearn.mixture.GaussianMixture`, with EM written in torch over
    sufficient statistics gathered chunk by chunk.  Beyond scikit-learn it
    takes ``sample_weight`` in :meth:`fit`, draws :meth:`sample` with a
    ``random_state`` given at call time, and runs on ``device="cuda"``.

    Read more in the :ref:`User Guide <mixture>`.

    Parameters
    ----------
    n_components : int, default=1
        The number of mixture components.

    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        The type of covariance parameters: each component has its own full
        covariance matrix ('full'), all components share one ('tied'), each
        has its own diagonal covariance ('diag') or its own single variance
        ('spherical').

    tol : float, default=1e-3
        The convergence threshold. EM iterations stop when the change of the
        lower bound (the mean log-likelihood) is below this threshold.

    reg_covar : float, default=1e-6
        Non-negative regularization added to the diagonal of covariance, so
        that the covariance matrices are all positive.

    max_iter : int, default=100
        The number of EM iterations to perform.

    n_init : int, default=1
        The number of initializations to perform. The best result is kept.

    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, \
            default='kmeans'
        The method used to initialize the weights, the means and the
        precisions: responsibilities from :class:`~sklearn.cluster.KMeans`,
        centres from :func:`~sklearn.cluster.kmeans_plusplus`, random
        responsibilities, or random data points as centres.

    weights_init : array-like of shape (n_components,), default=None
        The user-provided initial weights.

    means_init : array-like of shape (n_components, n_features), default=None
        The user-provided initial means.

    precisions_init : array-like, default=None
        The user-provided initial precisions (inverse covariances), of shape
        (n_components,) for 'spherical', (n_features, n_features) for 'tied',
        (n_components, n_features) for 'diag' and
        (n_components, n_features, n_features) for 'full'.

    random_state : int, RandomState instance or None, default=None
        Controls the initialization and, unless :meth:`sample` is given its
        own, the samples drawn.

    warm_start : bool, default=False
        If True, each call to :meth:`fit` starts from the solution of the
        previous one, and ``n_init`` is ignored.

    verbose : int, default=0
        Enable verbose output: 1 prints the initialization and each
        iteration; 2 adds the time and the change of the lower bound.

    verbose_interval : int, default=10
        Number of iterations between two verbose messages.

    device : str or torch.device, default='cpu'
        Where the EM runs: ``'cpu'`` or ``'cuda'``. Fitted attributes are
        numpy arrays whatever the device.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        The weights of the mixture components.

    means_ : ndarray of shape (n_components, n_features)
        The mean of each mixture component.

    covariances_ : ndarray
        The covariance of each mixture component; its shape depends on
        ``covariance_type`` as for ``precisions_init``.

    precisions_ : ndarray
        The precision matrices (inverse covariances), shaped like
        ``covariances_``.

    precisions_cholesky_ : ndarray
        The upper-triangular Cholesky factors ``U`` of the precisions,
        ``precisions_ = U @ U.T``, shaped like ``covariances_``.

    converged_ : bool
        True when the best initialization converged.

    n_iter_ : int
        Number of EM iterations of the best initialization.

    lower_bound_ : float
        Lower bound (mean log-likelihood of the training data) of the best
        initialization.

    lower_bounds_ : list of float
        The lower bound at each iteration of the best initialization.

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when X has string column
        names.

    See Also
    --------
    sklearn.mixture.GaussianMixture : The reference implementation.

    Examples
    --------
    >>> import numpy as np
    >>> from skgen import GaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
    >>> gm.means_[np.argsort(gm.means_[:, 0])]
    array([[ 1.,  2.],
           [10.,  2.]])
    >>> X_new, labels = gm.sample(4, random_state=0)
    >>> X_new.shape
    (4, 2)
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions({"full", "tied", "diag", "spherical"})],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_params": [
            StrOptions({"kmeans", "random", "random_from_data", "k-means++"})
        ],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
    }

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        device="cpu",
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.device = device

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Estimate the model parameters with the EM algorithm.

        The model is fitted ``n_init`` times and keeps the parameters with the
        largest lower bound. Each run iterates E- and M-steps until the lower
        bound changes by less than ``tol``, or ``max_iter`` is reached, in
        which case a :class:`~sklearn.exceptions.ConvergenceWarning` is
        raised.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, float64 or float32 (other types become float64).

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples. An integer weight gives the
            same fit as repeating the row that many times.

        Returns
        -------
        self : object
            The fitted mixture.
        """
        self._fit(X, sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit the model and predict the component of each sample of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Component labels.
        """
        X_tensor = self._fit(X, sample_weight)
        return self._argmax_components(X_tensor)

    def _fit(self, X, sample_weight):
        X = validate_data(
            self, X, dtype=[np.float64, np.float32], ensure_min_samples=2
        )
        n_samples, n_features = X.shape
        if n_samples < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components "
                f"but got n_components = {self.n_components}, "
                f"n_samples = {n_samples}"
            )
        weights_init, means_init, precisions_init = self._checked_inits(n_features)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
            if np.any(sample_weight < 0):
                raise ValueError("sample_weight must be non-negative.")
            n_positive = int(np.count_nonzero(sample_weight))
            if n_positive < self.n_components:
                raise ValueError(
                    "Expected at least n_components samples with a positive "
                    f"sample_weight but got n_components = {self.n_components} "
                    f"and {n_positive} positive weights."
                )

        device = resolve_device(self.device)
        X_tensor = as_tensor(X, device)
        w_tensor = None if sample_weight is None else as_tensor(sample_weight, device)
        total_weight = float(n_samples if w_tensor is None else w_tensor.sum(dtype=torch.float64))
        # Centre of the feature map: the weighted mean of the data.
        shift = _weighted_mean(X_tensor, w_tensor)

        do_init = not (self.warm_start and hasattr(self, "converged_"))
        n_init = self.n_init if do_init else 1
        max_lower_bound = -np.inf
        best_lower_bounds = []
        best_params = None
        self.converged_ = False
        random_state = check_random_state(self.random_state)

        for init in range(n_init):
            self._print_verbose_msg_init_beg(init)
            if do_init:
                params = self._initial_parameters(
                    X, X_tensor, sample_weight, w_tensor, total_weight, shift,
                    random_state, weights_init, means_init, precisions_init,
                )
                lower_bound = -np.inf
            else:
                params = self._parameters_from_attributes(device)
                lower_bound = self.lower_bound_
            current_lower_bounds = []
            if self.max_iter == 0:
                best_params, best_n_iter = params, 0
                continue
            converged = False
            for n_iter in range(1, self.max_iter + 1):
                prev_lower_bound = lower_bound
                coef = _coefficients(params, shift, self.covariance_type)
                stats, log_lik = self._pass(X_tensor, coef, shift, w_tensor)
                lower_bound = float(log_lik) / total_weight
                params = self._m_step(stats, shift, X.dtype)
                current_lower_bounds.append(lower_bound)
                change = lower_bound - prev_lower_bound
                self._print_verbose_msg_iter_end(n_iter, change)
                if abs(change) < self.tol:
                    converged = True
                    break
            self._print_verbose_msg_init_end(lower_bound, converged)
            if lower_bound > max_lower_bound or max_lower_bound == -np.inf:
                max_lower_bound = lower_bound
                best_params = params
                best_n_iter = n_iter
                best_lower_bounds = current_lower_bounds
                self.converged_ = converged

        if not self.converged_ and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. "
                "Try different init parameters, or increase max_iter, "
                "tol, or check for degenerate data.",
                ConvergenceWarning,
            )
        self._set_attributes(best_params, X.dtype)
        self.n_iter_ = best_n_iter
        self.lower_bound_ = max_lower_bound
        self.lower_bounds_ = best_lower_bounds
        return X_tensor

    def _checked_inits(self, n_features):
        """Validated copies of the user's initial parameters (never stored)."""
        weights_init = means_init = precisions_init = None
        if self.weights_init is not None:
            weights_init = _check_weights(self.weights_init, self.n_components)
        if self.means_init is not None:
            means_init = _check_means(self.means_init, self.n_components, n_features)
        if self.precisions_init is not None:
            precisions_init = _check_precisions(
                self.precisions_init, self.covariance_type, self.n_components,
                n_features,
            )
        return weights_init, means_init, precisions_init

    def _initial_parameters(
        self, X, X_tensor, sample_weight, w_tensor, total_weight, shift,
        random_state, weights_init, means_init, precisions_init,
    ):
        """Initial parameters, drawn in the same order as scikit-learn's."""
        device = X_tensor.device
        params = {}
        if weights_init is None or means_init is None or precisions_init is None:
            stats, centres = self._initial_stats(
                X, X_tensor, sample_weight, w_tensor, shift, random_state
            )
            eps = np.finfo(X.dtype).eps
            nk, means, covariances = _parameters_from_stats(
                stats, centres, self.covariance_type, self.reg_covar, eps
            )
            params = {"weights": nk / total_weight, "means": means,
                      "covariances": covariances}
        as_param = lambda a: torch.as_tensor(a, dtype=torch.float64, device=device)
        if weights_init is not None:
            params["weights"] = as_param(weights_init)
        if means_init is not None:
            params["means"] = as_param(means_init)
        if precisions_init is None:
            params["prec_chol"] = _precision_cholesky(
                params["covariances"], self.covariance_type, X.dtype
            )
        else:
            precisions = as_param(precisions_init)
            params["prec_chol"] = _precision_cholesky_from_precisions(
                precisions, self.covariance_type
            )
            params["covariances"] = _covariances_from_precisions(
                precisions, self.covariance_type
            )
        return params

    def _initial_stats(self, X, X_tensor, sample_weight, w_tensor, shift, random_state):
        """Statistics of the initial responsibilities, and their centres.

        Hard assignments (k-means labels, or one chosen row per component)
        are gathered component by component around each component's own
        mean, so that a tight or single-point component loses no precision
        to the ``E[x x^T] - mu mu^T`` cancellation.
        """
        n_samples = X.shape[0]
        k = self.n_components
        device = X_tensor.device
        if self.init_params == "random":
            resp = random_state.uniform(size=(n_samples, k))
            resp /= resp.sum(axis=1)[:, np.newaxis]
            resp = as_tensor(resp.astype(X.dtype, copy=False), device)
            stats = self._stats_from_resp(X_tensor, resp, shift, w_tensor)
            return stats, shift
        if self.init_params == "kmeans":
            labels = (
                KMeans(n_clusters=k, n_init=1, random_state=random_state)
                .fit(X, sample_weight=sample_weight)
                .labels_
            )
            labels = torch.as_tensor(labels, dtype=torch.int64, device=device)
            groups = [torch.nonzero(labels == j)[:, 0] for j in range(k)]
        else:
            if self.init_params == "random_from_data":
                p = None if sample_weight is None else sample_weight / sample_weight.sum()
                indices = random_state.choice(n_samples, size=k, replace=False, p=p)
            else:  # k-means++
                _, indices = kmeans_plusplus(
                    X, k, random_state=random_state, sample_weight=sample_weight
                )
            groups = [torch.as_tensor([i], device=device) for i in indices]
        n_phi = _n_features_map(X.shape[1], self.covariance_type)
        stats = torch.zeros((n_phi, k), dtype=torch.float64, device=device)
        centres = torch.zeros((k, X.shape[1]), dtype=torch.float64, device=device)
        for j, rows in enumerate(groups):
            if len(rows) == 0:
                continue  # an empty cluster keeps zero statistics
            members = X_tensor[rows]
            w = None if w_tensor is None else w_tensor[rows]
            centres[j] = _weighted_mean(members, w)
            ones = torch.ones((len(rows), 1), dtype=X_tensor.dtype, device=device)
            stats[:, j : j + 1] = self._stats_from_resp(members, ones, centres[j], w)
        return stats, centres

    def _m_step(self, stats, shift, dtype):
        eps = np.finfo(dtype).eps
        nk, means, covariances = _parameters_from_stats(
            stats, shift, self.covariance_type, self.reg_covar, eps
        )
        prec_chol = _precision_cholesky(covariances, self.covariance_type, dtype)
        return {"weights": nk / nk.sum(), "means": means,
                "covariances": covariances, "prec_chol": prec_chol}

    # ------------------------------------------------------- chunked passes

    def _chunk_rows(self, n_phi, itemsize, device):
        """Rows per chunk, from ``working_memory`` (and the cache on CPU)."""
        row_bytes = (n_phi + 3 * self.n_components) * itemsize
        budget = get_config()["working_memory"] * 2**20
        if device.type == "cpu":
            rows = min(budget, _CPU_CHUNK_BYTES) // row_bytes
            return int(min(max(rows, 16), _CPU_MAX_CHUNK_ROWS))
        return int(max(budget // row_bytes, 16))

    def _chunks(self, X, shift, with_features=True):
        """Yield ``(rows, phi)`` over row chunks, reusing one buffer."""
        n_samples, n_features = X.shape
        n_phi = _n_features_map(n_features, self.covariance_type)
        rows_per_chunk = self._chunk_rows(n_phi, X.element_size(), X.device)
        shift = shift.to(X.dtype)
        buffer = None
        for start in range(0, n_samples, rows_per_chunk):
            rows = slice(start, min(start + rows_per_chunk, n_samples))
            n_rows = rows.stop - rows.start
            if buffer is None or buffer.shape[1] != n_rows:
                buffer = torch.empty((n_phi, n_rows), dtype=X.dtype, device=X.device)
            yield rows, _build_features(X[rows], shift, self.covariance_type, buffer)

    def _pass(self, X, coef, shift, sample_weight):
        """One fused E- and M-step pass: statistics and total log-likelihood."""
        coef = coef.to(X.dtype)
        stats = torch.zeros(
            (coef.shape[1], coef.shape[0]), dtype=torch.float64, device=X.device
        )
        log_lik = torch.zeros((), dtype=torch.float64, device=X.device)
        for rows, phi in self._chunks(X, shift):
            log_norm, resp = _normalise_(coef @ phi)
            if sample_weight is not None:
                weights = sample_weight[rows]
                log_norm = log_norm * weights
                resp.mul_(weights)
            log_lik += log_norm.sum(dtype=torch.float64)
            stats += (phi @ resp.T).to(torch.float64)
        if not bool(torch.isfinite(log_lik)):
            raise ValueError(
                "The log-likelihood of the training data is not finite. "
                + _ILL_DEFINED_COVARIANCE
            )
        return stats, log_lik

    def _stats_from_resp(self, X, resp, shift, sample_weight):
        """Statistics of given responsibilities ``resp`` (n_samples, n_cols)."""
        n_phi = _n_features_map(X.shape[1], self.covariance_type)
        stats = torch.zeros(
            (n_phi, resp.shape[1]), dtype=torch.float64, device=X.device
        )
        for rows, phi in self._chunks(X, shift):
            r = resp[rows]
            if sample_weight is not None:
                r = r * sample_weight[rows, None]
            stats += (phi @ r).to(torch.float64)
        return stats

    def _log_prob_chunks(self, X):
        """Validate X and yield ``(rows, log w_k N(x | k))`` chunk by chunk."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        device = resolve_device(self.device)
        X_tensor = as_tensor(X, device)
        return self._log_prob_chunks_tensor(X_tensor), X_tensor.shape[0]

    def _log_prob_chunks_tensor(self, X):
        params = self._parameters_from_attributes(X.device)
        # Any centre is exact; the mixture's mean keeps the features small.
        shift = params["weights"] @ params["means"]
        coef = _coefficients(params, shift, self.covariance_type).to(X.dtype)
        for rows, phi in self._chunks(X, shift):
            yield rows, coef @ phi

    def _argmax_components(self, X_tensor):
        labels = np.empty(X_tensor.shape[0], dtype=np.int64)
        for rows, log_prob in self._log_prob_chunks_tensor(X_tensor):
            labels[rows] = log_prob.argmax(0).cpu().numpy()
        return labels

    # ------------------------------------------------------------ inference

    def score_samples(self, X):
        """Compute the log-likelihood of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples to score.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
            Log-likelihood of each sample of X under the model, in nats.
        """
        chunks, n_samples = self._log_prob_chunks(X)
        out = None
        for rows, log_prob in chunks:
            values = _normalise_(log_prob)[0].cpu().numpy()
            if out is None:
                out = np.empty(n_samples, dtype=values.dtype)
            out[rows] = values
        return out

    def score(self, X, y=None):
        """Compute the mean log-likelihood of the samples of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples to score.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        log_likelihood : float
            Mean log-likelihood of X under the model.
        """
        return float(np.mean(self.score_samples(X)))

    def predict(self, X):
        """Predict the component of each sample of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Component labels.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return self._argmax_components(as_tensor(X, resolve_device(self.device)))

    def predict_proba(self, X):
        """Posterior probability of each component for each sample of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
            The responsibilities; each row sums to one.
        """
        chunks, n_samples = self._log_prob_chunks(X)
        out = None
        for rows, log_prob in chunks:
            values = _normalise_(log_prob)[1].T.cpu().numpy()
            if out is None:
                out = np.empty((n_samples, self.n_components), dtype=values.dtype)
            out[rows] = values
        return out

    def sample(self, n_samples=1, *, random_state=None):
        """Generate random samples from the fitted mixture.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.

        random_state : int, RandomState instance or None, default=None
            Randomness of this call. With None the estimator's
            ``random_state`` is used, as in scikit-learn: an integer then
            gives the same samples at every call.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The samples, grouped by component.

        y : ndarray of shape (n_samples,)
            The component of each sample.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r}. The sampling "
                "requires at least one sample (an integer >= 1)."
            )
        rng = check_random_state(self.random_state if random_state is None else random_state)
        weights = np.asarray(self.weights_, dtype=np.float64)
        n_per_component = rng.multinomial(n_samples, weights / weights.sum())
        means = np.asarray(self.means_, dtype=np.float64)
        covariances = np.asarray(self.covariances_, dtype=np.float64)
        n_features = means.shape[1]
        parts = []
        for k, (mean, count) in enumerate(zip(means, n_per_component)):
            if self.covariance_type == "full":
                part = rng.multivariate_normal(mean, covariances[k], int(count))
            elif self.covariance_type == "tied":
                part = rng.multivariate_normal(mean, covariances, int(count))
            else:
                part = mean + rng.standard_normal(size=(count, n_features)) * np.sqrt(
                    covariances[k]
                )
            parts.append(part)
        labels = np.repeat(np.arange(len(n_per_component)), n_per_component)
        return np.vstack(parts), labels

    # -------------------------------------------------- model selection

    def _n_parameters(self):
        """Number of free parameters of the model."""
        n_features = self.means_.shape[1]
        k = self.n_components
        cov_params = {
            "full": k * n_features * (n_features + 1) / 2.0,
            "diag": k * n_features,
            "tied": n_features * (n_features + 1) / 2.0,
            "spherical": k,
        }[self.covariance_type]
        return int(cov_params + n_features * k + k - 1)

    def bic(self, X):
        """Bayesian information criterion of the model on X; lower is better.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        bic : float
            ``-2 * log-likelihood + n_parameters * log(n_samples)``.
        """
        n_samples = _num_samples(X)
        return -2 * self.score(X) * n_samples + self._n_parameters() * math.log(n_samples)

    def aic(self, X):
        """Akaike information criterion of the model on X; lower is better.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        aic : float
            ``-2 * log-likelihood + 2 * n_parameters``.
        """
        return -2 * self.score(X) * _num_samples(X) + 2 * self._n_parameters()

    # --------------------------------------------------- state handling

    def _set_attributes(self, params, dtype):
        to_numpy = lambda t: t.detach().cpu().numpy().astype(dtype, copy=False)
        self.weights_ = to_numpy(params["weights"])
        self.means_ = to_numpy(params["means"])
        self.covariances_ = to_numpy(params["covariances"])
        self.precisions_cholesky_ = to_numpy(params["prec_chol"])
        prec_chol = params["prec_chol"]
        if self.covariance_type in _QUADRATIC:
            self.precisions_ = to_numpy(prec_chol @ prec_chol.mT)
        else:
            self.precisions_ = to_numpy(prec_chol**2)

    def _parameters_from_attributes(self, device):
        as_param = lambda a: torch.as_tensor(
            np.asarray(a), dtype=torch.float64, device=device
        )
        return {
            "weights": as_param(self.weights_),
            "means": as_param(self.means_),
            "covariances": as_param(self.covariances_),
            "prec_chol": as_param(self.precisions_cholesky_),
        }

    # ------------------------------------------------------------ verbose
    # Progress goes to stdout behind ``verbose``, as in scikit-learn.

    def _print_verbose_msg_init_beg(self, n_init):
        if self.verbose >= 1:
            print("Initialization %d" % n_init)
        if self.verbose >= 2:
            self._init_prev_time = time()
            self._iter_prev_time = self._init_prev_time

    def _print_verbose_msg_iter_end(self, n_iter, diff_ll):
        if n_iter % self.verbose_interval != 0:
            return
        if self.verbose == 1:
            print("  Iteration %d" % n_iter)
        elif self.verbose >= 2:
            cur_time = time()
            print(
                "  Iteration %d\t time lapse %.5fs\t ll change %.5f"
                % (n_iter, cur_time - self._iter_prev_time, diff_ll)
            )
            self._iter_prev_time = cur_time

    def _print_verbose_msg_init_end(self, lower_bound, converged):
        message = "converged" if converged else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {message}.")
        elif self.verbose >= 2:
            lapse = time() - self._init_prev_time
            print(
                f"Initialization {message}. time lapse {lapse:.5f}s\t lower bound"
                f" {lower_bound:.5f}."
            )


def _weighted_mean(X, sample_weight):
    """Mean of the rows of X in float64, weighted when weights are given."""
    if sample_weight is None:
        return X.sum(0, dtype=torch.float64) / X.shape[0]
    sample_weight = sample_weight.to(torch.float64)
    return (sample_weight @ X.to(torch.float64)) / sample_weight.sum()


def _num_samples(X):
    return np.shape(X)[0] if hasattr(X, "shape") else len(X)
