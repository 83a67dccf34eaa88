"""Relations a user declares: read from their tuples and checked on the table.

A declared relation is a tuple ``(dependent, kind, sources)``, with ``kind``
one of :data:`KINDS` (see ``TableEncoder``'s ``relations``).  Its
coefficients or level map are taken from the training rows, and a training
row that breaks it is an error: the user said it holds.
"""

import numpy as np

from skgen.preprocessing._relations import (
    Relation,
    Relations,
    fit_line,
    identifier_relation,
    with_fallback,
)

__all__ = ["KINDS", "declared_relations", "split_relations"]

KINDS = ("equal", "affine", "sum", "difference", "determined_by", "identifier")
# Rows quoted in an error about a broken relation.
_SHOWN_ROWS = 10

_HOW = (
    "Write a declared relation as a tuple (dependent column, kind, source "
    "column or list of source columns), for example ('total', 'sum', ['net', "
    "'tax']), ('net', 'difference', ['gross', 'tax']), ('country', "
    "'determined_by', 'city'), ('price', 'determined_by', ['name', 'size']), "
    "('b', 'affine', 'a'), ('a_copy', 'equal', 'a') or ('id', 'identifier'); "
    "add the string 'auto' to the list to find the other relations too."
)


def split_relations(relations):
    """``(declared specs, whether to find relations)`` from the parameter."""
    if relations is None:
        return [], False
    if isinstance(relations, str):
        return [], True
    specs = [spec for spec in relations if not isinstance(spec, str)]
    for spec in relations:
        if isinstance(spec, str) and spec != "auto":
            raise ValueError(
                f"relations has the string {spec!r}; the only string it takes is "
                f"'auto'. {_HOW}"
            )
    return specs, "auto" in [s for s in relations if isinstance(s, str)]


def declared_relations(specs, columns, kinds, names, labels):
    """The relations ``specs`` declare, fitted on ``columns`` and checked.

    ``columns`` are every column as numbers (NaN missing) or objects,
    ``kinds`` their kinds, ``names`` the DataFrame's column names (None for
    an array, whose columns are named by index) and ``labels`` the columns
    in words.
    """
    parsed = [_parse(spec, kinds, names, labels) for spec in specs]
    _check_structure(parsed, labels)
    items = []
    for target, kind, sources in parsed:
        relation = _fit(target, kind, sources, columns, labels)
        relation.declared = True
        _check_holds(relation, columns, labels)
        items.append(relation)
    return items


def _parse(spec, kinds, names, labels):
    if (not isinstance(spec, tuple | list) or len(spec) not in (2, 3)
            or not isinstance(spec[1], str)):
        raise ValueError(f"relations has the entry {spec!r}. {_HOW}")
    kind = spec[1]
    if kind not in KINDS:
        raise ValueError(
            f"The declared relation {spec!r} has the kind {kind!r}; write one of "
            f"{', '.join(map(repr, KINDS))}. {_HOW}"
        )
    if (kind == "identifier") != (len(spec) == 2):
        raise ValueError(
            f"The declared relation {spec!r}: an identifier is written "
            "(column, 'identifier'), every other kind (dependent, kind, sources). "
            f"{_HOW}"
        )
    target = _position(spec[0], spec, names, len(kinds))
    given = () if kind == "identifier" else spec[2]
    given = list(given) if isinstance(given, tuple | list) else [given]
    sources = [_position(s, spec, names, len(kinds)) for s in given]
    counts = {"equal": (1, 1), "affine": (1, 1), "sum": (2, None),
              "difference": (2, None), "determined_by": (1, None),
              "identifier": (0, 0)}[kind]
    if len(sources) < counts[0] or (counts[1] is not None and len(sources) > counts[1]):
        wanted = ("one source column" if counts == (1, 1)
                  else "at least two source columns" if counts[0] == 2
                  else "one source column or a list of them")
        raise ValueError(
            f"The declared relation {spec!r} has {len(sources)} source column(s); "
            f"{kind!r} takes {wanted}. {_HOW}"
        )
    if target in sources or len(set(sources)) < len(sources):
        raise ValueError(
            f"The declared relation {spec!r} names a column twice: the dependent "
            "column cannot be one of its sources, and each source is named once."
        )
    numeric = kind in ("affine", "sum", "difference")
    if kind == "equal":
        numeric = kinds[target] != "categorical"
        if any((kinds[s] != "categorical") != numeric for s in sources):
            raise ValueError(
                f"The declared relation {spec!r} makes a number equal to a "
                "category. Give both columns the same kind, or use "
                "'determined_by'."
            )
    if numeric:
        for j in (target, *sources):
            if kinds[j] == "categorical":
                raise ValueError(
                    f"The declared relation {spec!r} computes numbers, but column "
                    f"{labels[j]} is categorical. Use 'determined_by' for "
                    "categories, or give the column a numeric dtype."
                )
    if kind == "identifier" and kinds[target] != "categorical":
        raise ValueError(
            f"The declared identifier {labels[target]} is numeric; an identifier "
            "is a text column. Give it a string dtype, or leave it out of "
            "relations to model it as a number."
        )
    return target, kind, tuple(sources)


def _position(column, spec, names, n_features):
    if names is not None:
        if column in names:
            return names.index(column)
        raise ValueError(
            f"The declared relation {spec!r} names the column {column!r}, which is "
            f"not in the table; its columns are {names}."
        )
    if isinstance(column, int | np.integer) and 0 <= column < n_features:
        return int(column)
    raise ValueError(
        f"The declared relation {spec!r} names the column {column!r}; an array's "
        f"columns are named by their index, from 0 to {n_features - 1}."
    )


def _check_structure(parsed, labels):
    """Each dependent column declared once, and none a source of another."""
    by_target = {}
    for target, _, sources in parsed:
        if target in by_target:
            raise ValueError(
                f"Column {labels[target]} is the dependent column of two declared "
                "relations. Declare one relation per dependent column."
            )
        by_target[target] = sources
    for target, sources in by_target.items():
        for s in sources:
            if s not in by_target:
                continue
            if target in _upstream(s, by_target):
                raise ValueError(
                    f"The declared relations form a cycle through {labels[target]} "
                    f"and {labels[s]}: each is computed from the other. Keep the "
                    "relation that gives the column you want computed, and drop "
                    "the other."
                )
            raise ValueError(
                f"Column {labels[s]} is a source of {labels[target]} and is itself "
                "computed by a declared relation. Sources must be columns that no "
                f"relation computes: declare {labels[target]} from the columns "
                f"{labels[s]} follows from "
                f"({', '.join(labels[j] for j in by_target[s])})."
            )


def _upstream(j, by_target):
    seen, todo = set(), [j]
    while todo:
        for s in by_target.get(todo.pop(), ()):
            if s not in seen:
                seen.add(s)
                todo.append(s)
    return seen


def _fit(target, kind, sources, columns, labels):
    if kind == "identifier":
        return identifier_relation(target, _identifier_values(target, columns, labels))
    if kind == "determined_by" or (kind == "equal" and columns[target].dtype == object):
        relation = Relation("map", target, sources, mapping=_majority_levels(
            Relation("map", target, sources, mapping={}), columns,
            identity=kind == "equal"))
        return with_fallback(relation, columns) if len(sources) > 1 else relation
    if kind == "equal":
        return Relation("affine", target, sources, (1.0,), 0.0)
    if kind == "sum":
        return Relation("sum", target, sources, (1.0,) * len(sources))
    if kind == "difference":
        return Relation("sum", target, sources, (1.0,) + (-1.0,) * (len(sources) - 1))
    return _fit_affine(target, sources[0], columns, labels)


def _majority_levels(relation, columns, identity):
    """The target level of most rows with each source key (or the key itself).

    The majority, so that a few rows breaking the relation are the ones named.
    """
    import pandas as pd

    keys, gaps = relation.keys(columns)
    keys = np.asarray(pd.Series(list(keys), dtype=object)[~gaps], dtype=object)
    if identity:
        return {k: k for k in pd.unique(keys)}
    target = np.asarray(columns[relation.target], dtype=object)[~gaps]
    seen = ~np.asarray(pd.isna(target), dtype=bool)
    key_codes, key_levels = pd.factorize(keys[seen])
    target_codes, target_levels = pd.factorize(target[seen])
    pairs, counts = np.unique(key_codes.astype(np.int64) * target_levels.size
                              + target_codes, return_counts=True)
    # most rows first, then the level seen first
    order = np.lexsort((pairs % max(target_levels.size, 1), -counts))
    mapping = {}
    for pair in pairs[order]:
        mapping.setdefault(key_levels[pair // target_levels.size],
                           target_levels[pair % target_levels.size])
    return mapping


def _fit_affine(target, source, columns, labels):
    x, y = (np.asarray(columns[j], dtype=np.float64) for j in (source, target))
    seen = ~(np.isnan(x) | np.isnan(y))
    x, y = x[seen], y[seen]
    if np.unique(x).size < 2:
        raise ValueError(
            f"The declared relation {labels[target]} affine in {labels[source]} "
            f"cannot be fitted: {labels[source]} takes fewer than two values on the "
            "rows where both are observed. Declare it 'equal', or drop it."
        )
    # The line of most rows, so that a few broken rows are the ones named.
    order = np.argsort(x, kind="stable")
    dx, dy = np.diff(x[order]), np.diff(y[order])
    steps = dx > 0
    slope = np.median(dy[steps] / dx[steps])
    offset = np.median(y - slope * x)
    residual = np.abs(y - slope * x - offset)
    scale = max(float(np.max(np.abs(y))), 1e-300)
    near = residual <= 1e-6 * scale
    if np.unique(x[near]).size >= 2:
        x, y = x[near], y[near]
    line = fit_line(x, y)
    if line is None:
        raise ValueError(
            f"The declared relation {labels[target]} affine in {labels[source]} "
            f"has slope 0: {labels[target]} is constant. Drop the relation."
        )
    return Relation("affine", target, (source,), (line[0],), line[1])


def _identifier_values(target, columns, labels):
    values = np.asarray(columns[target], dtype=object)
    bad = np.asarray([not isinstance(v, str) for v in values])
    if bad.any():
        raise ValueError(
            f"The declared identifier {labels[target]} has {bad.sum()} entries that "
            f"are not text (missing or numbers), at positions "
            f"{np.flatnonzero(bad)[:_SHOWN_ROWS].tolist()}. An identifier holds a "
            "distinct string in every row."
        )
    first = {}
    repeats = [i for i, v in enumerate(values) if first.setdefault(v, i) != i]
    if repeats:
        raise ValueError(
            f"The declared identifier {labels[target]} repeats values in "
            f"{len(repeats)} rows, at positions {repeats[:_SHOWN_ROWS]} (row "
            f"{repeats[0]} repeats row {first[values[repeats[0]]]}, "
            f"{values[repeats[0]]!r}). An identifier holds a distinct string in "
            "every row: drop it from relations to model it as a category."
        )
    return values


def _check_holds(relation, columns, labels):
    if relation.kind == "id":
        return
    rows = np.flatnonzero(Relations([relation], len(columns)).broken(columns) >= 0)
    if rows.size == 0:
        return
    first = rows[0]
    expected = relation.values([c[first : first + 1] for c in columns])[0]
    raise ValueError(
        f"The declared relation {relation.describe(labels)} does not hold on "
        f"{rows.size} training row(s), at positions {rows[:_SHOWN_ROWS].tolist()}: "
        f"at position {first}, {labels[relation.target]} is "
        f"{_plain(columns[relation.target][first])!r} where the relation gives "
        f"{_plain(expected)!r}. Correct those rows, or remove the relation from "
        "relations."
    )


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value
