"""The monotone maps of a table's numeric columns (see ``TableEncoder``)."""

import numpy as np

# Numeric kinds whose values are intervals of the encoded line.
INTERVAL_KINDS = ("integer", "discrete")


def _weighted_knots(values, weights, n_quantiles):
    """Knots ``(x, level)`` of the mid-distribution function of a column.

    Each distinct value gets the middle of its stretch of the cumulative
    weight, so that a row of weight w and w copies of it give the same
    knots; at most ``n_quantiles`` of them are kept, spread evenly in level.
    """
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    distinct, start = np.unique(values, return_index=True)
    mass = np.add.reduceat(weights, start)
    cumulative = np.cumsum(mass)
    total = cumulative[-1]
    levels = (cumulative - 0.5 * mass) / total
    if distinct.size > n_quantiles:
        targets = np.linspace(levels[0], levels[-1], n_quantiles)
        keep = np.unique(np.searchsorted(levels, targets).clip(0, levels.size - 1))
        keep = np.union1d(keep, [0, levels.size - 1])
        distinct, levels = distinct[keep], levels[keep]
    # Knots closer than a billionth of the range would give slopes that
    # overflow: keep the first of each such run, and the last knot.
    tolerance = 1e-9 * (distinct[-1] - distinct[0])
    keep = [0]
    for i in range(1, distinct.size):
        if distinct[i] - distinct[keep[-1]] > tolerance:
            keep.append(i)
    if len(keep) == 1:
        keep.append(distinct.size - 1)
    keep[-1] = distinct.size - 1
    return distinct[keep], levels[keep]


class _PiecewiseLinear:
    """A monotone piecewise-linear map through knots, extended by its end slopes."""

    def __init__(self, x, y):
        self.x = np.asarray(x, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.float64)
        self.slopes = np.diff(self.y) / np.diff(self.x)

    def _segment(self, x, knots=None):
        knots = self.x if knots is None else knots
        segment = np.searchsorted(knots, x, side="right") - 1
        return np.clip(segment, 0, self.slopes.size - 1)

    def __call__(self, x):
        segment = self._segment(x)
        return self.y[segment] + self.slopes[segment] * (x - self.x[segment])

    def log_slope(self, x):
        return np.log(self.slopes[self._segment(x)])

    def inverse(self, y):
        segment = self._segment(y, self.y)
        return self.x[segment] + (y - self.y[segment]) / self.slopes[segment]


def _nearest(support, values):
    """The value of the sorted ``support`` nearest to each of ``values``."""
    right = np.clip(np.searchsorted(support, values), 1, support.size - 1)
    left = right - 1
    closer_left = np.abs(values - support[left]) <= np.abs(support[right] - values)
    return np.where(closer_left, support[left], support[right])
