"""Exact relations between the columns of a table: found, checked and rebuilt.

A table often holds columns that follow from others: a copy or a rescaling
of another column, a total that is the sum of its parts, a category that
another determines (city -> country).  A model that draws every column
would draw them apart; one that models the free columns and rebuilds the
rest keeps every relation in every row.  :class:`Relations` finds them on
the training columns, rebuilds the dependent columns of decoded rows, fills
a missing source from its dependent where the relation can be inverted, and
tells which rows break a relation.
"""

import itertools
import math
from dataclasses import dataclass

import numpy as np

# A relation holds when every residual is within this share of the column's
# largest magnitude (float rounding of a sum or a product stays far below).
RELATIVE_TOLERANCE = 1e-9
# Smallest number of distinct source values (numeric) or rows per source
# level (categorical) for a relation to be taken as structure, not chance.
MIN_DISTINCT = 3
MIN_ROWS_PER_LEVEL = 2
# A text column distinct in every row of at least this many is an identifier.
MIN_IDENTIFIER_ROWS = 20
# Sums are searched among at most this many numeric columns (cubic cost).
MAX_SUM_COLUMNS = 40
# Maps from a pair of categories are searched among at most this many.
MAX_PAIR_COLUMNS = 30
# Rows a pair's candidate target is first checked on (the rest if it holds).
_PROBE_ROWS = 4096

__all__ = ["Relation", "Relations"]


@dataclass
class Relation:
    """``target = sum(coef * source) + offset`` (numeric) or a level map.

    ``kind`` is 'affine' (one source), 'sum' (sources with coefficients
    +-1, no offset), 'map' (``mapping[source level]``, or of the tuple of
    the sources' levels) or 'id' (an identifier, no source).  A map of
    several sources gives a combination of levels it has not seen the
    target's most frequent level with the first source's level
    (``fallback``).
    """

    kind: str
    target: int
    sources: tuple
    coefs: tuple = ()
    offset: float = 0.0
    mapping: dict = None
    fallback: dict = None
    declared: bool = False

    def values(self, columns, rng=None):
        """The target computed from the sources (NaN/None where one is missing).

        An identifier ('id', no source) gets new values of the training
        ones' form, unique and unlike them, drawn from ``rng``.
        """
        if self.kind == "id":
            n_rows = next(len(c) for c in columns if c is not None)
            return _new_identifiers(self.mapping, n_rows, rng)
        if self.kind == "map":
            keys, gaps = self.keys(columns)
            if self.fallback is None:
                return np.asarray([None if gap else self.mapping.get(v)
                                   for v, gap in zip(keys, gaps, strict=True)],
                                  dtype=object)
            default = self.fallback[None]
            return np.asarray([
                None if gap else self.mapping.get(
                    v, self.fallback.get(v[0], default))
                for v, gap in zip(keys, gaps, strict=True)], dtype=object)
        total = np.full(len(columns[self.sources[0]]), self.offset)
        for coef, j in zip(self.coefs, self.sources, strict=True):
            total = total + coef * np.asarray(columns[j], dtype=np.float64)
        return total

    def keys(self, columns):
        """A map's key in each row (a tuple for several sources), and its gaps."""
        sources = [np.asarray(columns[j], dtype=object) for j in self.sources]
        gaps = np.logical_or.reduce([_missing_mask(s) for s in sources])
        if len(sources) == 1:
            return sources[0], gaps
        return list(zip(*sources, strict=True)), gaps

    def unseen(self, columns):
        """Rows whose sources are all observed in a combination not seen in fit."""
        keys, gaps = self.keys(columns)
        return np.asarray([not gap and k not in self.mapping
                           for k, gap in zip(keys, gaps, strict=True)], dtype=bool)

    def describe(self, labels):
        """The relation in words, with the columns' labels."""
        target = labels[self.target]
        sources = [labels[j] for j in self.sources]
        if self.kind == "id":
            return f"{target} identifies the rows"
        if self.kind == "map":
            if len(sources) > 1:
                return f"{target} is determined by ({', '.join(sources)})"
            return f"{target} is determined by {sources[0]}"
        if self.kind == "affine":
            (coef,) = self.coefs
            text = sources[0] if coef == 1 else f"{coef:.10g} * {sources[0]}"
            if self.offset:
                text += f" {'+' if self.offset > 0 else '-'} {abs(self.offset):.10g}"
            return f"{target} = {text}"
        terms = [("+ " if c > 0 else "- ") + s for c, s in zip(self.coefs, sources,
                                                                 strict=True)]
        return f"{target} = " + " ".join(terms).removeprefix("+ ")


class Relations:
    """The exact relations of a table; ``free`` are the columns modelled."""

    def __init__(self, items, n_features):
        self.items = list(items)
        targets = {r.target for r in self.items}
        self.free = [j for j in range(n_features) if j not in targets]

    @classmethod
    def find(cls, columns, numeric, categorical, sources_only=()):
        """The relations among ``columns``, at the indices given.

        Numeric columns are float arrays (NaN missing), categorical ones
        object arrays (None or NaN missing).  Each column is a target at
        most once, of sources that are free; lower-indexed relations first.
        The columns in ``sources_only`` may be sources but not targets.
        """
        items = [r for j in categorical if j not in sources_only
                 and (r := _identifier(columns, j)) is not None]
        taken = {r.target for r in items}
        missing = {j: _missing_mask(columns[j]) for j in (*numeric, *categorical)}
        codes = {j: _codes(columns[j]) for j in categorical}
        for j in sorted((*numeric, *categorical)):
            for i in sorted((*numeric, *categorical)):
                if i >= j or i in taken or j in taken or j in sources_only:
                    continue
                if not np.array_equal(missing[i], missing[j]):
                    continue
                if i in numeric and j in numeric:
                    relation = _affine(columns, i, j, missing[i])
                elif i in categorical and j in categorical:
                    relation = _level_map(columns, i, j, missing[i], codes)
                else:
                    relation = None
                if relation is not None:
                    items.append(relation)
                    taken.add(j)
                    break
        # a category determined by one after it (the loop above reads only
        # sources before their target), where neither is in a relation yet
        used = {i for r in items for i in r.sources}
        for j in categorical:
            if j in taken or j in used or j in sources_only:
                continue
            for i in categorical:
                if (i > j and i not in taken
                        and np.array_equal(missing[i], missing[j])
                        and (relation := _level_map(columns, i, j, missing[i],
                                                    codes))):
                    items.append(relation)
                    taken.add(j)
                    used.add(i)
                    break
        free = [j for j in numeric if j not in taken]
        if len(free) <= MAX_SUM_COLUMNS:
            items += _sums(columns, free, missing, set(sources_only))
        codes.update({j: _codes(columns[j]) for j in numeric})
        items += _pair_maps(columns, numeric, categorical, items, missing,
                            set(sources_only), codes)
        return cls(items, len(columns))

    def infer_sources(self, columns):
        """Columns with missing sources filled from their observed targets.

        Only where the relation can be solved for the source: an affine map,
        a sum with one source missing, a one-to-one level map.
        """
        columns = list(columns)
        for r in self.items:
            if r.kind == "id":
                continue
            target = columns[r.target]
            target_seen = ~_missing_mask(target)
            if r.kind == "map":
                inverse = _invert(r.mapping)
                if inverse is None or len(r.sources) > 1:
                    continue
                source = np.asarray(columns[r.sources[0]], dtype=object).copy()
                rows = target_seen & _missing_mask(source)
                source[rows] = [inverse.get(v) for v in np.asarray(target)[rows]]
                columns[r.sources[0]] = source
                continue
            values = [np.asarray(columns[j], dtype=np.float64).copy()
                      for j in r.sources]
            gaps = [np.isnan(v) for v in values]
            for k, (coef, v) in enumerate(zip(r.coefs, values, strict=True)):
                others = [m for m in range(len(values)) if m != k]
                rows = target_seen & gaps[k]
                for m in others:
                    rows &= ~gaps[m]
                if rows.any():
                    rest = sum(r.coefs[m] * values[m][rows] for m in others)
                    t = np.asarray(target, dtype=np.float64)[rows]
                    v[rows] = (t - r.offset - rest) / coef
                    columns[r.sources[k]] = v
        return columns

    def unseen_combinations(self, columns):
        """Rows in which a map of several sources meets a combination unseen.

        ``columns`` may hold None for the columns no such map reads.
        """
        rows = np.zeros(next(len(c) for c in columns if c is not None), dtype=bool)
        for r in self.items:
            if r.fallback is not None:
                rows |= r.unseen(columns)
        return rows

    def rebuild(self, columns, integer, rng=None):
        """Columns with every target computed from its sources, in order.

        ``integer[j]`` says whether column j holds integers (rounded);
        ``rng`` draws new identifiers.
        """
        columns = list(columns)
        for r in self.items:
            values = r.values(columns, rng)
            if r.kind != "map" and integer[r.target]:
                values = np.rint(values)
            columns[r.target] = values
        return columns

    def broken(self, columns):
        """Per row, the description index of the first relation it breaks, or -1."""
        n_rows = len(columns[0])
        first = np.full(n_rows, -1)
        for index, r in enumerate(self.items):
            if r.kind == "id":
                continue
            expected = r.values(columns)
            seen = ~_missing_mask(columns[r.target]) & ~_missing_mask(expected)
            if r.kind == "map":
                known = np.asarray([v in r.mapping for v in r.keys(columns)[0]],
                                   dtype=bool)
                actual = np.asarray(columns[r.target], dtype=object)
                bad = seen & known & (actual != expected)
            else:
                actual = np.asarray(columns[r.target], dtype=np.float64)
                bad = seen & ~np.isclose(actual, expected, rtol=RELATIVE_TOLERANCE,
                                         atol=_tolerance(actual[seen]))
            first[(first < 0) & bad] = index
        return first


def relation_evidence(relations, columns):
    """What some rows say of each relation, to add up over blocks of a table.

    Per relation: ``gaps``, the rows where the target's gap differs from
    its sources' (a found relation has none); for numbers, the largest
    residual and target magnitude where both are observed; for a map, the
    rows whose key it knows but whose target differs (``conflicts``), the
    rows with a key (``rows``) and the (key, target) pairs of unknown keys.
    """
    out = []
    for r in relations.items:
        if r.kind == "id":
            out.append({})
            continue
        target_gaps = _missing_mask(columns[r.target])
        source_gaps = np.logical_or.reduce([_missing_mask(columns[j])
                                            for j in r.sources])
        item = {"gaps": int((target_gaps != source_gaps).sum())}
        seen = ~target_gaps & ~source_gaps
        if r.kind == "map":
            keys, _ = r.keys(columns)
            target = np.asarray(columns[r.target], dtype=object)
            known = np.asarray([k in r.mapping for k in keys], dtype=bool)
            expected = r.values(columns)
            item["conflicts"] = int((seen & known & (target != expected)).sum())
            item["rows"] = int((~source_gaps).sum())
            rows = np.flatnonzero(seen & ~known)
            item["pairs"] = {(keys[i], target[i]) for i in rows}
        else:
            actual = np.asarray(columns[r.target], dtype=np.float64)[seen]
            residual = np.abs(actual - r.values(columns)[seen])
            item["residual"] = float(residual.max()) if residual.size else 0.0
            item["scale"] = float(np.abs(actual).max()) if actual.size else 0.0
        out.append(item)
    return out


def add_evidence(a, b):
    """The evidence of two blocks of rows (see :func:`relation_evidence`)."""
    out = []
    for x, y in zip(a, b, strict=True):
        item = {}
        for key in x:
            if key == "pairs":
                item[key] = x[key] | y[key]
            elif key in ("residual", "scale"):
                item[key] = max(x[key], y[key])
            else:
                item[key] = x[key] + y[key]
        out.append(item)
    return out


def _missing_mask(column):
    import pandas as pd

    return np.asarray(pd.isna(np.asarray(column, dtype=object)), dtype=bool)


def _tolerance(values):
    scale = np.max(np.abs(values)) if values.size else 0.0
    return RELATIVE_TOLERANCE * max(float(scale), 1e-300)


def _affine(columns, i, j, missing):
    """``x_j = s x_i + t`` on the observed rows, or None."""
    x = np.asarray(columns[i], dtype=np.float64)[~missing]
    y = np.asarray(columns[j], dtype=np.float64)[~missing]
    if x.size < 2 * MIN_DISTINCT or np.unique(x).size < MIN_DISTINCT:
        return None
    line = fit_line(x, y)
    if line is None:
        return None
    slope, offset = line
    if np.abs(y - (slope * x + offset)).max() > _tolerance(y):
        return None
    return Relation("affine", j, (i,), (slope,), offset)


def fit_line(x, y):
    """``(slope, offset)`` of the line through the ends of x, or None if flat."""
    lo, hi = np.argmin(x), np.argmax(x)
    slope = (y[hi] - y[lo]) / (x[hi] - x[lo])
    if slope == 0 or not np.isfinite(slope):
        return None
    # Round the map to the precision the data carry, so that a copy is 1, 0.
    slope = float(np.round(slope, 12))
    offset = float(np.round(y[lo] - slope * x[lo], 12)) + 0.0
    return slope, offset


def _codes(column):
    """Each entry's level number (in order of appearance), -1 where missing."""
    import pandas as pd

    return pd.factorize(np.asarray(column, dtype=object))[0]


def _n_distinct(codes, size):
    """Number of distinct values among ``codes`` (integers from 0 below ``size``)."""
    if size <= 4 * codes.size + 1_000_000:
        return int(np.count_nonzero(np.bincount(codes, minlength=size)))
    return int(np.unique(codes).size)


def _level_map(columns, i, j, missing, codes):
    """The level of column j as a function of column i's, or None."""
    import pandas as pd

    # the same tests on the level numbers of the whole columns, first
    x, y = codes[i][~missing], codes[j][~missing]
    if x.size == 0:
        return None
    x_size, y_size = int(x.max()) + 1, int(y.max()) + 1
    n_x = _n_distinct(x, x_size)
    if (_n_distinct(y, y_size) < 2 or x.size < MIN_ROWS_PER_LEVEL * n_x
            or _n_distinct(x.astype(np.int64) * y_size + y, x_size * y_size) != n_x):
        return None

    x = np.asarray(columns[i], dtype=object)[~missing]
    y = np.asarray(columns[j], dtype=object)[~missing]
    x_codes, x_levels = pd.factorize(x)
    y_codes, y_levels = pd.factorize(y)
    if y_levels.size < 2 or x.size < MIN_ROWS_PER_LEVEL * x_levels.size:
        return None
    # one level of y per level of x: as many distinct pairs as levels of x
    pairs = np.unique(x_codes.astype(np.int64) * y_levels.size + y_codes)
    if pairs.size != x_levels.size:
        return None
    first = np.full(x_levels.size, -1)
    first[x_codes[::-1]] = np.arange(x.size)[::-1]
    mapping = {x_levels[a]: y[row] for a, row in enumerate(first)}
    return Relation("map", j, (i,), mapping=mapping)


def _sums(columns, free, missing, sources_only=frozenset()):
    """``x_c = +-x_a +- x_b`` among the free numeric columns, each target once."""
    items, taken, used = [], set(), set()
    values = {j: np.asarray(columns[j], dtype=np.float64) for j in free}
    for c in sorted(free, reverse=True):
        found = None
        if c in used or c in sources_only:
            continue
        for a in free:
            for b in free:
                if found or not (a < b) or c in (a, b) or {a, b, c} & taken:
                    continue
                rows = ~(missing[a] | missing[b])
                if (not np.array_equal(missing[c], ~rows)
                        or rows.sum() < 2 * MIN_DISTINCT):
                    continue
                if min(np.unique(values[a][rows]).size,
                       np.unique(values[b][rows]).size) < MIN_DISTINCT:
                    continue
                y = values[c][rows]
                for coefs in ((1.0, 1.0), (1.0, -1.0), (-1.0, 1.0)):
                    total = coefs[0] * values[a][rows] + coefs[1] * values[b][rows]
                    if np.abs(y - total).max() <= _tolerance(y):
                        found = Relation("sum", c, (a, b), coefs)
                        break
        if found:
            items.append(found)
            taken.add(c)
            used.update(found.sources)
    return items


def _pair_maps(columns, numeric, categorical, items, missing, sources_only, codes):
    """Columns determined by a pair of free categories, neither alone.

    A target is a free column that no relation reads, with at least two
    values, missing exactly where a source is; the pair must have at most
    one distinct combination per ``MIN_ROWS_PER_LEVEL`` rows with a key.
    """
    taken = {r.target for r in items}
    used = {j for r in items for j in r.sources}
    sources = [j for j in categorical if j not in taken]
    if len(sources) > MAX_PAIR_COLUMNS:
        return []
    n_missing = {j: int(m.sum()) for j, m in missing.items()}
    found = []
    for a_index, a in enumerate(sources):
        for b in sources[a_index + 1:]:
            if a in taken or b in taken:
                continue
            gaps = missing[a] | missing[b]
            targets = [
                t for t in sorted((*numeric, *categorical))
                if t not in (a, b) and t not in taken and t not in used
                and t not in sources_only and n_missing[t] == int(gaps.sum())
                and np.array_equal(missing[t], gaps)
            ]
            if not targets:
                continue
            rows = np.flatnonzero(~gaps)
            width = codes[b].max() + 1
            key = codes[a][rows].astype(np.int64) * width + codes[b][rows]
            # the first rows rule out most targets before a pass over them all
            head = rows[:_PROBE_ROWS]
            head_order = np.argsort(key[:_PROBE_ROWS], kind="stable")
            head_same = np.diff(key[:_PROBE_ROWS][head_order]) == 0
            probe = [t for t in targets
                     if _constant_within(codes[t][head][head_order], head_same)]
            if not probe:
                continue
            order = np.argsort(key, kind="stable")
            same = np.diff(key[order]) == 0
            n_keys = key.size - int(same.sum())
            if key.size == 0 or key.size < MIN_ROWS_PER_LEVEL * n_keys:
                continue
            for t in probe:
                values = codes[t][rows][order]
                if np.unique(values).size < 2 or not _constant_within(values, same):
                    continue
                if _determines(codes[a][rows], values, order) or _determines(
                        codes[b][rows], values, order):
                    continue  # one of them alone: a map of one source
                relation = _first_seen_map(columns, (a, b), t, ~gaps)
                found.append(with_fallback(relation, columns))
                taken.add(t)
                used.update((a, b))
                break
    return found


def _constant_within(values, same):
    """Whether ``values``, sorted by key, are equal wherever their keys are."""
    return not (values[1:][same] != values[:-1][same]).any()


def _determines(source, target_sorted, order):
    """Whether ``source`` (codes) alone determines the target's codes."""
    target = np.empty_like(target_sorted)
    target[order] = target_sorted
    pairs = np.unique(source.astype(np.int64) * (target.max() + 1) + target)
    return pairs.size == np.unique(source).size


def _first_seen_map(columns, sources, target, rows):
    keys = list(zip(*(np.asarray(columns[j], dtype=object)[rows] for j in sources),
                    strict=True))
    values = np.asarray(columns[target], dtype=object)[rows]
    mapping = {}
    for key, value in zip(keys, values, strict=True):
        mapping.setdefault(key, value)
    return Relation("map", target, tuple(sources), mapping=mapping)


def _identifier(columns, j):
    """An identifier: a text column with a distinct value in every row."""
    values = np.asarray(columns[j], dtype=object)
    if values.size < MIN_IDENTIFIER_ROWS or _missing_mask(values).any():
        return None
    if not all(isinstance(v, str) for v in values):
        return None
    if len(set(values)) < values.size:
        return None
    return identifier_relation(j, values)


def identifier_relation(j, values):
    """Column j, of distinct strings ``values``, as an identifier."""
    return Relation("id", j, (), mapping={"seen": frozenset(values),
                                          "forms": values})


def _new_identifiers(known, n, rng):
    """``n`` distinct strings shaped as the training identifiers, none of them.

    A length is drawn with its share of the training identifiers, then each
    position's character among those seen there at that length, so that a
    fixed prefix stays and digits stay digits.
    """
    rng = np.random.default_rng(rng)
    lengths = np.asarray([len(v) for v in known["forms"]])
    alphabets = {
        length: [sorted({v[i] for v in known["forms"] if len(v) == length})
                 for i in range(length)]
        for length in np.unique(lengths).tolist()
    }
    out, seen = [], set(known["seen"])
    capacity = sum(math.prod(len(chars) for chars in alphabet)
                   for alphabet in alphabets.values())
    listed = capacity <= 20 * n + 10_000
    if listed:
        # few strings of this form: list the unused ones rather than miss
        # them draw after draw
        unused = [s for alphabet in alphabets.values()
                  for s in map("".join, itertools.product(*alphabet))
                  if s not in seen]
        out = [unused[i] for i in rng.permutation(len(unused))[:n]]
        seen.update(out)
    for _ in range(0 if listed else 100 * n + 1000):
        if len(out) == n:
            break
        length = int(lengths[rng.integers(lengths.size)])
        new = "".join(chars[rng.integers(len(chars))] for chars in alphabets[length])
        if new not in seen:
            seen.add(new)
            out.append(new)
    while len(out) < n:  # the form has too few values left: lengthen them
        new = f"{known['forms'][0]}-{len(seen)}"
        seen.add(new)
        out.append(new)
    return np.asarray(out, dtype=object)


def with_fallback(relation, columns):
    """A map of several sources, with the fallback of unseen combinations.

    For each level of the first source, the target's most frequent level
    with it in the training rows; ``None`` keys the overall most frequent.
    """
    import pandas as pd

    keys, gaps = relation.keys(columns)
    first = np.asarray(columns[relation.sources[0]], dtype=object)[~gaps]
    target = np.asarray(columns[relation.target], dtype=object)[~gaps]
    seen = ~_missing_mask(target)
    pairs = pd.DataFrame({"first": first[seen], "target": target[seen]})
    counts = pairs.groupby(["first", "target"], sort=True).size()
    top = counts.sort_values(ascending=False, kind="stable").groupby(level=0).head(1)
    fallback = {a: b for a, b in top.index}
    overall = pairs["target"].value_counts(sort=True)
    fallback[None] = overall.index[0] if overall.size else None
    relation.fallback = fallback
    return relation


def _invert(mapping):
    inverse = {}
    for a, b in mapping.items():
        if b in inverse:
            return None
        inverse[b] = a
    return inverse
