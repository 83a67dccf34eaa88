"""Two-sample metrics, computed in bounded memory.

Pairwise distances go through :func:`sklearn.metrics.pairwise_distances_chunked`,
which sizes its row blocks from ``sklearn.get_config()["working_memory"]``;
each block is reduced to per-row sums or flags before the next is computed, so
no metric ever holds an n-by-m matrix.

Tables (DataFrames with categorical, boolean or string columns, object arrays)
and samples with gaps are compared in one encoding fitted on the first sample:
numbers standardised, categories one-hot (a missing category is a row of
zeros), and each numeric column with a gap in either sample as its value (0,
the mean, when missing) plus a 0/1 missing flag.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import pairwise_distances_chunked
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)

from skgen.preprocessing import TableEncoder
from skgen.preprocessing._table_input import is_dataframe, is_table
from skgen.utils._threads import few_threads_for

__all__ = [
    "c2st_auc",
    "energy_distance",
    "make_sample_scorer",
    "mmd",
    "mode_coverage",
    "prdc",
]

# Rows of the reference sample on which the median heuristic is computed.
_MEDIAN_HEURISTIC_ROWS = 2000


def _check_pair(X, Y, min_samples=1):
    if _needs_encoding(X) or _needs_encoding(Y):
        X, Y = _encoded_pair(X, Y)
    X = check_array(X, dtype=np.float64, ensure_min_samples=min_samples)
    Y = check_array(Y, dtype=np.float64, ensure_min_samples=min_samples)
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X and Y must have the same number of features, got {X.shape[1]} "
            f"and {Y.shape[1]}."
        )
    return X, Y


def _needs_encoding(X):
    """Whether X is a table, or numbers with gaps, rather than numbers."""
    if is_table(X):
        return True
    if is_dataframe(X):
        return bool(X.isna().to_numpy().any())
    X = np.asarray(X)
    return X.dtype == object or (X.dtype.kind == "f" and bool(np.isnan(X).any()))


def _encoded_pair(X, Y):
    """X and Y in the encoding of the module's docstring, fitted on X."""
    encoder = TableEncoder(
        numeric_transform="standard", handle_unknown="ignore", allow_missing=True
    ).fit(X)
    encoded = [encoder.transform(X), encoder.transform(Y)]
    numeric = slice(0, encoder.n_numeric_)
    gaps = np.flatnonzero(np.isnan(encoded[0][:, numeric]).any(0)
                          | np.isnan(encoded[1][:, numeric]).any(0))
    return tuple(
        np.hstack([np.nan_to_num(Z, nan=0.0), np.isnan(Z[:, gaps]).astype(float)])
        for Z in encoded
    )


def _pairwise_row_reduce(A, B, reduce):
    """Concatenate ``reduce(D_block, start)`` over row blocks of dist(A, B)."""
    return np.concatenate(
        list(pairwise_distances_chunked(A, B, reduce_func=reduce, metric="euclidean"))
    )


def _median_distance(Z):
    """Median Euclidean distance between distinct rows of Z (a fixed subsample)."""
    if len(Z) > _MEDIAN_HEURISTIC_ROWS:
        rows = check_random_state(0).choice(
            len(Z), _MEDIAN_HEURISTIC_ROWS, replace=False
        )
        Z = Z[rows]
    columns = np.arange(len(Z))

    def upper_triangle(D, start):  # the pairs (i, j) with j > i of this block
        rows = start + np.arange(len(D))
        return [D[i, columns > row] for i, row in enumerate(rows)]

    pairs = [d for block in pairwise_distances_chunked(Z, reduce_func=upper_triangle)
             for d in block]
    return float(np.median(np.concatenate(pairs)))


def _median_heuristic_gamma(X):
    """``1 / (2 m^2)``, ``m`` the median distance between distinct rows of X."""
    median = _median_distance(X)
    if median == 0:
        raise ValueError(
            "The median distance between the rows of X (the reference sample) is "
            "0: most of its rows are equal, so gamma=None cannot be set from it. "
            "Pass gamma explicitly."
        )
    return 1.0 / (2.0 * median**2)


@validate_params(
    {"X": ["array-like"], "Y": ["array-like"],
     "gamma": [Interval(Real, 0, None, closed="neither"), None]},
    prefer_skip_nested_validation=True,
)
def mmd(X, Y, *, gamma=None):
    """Unbiased squared maximum mean discrepancy with an RBF kernel.

    ``MMD^2 = mean_{i != j} k(x_i, x_j) + mean_{i != j} k(y_i, y_j)
    - 2 mean_{i, j} k(x_i, y_j)`` with ``k(x, y) = exp(-gamma ||x - y||^2)``.
    The unbiased estimate can be slightly negative when X and Y come from the
    same distribution.

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
        The reference sample (the data), at least 2 rows. With
        ``gamma=None`` it alone sets the kernel.
    Y : array-like of shape (n_samples_Y, n_features)
        The sample compared with it (a model's samples), at least 2 rows.
    gamma : float, default=None
        Kernel width. None takes ``1 / (2 m^2)``, where ``m`` is the median
        Euclidean distance between distinct rows of X (on a fixed subsample
        of 2 000 rows when X is larger). Y plays no part in it, so that the
        samples of several models compared with the same X are all measured
        with the same kernel (a bandwidth taken from X and Y together would
        widen for a model whose samples spread far, and change the yardstick
        from one candidate to the next).

    Returns
    -------
    mmd2 : float
        The unbiased estimate of MMD^2; lower means closer.

    Examples
    --------
    >>> import numpy as np
    >>> from skgen.metrics import mmd
    >>> rng = np.random.default_rng(0)
    >>> same = mmd(rng.normal(size=(200, 2)), rng.normal(size=(200, 2)))
    >>> shifted = mmd(rng.normal(size=(200, 2)), rng.normal(size=(200, 2)) + 1)
    >>> bool(shifted > 10 * abs(same))
    True
    """
    X, Y = _check_pair(X, Y, min_samples=2)
    if gamma is None:
        gamma = _median_heuristic_gamma(X)

    def kernel_rows(D, start):
        return np.exp(-gamma * D**2).sum(axis=1)

    n, m = len(X), len(Y)
    # k(x, x) = 1 on the diagonal, which the unbiased estimate leaves out.
    k_xx = (_pairwise_row_reduce(X, X, kernel_rows).sum() - n) / (n * (n - 1))
    k_yy = (_pairwise_row_reduce(Y, Y, kernel_rows).sum() - m) / (m * (m - 1))
    k_xy = _pairwise_row_reduce(X, Y, kernel_rows).sum() / (n * m)
    return float(k_xx + k_yy - 2 * k_xy)


@validate_params({"X": ["array-like"], "Y": ["array-like"]},
                 prefer_skip_nested_validation=True)
def energy_distance(X, Y):
    """Energy distance between two samples (V-statistic form).

    ``sqrt(2 E||X - Y|| - E||X - X'|| - E||Y - Y'||)``, every expectation an
    average over all pairs. In one dimension it equals
    :func:`scipy.stats.energy_distance`.

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
        First sample.
    Y : array-like of shape (n_samples_Y, n_features)
        Second sample.

    Returns
    -------
    distance : float
        Non-negative; 0 when the samples are equal.

    Examples
    --------
    >>> from skgen.metrics import energy_distance
    >>> round(energy_distance([[0.0], [1.0]], [[0.0], [1.0]]), 6)
    0.0
    """
    X, Y = _check_pair(X, Y)

    def row_sums(D, start):
        return D.sum(axis=1)

    xy = _pairwise_row_reduce(X, Y, row_sums).sum() / (len(X) * len(Y))
    xx = _pairwise_row_reduce(X, X, row_sums).sum() / len(X) ** 2
    yy = _pairwise_row_reduce(Y, Y, row_sums).sum() / len(Y) ** 2
    return float(np.sqrt(max(2 * xy - xx - yy, 0.0)))


@validate_params(
    {"X": ["array-like"], "Y": ["array-like"],
     "estimator": [None, HasMethods(["fit", "predict_proba"])],
     "cv": [Interval(Integral, 2, None, closed="left")],
     "random_state": ["random_state"]},
    prefer_skip_nested_validation=True,
)
def c2st_auc(X, Y, *, estimator=None, cv=5, random_state=None):
    """Classifier two-sample test: cross-validated ROC-AUC telling X from Y.

    About 0.5 when X and Y come from the same distribution; towards 1 as a
    classifier learns to tell them apart. The folds are shuffled and
    stratified, and seeded by ``random_state`` together with the classifier,
    so that the result is reproducible.

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
        First sample (label 0).
    Y : array-like of shape (n_samples_Y, n_features)
        Second sample (label 1).
    estimator : classifier, default=None
        Cloned before use. None takes a
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.
    cv : int, default=5
        Number of stratified folds.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds and, when it has one, the classifier.

    Returns
    -------
    auc : float
        Mean ROC-AUC over the folds.

    Examples
    --------
    >>> import numpy as np
    >>> from skgen.metrics import c2st_auc
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.normal(size=(300, 2)), rng.normal(size=(300, 2)) + 2
    >>> bool(c2st_auc(X, Y, random_state=0) > 0.9)
    True
    """
    X, Y = _check_pair(X, Y, min_samples=cv)
    rng = check_random_state(random_state)
    seed = int(rng.randint(np.iinfo(np.int32).max))
    if estimator is None:
        estimator = HistGradientBoostingClassifier(random_state=seed)
    else:
        estimator = clone(estimator)
        if "random_state" in estimator.get_params():
            estimator.set_params(random_state=seed)
    data = np.vstack([X, Y])
    labels = np.r_[np.zeros(len(X)), np.ones(len(Y))]
    folds = StratifiedKFold(cv, shuffle=True, random_state=seed)
    # A small problem's OpenMP threads wait on each other on a busy machine.
    with few_threads_for(data.size):
        scores = cross_val_score(estimator, data, labels, cv=folds, scoring="roc_auc")
    return float(np.mean(scores))


@validate_params(
    {"real": ["array-like"], "fake": ["array-like"],
     "k": [Interval(Integral, 1, None, closed="left")]},
    prefer_skip_nested_validation=True,
)
def prdc(real, fake, *, k=5):
    """Precision, recall, density and coverage (Naeem et al., 2020).

    Each real point gets a radius, the distance to its k-th nearest real
    neighbour (itself excluded); likewise each fake point among the fakes.
    A point lies in a ball when its distance is strictly less than the radius.

    * precision: share of fake points inside some real ball;
    * recall: share of real points inside some fake ball;
    * density: number of real balls holding a fake point, averaged over fake
      points and divided by k;
    * coverage: share of real balls that hold at least one fake point.

    Parameters
    ----------
    real : array-like of shape (n_real, n_features)
        The data, more than k rows.
    fake : array-like of shape (n_fake, n_features)
        The generated samples, more than k rows.
    k : int, default=5
        Number of neighbours that sets the radii.

    Returns
    -------
    scores : dict
        ``{"precision", "recall", "density", "coverage"}``, floats.

    Examples
    --------
    >>> import numpy as np
    >>> from skgen.metrics import prdc
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> prdc(X, X, k=5)["coverage"]
    1.0
    """
    real, fake = _check_pair(real, fake, min_samples=k + 1)
    real_radii = _kth_neighbour_distance(real, k)
    fake_radii = _kth_neighbour_distance(fake, k)

    def fake_rows(D, start):  # D: (fake block, real)
        inside = D < real_radii[None, :]
        return inside.any(axis=1), inside.sum(axis=1)

    def real_rows(D, start):  # D: (real block, fake)
        recalled = (D < fake_radii[None, :]).any(axis=1)
        covered = D.min(axis=1) < real_radii[start : start + len(D)]
        return recalled, covered

    precision, density = _reduce_pairs(fake, real, fake_rows)
    recall, coverage = _reduce_pairs(real, fake, real_rows)
    return {
        "precision": float(precision.mean()),
        "recall": float(recall.mean()),
        "density": float(density.sum() / (k * len(fake))),
        "coverage": float(coverage.mean()),
    }


def _kth_neighbour_distance(X, k):
    # k + 1 neighbours of each row within X: the first is the row itself.
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    return distances[:, k]


def _reduce_pairs(A, B, reduce):
    blocks = list(pairwise_distances_chunked(A, B, reduce_func=reduce))
    return tuple(np.concatenate(part) for part in zip(*blocks, strict=True))


def mode_coverage(samples, centers, std):
    """Mode coverage of samples from a mixture of isotropic Gaussians (P4).

    A sample is of high quality when it lies within ``3 * std`` of its
    nearest centre; a mode is captured when at least one high-quality sample
    has it as nearest centre. The reverse KL is ``KL(p || uniform)``, where
    ``p`` is the share of all samples nearest to each centre.

    Parameters
    ----------
    samples : array-like of shape (n_samples, n_features)
        Generated samples.
    centers : array-like of shape (n_modes, n_features)
        The true centres.
    std : float
        The standard deviation of each true mode.

    Returns
    -------
    scores : dict
        ``{"modes": int, "high_quality": float in [0, 1], "reverse_kl": float}``.

    Examples
    --------
    >>> from skgen.datasets import make_ring
    >>> from skgen.metrics import mode_coverage
    >>> X, _, centers = make_ring(2500, random_state=0, return_centers=True)
    >>> mode_coverage(X, centers, std=0.01)["modes"]
    8
    """
    samples, centers = _check_pair(samples, centers)
    nearest_centre = NearestNeighbors(n_neighbors=1).fit(centers)
    distances, nearest = nearest_centre.kneighbors(samples)
    distances, nearest = distances[:, 0], nearest[:, 0]
    high_quality = distances < 3 * std
    share = np.bincount(nearest, minlength=len(centers)) / len(samples)
    share = share[share > 0]
    return {
        "modes": int(len(np.unique(nearest[high_quality]))),
        "high_quality": float(high_quality.mean()),
        "reverse_kl": float(np.sum(share * np.log(share * len(centers)))),
    }


_METRICS = {
    # name: (function, how to turn its value into higher-is-better)
    "mmd": (mmd, lambda v: -v),
    "energy_distance": (energy_distance, lambda v: -v),
    "c2st_auc": (c2st_auc, lambda v: -abs(v - 0.5)),
}


@validate_params(
    {"metric": [StrOptions(set(_METRICS)), callable], "random_state": ["random_state"],
     "greater_is_better": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def make_sample_scorer(metric, *, random_state=0, greater_is_better=False, **kwargs):
    """A scorer comparing a generative model's samples with held-out data.

    The scorer ``scorer(estimator, X, y=None)`` draws ``len(X)`` samples with
    ``estimator.sample(len(X), random_state=random_state)``, compares them with
    X by ``metric`` and returns a higher-is-better number, so that it serves as
    ``scoring`` in :class:`~sklearn.model_selection.GridSearchCV` or
    :func:`~sklearn.model_selection.cross_validate`.

    Parameters
    ----------
    metric : {"mmd", "energy_distance", "c2st_auc"} or callable
        The comparison, called as ``metric(X, samples, **kwargs)`` with the
        held-out data first. ``"mmd"`` and ``"energy_distance"`` are negated;
        ``"c2st_auc"`` becomes ``-|AUC - 0.5|``. A callable is negated unless
        ``greater_is_better=True``. ``"mmd"`` takes its kernel width from X
        alone, so on a given fold every candidate is measured with the same
        kernel.
    random_state : int, RandomState instance or None, default=0
        Passed to ``sample``; the fixed default compares every candidate on
        equally drawn samples.
    greater_is_better : bool, default=False
        Only for a callable metric: whether its value is already
        higher-is-better.
    **kwargs : dict
        Passed to the metric (``gamma`` for ``"mmd"``, say).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float``.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skgen import GaussianMixture
    >>> from skgen.datasets import make_ring
    >>> from skgen.metrics import make_sample_scorer
    >>> X, _ = make_ring(600, std=0.05, random_state=0)
    >>> search = GridSearchCV(GaussianMixture(random_state=0),
    ...                       {"n_components": [1, 8]},
    ...                       scoring=make_sample_scorer("mmd"), cv=3).fit(X)
    >>> search.best_params_
    {'n_components': 8}
    """
    if callable(metric):
        function = metric
        to_score = (lambda v: v) if greater_is_better else (lambda v: -v)
    else:
        function, to_score = _METRICS[metric]

    def scorer(estimator, X, y=None):
        samples = estimator.sample(len(X), random_state=random_state)
        if isinstance(samples, tuple):  # GaussianMixture returns (X, labels)
            samples = samples[0]
        if not (_needs_encoding(X) or _needs_encoding(samples)):
            X = check_array(X, dtype=np.float64)
        score = float(to_score(function(X, samples, **kwargs)))
        if not np.isfinite(score):
            raise ValueError(
                f"The sample scorer's {metric!r} is {score} for "
                f"{type(estimator).__name__}: its samples or the held-out rows "
                "hold values the metric cannot compare (infinite numbers?)."
            )
        return score

    return scorer
