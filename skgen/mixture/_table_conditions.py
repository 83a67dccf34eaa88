"""Rows of a TabularMixture drawn under conditions: ``sample(n, given=...)``.

Within a component the columns are independent, so a condition on some
columns changes only which component a row comes from (its weight times the
condition's probability in it) and, for a range, the law of that column in
it (a normal truncated to the range's scores).  The draws are exact for the
mixture and cost one sample.
"""

import math
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import log_ndtr, logsumexp, ndtr, ndtri

from skgen.preprocessing._table_input import is_dataframe

__all__ = ["sample_given"]


def sample_given(model, n_samples, rng, given):
    """``n_samples`` rows of ``model`` with the conditions of ``given``.

    ``given`` maps a column (its name, or its index for an array) to a
    value, or to a ``(low, high)`` range for a continuous or integer column.
    """
    equal, ranges = _conditions(model, given)
    log_w = np.log(model.weights_)
    if equal:
        row = _condition_row(model, equal)
        resp, _, _ = model._posterior_or_prior(row)
        with np.errstate(divide="ignore"):
            log_w = np.log(resp[0]) + float(model.score_samples(row)[0])
    for col, (z_low, z_high) in ranges.items():
        log_w = log_w + _log_mass(model, col, z_low, z_high)
    log_total = logsumexp(log_w)
    _check_probability(model, given, equal, log_total)
    components = rng.choice(log_w.size, size=n_samples, p=np.exp(log_w - log_total))
    Z = model._draw(components, rng)
    for col, (z_low, z_high) in ranges.items():
        mean = model.means_[components, col]
        sd = np.sqrt(model.variances_[components, col])
        low, high = ndtr((z_low - mean) / sd), ndtr((z_high - mean) / sd)
        Z[:, col] = mean + sd * ndtri(low + (high - low) * rng.uniform(size=n_samples))
    missing = model._drawn_gaps(Z, rng)
    if missing is not None:  # a given column is given
        missing[:, [_position(model, c) for c in given]] = False
    out = model.encoder_.inverse_transform(Z, missing, model.missing_values)
    for column, value in equal.items():
        if is_dataframe(out):
            out[column] = _fill(out[column], value)
        else:
            out[:, column] = value
    relations = model.encoder_._relations
    if relations is None:
        return out
    # the dependent columns follow the given values
    targets = np.zeros(out.shape, dtype=bool)
    targets[:, [r.target for r in relations.items]] = True
    return model.encoder_.with_relations(out, out, targets)


def _position(model, column):
    names = getattr(model, "feature_names_in_", None)
    if isinstance(column, Integral) and names is None:
        return int(column)
    return int(np.flatnonzero(names == column)[0])


def _conditions(model, given):
    """Equalities by column, and ranges by numeric score column (in scores)."""
    if not isinstance(given, dict) or not given:
        raise TypeError(
            f"given must be a non-empty dict of column -> value or (low, high); "
            f"got {given!r}."
        )
    names = getattr(model, "feature_names_in_", None)
    encoder = model.encoder_
    relations = encoder._relations
    targets = {} if relations is None else {r.target: r for r in relations.items}
    free = list(range(model.n_features_in_)) if relations is None else relations.free
    equal, ranges = {}, {}
    for column, condition in given.items():
        known = (names is not None and column in set(names)) or (
            names is None and isinstance(column, Integral)
            and 0 <= column < model.n_features_in_
        )
        if not known:
            columns = (f"its columns are {list(names)}" if names is not None
                       else f"give column indices below {model.n_features_in_}")
            raise ValueError(
                f"given names the column {column!r}, which the model was not "
                f"fitted on: {columns}."
            )
        j = _position(model, column)
        if j in targets:
            relation = targets[j]
            if relation.kind == "affine" and not isinstance(condition, tuple):
                (coef,) = relation.coefs
                source = relation.sources[0]
                column = names[source] if names is not None else source
                condition = (condition - relation.offset) / coef
                j = source
            else:
                raise ValueError(
                    f"The column {column!r} follows from others "
                    f"({encoder.relations_[relation_index(relations, j)]}): give "
                    "the condition on the columns it follows from."
                )
        if isinstance(condition, tuple):
            ranges.update(_score_range(model, free.index(j), column, condition))
            continue
        if encoder.kinds_[free.index(j)] == "categorical":
            i = encoder._categorical.index(free.index(j))
            codes = encoder._category_codes(i, np.asarray([condition], dtype=object))
            levels = encoder.categories_[i]
            if codes[0] < 0:
                raise ValueError(
                    f"The value {condition!r} given for {column!r} was not seen in "
                    f"fit; its levels are {_shown(levels)}."
                )
        equal[column] = condition
    return equal, ranges


def _shown(levels, most=10):
    shown = [str(level) for level in levels[:most]]
    return ", ".join(shown) + (f" and {len(levels) - most} more" if len(levels) > most
                               else "")


def relation_index(relations, target):
    return next(i for i, r in enumerate(relations.items) if r.target == target)


def _score_range(model, free_index, column, condition):
    """``{numeric score column: (low score, high score)}`` of a range."""
    encoder = model.encoder_
    if (len(condition) != 2 or not all(isinstance(v, Real) for v in condition)
            or not condition[0] <= condition[1]):
        raise ValueError(
            f"The range given for {column!r} must be (low, high) numbers with "
            f"low <= high; got {condition!r}."
        )
    kind = encoder.kinds_[free_index]
    if kind not in ("continuous", "integer"):
        raise ValueError(
            f"A range applies to a continuous or integer column; {column!r} is "
            f"{kind}: give one value."
        )
    col = encoder._numeric.index(free_index)
    f = encoder._maps[col]
    low, high = float(condition[0]), float(condition[1])
    if kind == "integer":  # the integers low..high, each over [v, v + 1)
        low, high = math.ceil(low), math.floor(high) + 1.0
    return {col: (float(f(np.array([low]))[0]), float(f(np.array([high]))[0]))}


def _log_mass(model, col, z_low, z_high):
    """Each component's log-probability of its score column in the range."""
    mean, sd = model.means_[:, col], np.sqrt(model.variances_[:, col])
    upper, lower = log_ndtr((z_high - mean) / sd), log_ndtr((z_low - mean) / sd)
    with np.errstate(divide="ignore", invalid="ignore"):
        return upper + np.log1p(-np.exp(lower - upper))


def _condition_row(model, equal):
    """One row with the given values and every other entry missing."""
    width = model.encoder_.n_numeric_ + sum(c.size for c in model.encoder_.categories_)
    template = model.encoder_.inverse_transform(np.zeros((1, width)))
    if not is_dataframe(template):
        row = np.full((1, model.n_features_in_), np.nan, dtype=object)
        for j, value in equal.items():
            row[0, j] = value
        if template.dtype != object:
            row = row.astype(np.float64)
        return row
    row = template.mask(np.ones(template.shape, dtype=bool))
    for column, value in equal.items():
        row[column] = _fill(template[column], value)
    return row


def _fill(column, value):
    """``column`` with every entry ``value``, in the column's dtype."""
    import pandas as pd

    try:
        return pd.Series([value] * len(column), index=column.index).astype(column.dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"The value {value!r} given for {column.name!r} does not fit its "
            f"dtype {column.dtype}: {exc}"
        ) from exc


def _check_probability(model, given, equal, log_total):
    """Raise on an impossible condition; warn on a nearly impossible one."""
    if not np.isfinite(log_total):
        raise ValueError(
            f"The conditions {given!r} have probability 0 under the model: no "
            "component can draw them together."
        )
    continuous = [
        c for c in equal
        if model.encoder_.kinds_[_free_index(model, c)] == "continuous"
    ]
    if continuous:  # a density, not a probability: nothing to compare
        return
    expected = math.exp(log_total) * model._total_weight
    if expected < 1.0:
        warnings.warn(
            f"The conditions {given!r} have probability {math.exp(log_total):.3g} "
            f"under the model: {expected:.3g} of the {model._total_weight:.0f} "
            "training rows in expectation. The rows drawn extrapolate from "
            "components that hold few such rows, if any.",
            UserWarning,
            stacklevel=4,
        )


def _free_index(model, column):
    j = _position(model, column)
    relations = model.encoder_._relations
    return j if relations is None else relations.free.index(j)
