"""TabularMixture on Dask: the partitions of a table as a source of blocks.

Only imported when a Dask collection meets a TabularMixture, so that
``import skgen`` never imports Dask.

The encoder (column kinds, quantile maps, levels) is fitted on a uniform
sample of at most ``_ENCODER_SAMPLE_ROWS`` rows, gathered in order when the
table has no more rows than that (the encoder is then the in-memory one).
Otherwise one pass over the blocks counts the levels of every categorical
column and gathers what the rows say of each relation found on the sample
(``_settle_on_blocks``): the levels and the pooling of rare ones are those
of the whole table, a relation a row outside the sample breaks is dropped,
and a level map learns the levels outside the sample.  Each EM pass encodes
every partition on its worker (integers dequantized by a generator seeded
by the fit's seed and the partition's index, so that every pass sees the
same draws) and reduces it to the engine's statistics with the in-memory
code; the validation split of ``n_components="auto"`` is the same hash of
the rows' values as in memory, computed block by block.
"""

from collections import Counter
from functools import partial

import dask
import numpy as np
import torch
from sklearn.utils import check_random_state

from skgen.mixture._engine.sources import TensorSource, add_results
from skgen.mixture._split import held_out, paired_sums, selected
from skgen.mixture._table_layout import Layout, layout_sums
from skgen.preprocessing._relations import (
    MIN_ROWS_PER_LEVEL,
    RELATIVE_TOLERANCE,
    add_evidence,
    relation_evidence,
)
from skgen.utils._dask import is_dask_dataframe, map_reduce_blocks, tree_reduce
from skgen.utils._missing import check_gap_counts, is_nan_marker
from skgen.utils._torch import as_tensor, resolve_device

__all__ = ["TableBlocks", "TableSource", "fit_table_blocks", "lazy"]

_ENCODER_SAMPLE_ROWS = 100_000



def fit_table_blocks(model, X, sample_weight, encoder, random_state):
    """``model.fit`` on the blocks of a Dask table, with ``encoder`` unfitted."""
    if sample_weight is not None:
        raise ValueError(
            "sample_weight is not supported with a Dask table yet: fit on "
            "the rows repeated, or compute the table into memory."
        )
    if not is_nan_marker(model.missing_values):
        raise ValueError(
            f"missing_values={model.missing_values!r}: on a Dask collection "
            "missing entries are marked by NaN (or None) only."
        )
    if resolve_device(model.device).type != "cpu":
        raise ValueError(
            f"device={model.device!r} applies to data in memory; with a Dask "
            "table EM runs on the workers' CPUs: use device='cpu'."
        )
    blocks = TableBlocks(X)
    # The blocks' dequantization draws follow the encoder's seed, as the
    # in-memory fit's do.
    seed = encoder.random_state
    sample, n_total = blocks.sample(_ENCODER_SAMPLE_ROWS, seed)
    Z_sample = encoder.fit_transform_dequantized(sample)
    if len(sample) < n_total:
        Z_sample = _settle_on_blocks(encoder, blocks, sample, seed, model.verbose)
    model._adopt(encoder)
    if model.n_components == "auto":
        hash_params = model._hash(random_state, Z_sample.shape[1], n_total)
    else:
        hash_params = None
    sums = blocks.map_reduce(block_sums, encoder, seed, hash_params)
    check_dask_sums(sums, model.n_components)
    layout = Layout(encoder, sums)
    init_rows = (Z_sample, np.ones(Z_sample.shape[0]))
    source = TableSource(blocks, encoder, seed)
    start, n_components = None, model.n_components
    model.validation_scores_ = {}
    if model.n_components == "auto":
        train = TableSource(blocks, encoder, seed, hash_params, "train")
        chosen = selected(encoder.transform(sample), hash_params)
        train_init = (Z_sample[chosen], np.ones(int(chosen.sum())))
        if sums["valid_weight"] == 0 or train_init[0].shape[0] < 2:
            # too few distinct rows to hold some out: validate on all
            train, train_init = source, init_rows
            sums["train_weight"] = sums["weight"]
            hash_params = (hash_params[0], hash_params[1], 2.0, 1.0)

        def validation_score(params, reference):
            return blocks.map_reduce(validation_block, model, layout,
                                     params, reference, hash_params)

        n_components, model.validation_scores_, start = model._select_n_components(
            layout, train, sums["train_weight"], int(sums["train_weight"]),
            train_init, validation_score, random_state,
        )
    model._finish_fit(layout, source, sums["weight"], n_components,
                     init_rows, random_state, start)
    model._fit_missingness(Z_sample, encoder.missing_mask(sample))
    return model

def _settle_on_blocks(encoder, blocks, sample, seed, verbose):
    """The encoder fitted on ``sample``, made true of every block; Z of the sample.

    A relation found on the sample that a row outside it breaks is dropped
    (its column is then modelled); a declared one raises.  A level map
    learns the source levels outside the sample, an identifier must be
    distinct over the whole table, and the levels of each categorical column
    (and the pooling of rare ones) are those of the whole table.
    """
    relations = encoder._relations
    categorical = [j for j, kind in enumerate(encoder._all_kinds)
                   if kind == "categorical"]
    counts, evidence = blocks.evidence(encoder, categorical)
    if relations is not None:
        kept = _kept_relations(encoder, evidence, counts, verbose)
        if len(kept) < len(relations.items):
            encoder._fit(sample, None, relations=kept)
    free = (list(range(encoder.n_features_in_)) if encoder._relations is None
            else encoder._relations.free)
    columns = encoder._columns(sample, reset=False)
    for i, j in enumerate(encoder._categorical):
        count = counts[free[j]][0]
        levels = encoder._levels(columns[j], np.asarray(list(count), dtype=object))
        encoder.categories_[i] = encoder._pool_by_counts(
            i, levels, np.asarray([count[v] for v in levels], dtype=np.float64))
    return encoder._encode(columns, encoder._labels(sample, len(columns)),
                           dequantize=check_random_state(seed))


def _kept_relations(encoder, evidence, counts, verbose):
    """The sample's relations that every block holds, maps completed."""
    labels = [repr(v) for v in getattr(encoder, "feature_names_in_", [])] or [
        f"at index {j}" for j in range(encoder.n_features_in_)]
    kept = []
    for r, item, text in zip(encoder._relations.items, evidence,
                             encoder.relations_, strict=True):
        holds = _holds(r, item, counts)
        if holds and r.kind == "map":
            holds = _completed(r, item["pairs"])
            holds = holds and (r.declared or item["rows"]
                               >= MIN_ROWS_PER_LEVEL * len(r.mapping))
        if holds:
            kept.append(r)
            continue
        if r.declared:
            raise ValueError(
                f"The declared relation {r.describe(labels)} does not hold on "
                "rows of the Dask table outside the encoder's sample. Correct "
                "those rows, or remove the relation from relations."
            )
        if verbose:
            print(f"Relation dropped (rows outside the sample break it): {text}")
    return kept


def _holds(r, item, counts):
    if r.kind == "id":
        count, missing = counts[r.target]
        if missing or any(n > 1 for n in count.values()):
            return False
        r.mapping["seen"] = frozenset(count)
        return True
    if not r.declared and item["gaps"]:
        return False
    if r.kind == "map":
        return item["conflicts"] == 0
    return item["residual"] <= RELATIVE_TOLERANCE * max(item["scale"], 1e-300)


def _completed(r, pairs):
    """Add a map's source levels outside the sample; False if one has two targets."""
    new = {}
    for key, target in pairs:
        if new.setdefault(key, target) != target:
            return False
    r.mapping.update(new)
    return True


class TableBlocks:
    """The row blocks of a Dask DataFrame (or 2-D Dask array) of a table."""

    def __init__(self, X):
        import dask.array as da

        if is_dask_dataframe(X):
            self.meta = X._meta
        elif isinstance(X, da.Array):
            if X.ndim != 2:
                raise ValueError(
                    f"Expected a 2D Dask array, got {X.ndim}D with shape {X.shape}."
                )
            if X.numblocks[1] > 1:
                X = X.rechunk({1: -1})
            self.meta = None
        else:
            raise TypeError(
                f"{type(X).__name__} is not supported: pass a dask.dataframe."
                "DataFrame or a dask.array.Array, or compute it first."
            )
        self.X = X
        delayed = X.to_delayed()
        self.blocks = list(np.ravel(delayed) if self.meta is None else delayed)

    def sample(self, n_rows, seed):
        """A pandas frame (or array) of at most ``n_rows`` rows, uniform.

        All rows, in order, when the table has no more; otherwise each row
        is kept with probability ``n_rows / n``, from a generator seeded by
        ``seed`` and the block's index.
        """
        lengths = dask.compute([dask.delayed(len)(b) for b in self.blocks])[0]
        n_total = int(sum(lengths))
        if n_total <= n_rows:
            parts = dask.compute(self.blocks)[0]
        else:
            share = n_rows / n_total
            parts = dask.compute([
                dask.delayed(_bernoulli_rows)(block, share, seed, index)
                for index, block in enumerate(self.blocks)
            ])[0]
        return _concatenate(parts), n_total

    def evidence(self, encoder, columns):
        """Level counts of ``columns`` and the relations' evidence, over blocks.

        ``counts[j]`` is a Counter of column j's values and its number of
        missing entries; the evidence is that of
        :func:`~skgen.preprocessing._relations.relation_evidence`.
        """
        parts = [dask.delayed(_block_evidence)(b, encoder, columns)
                 for b in self.blocks]
        return dask.compute(tree_reduce(parts, _add_block_evidence))[0]

    def map_reduce(self, func, *args):
        """The sum over blocks of ``func(*args, block)`` (a pandas or numpy block)."""
        blocks = [(block, index) for index, block in enumerate(self.blocks)]
        return map_reduce_blocks(partial(_call, func), args, blocks, add_results)


def _call(func, args, block, index):
    return func(*args, block, index)


def _bernoulli_rows(block, share, seed, index):
    rng = np.random.default_rng([seed, index])
    return block[rng.random(len(block)) < share]


def _concatenate(parts):
    if hasattr(parts[0], "iloc"):
        import pandas as pd

        return pd.concat(parts)
    return np.concatenate(parts)


def _block_evidence(block, encoder, columns):
    import pandas as pd

    values = encoder._values(encoder._split(block), block)
    counts = {}
    for j in columns:
        gaps = np.asarray(pd.isna(values[j]), dtype=bool)
        counts[j] = (Counter(values[j][~gaps].tolist()), int(gaps.sum()))
    relations = encoder._relations
    evidence = [] if relations is None else relation_evidence(relations, values)
    return counts, evidence


def _add_block_evidence(a, b):
    counts = {j: (a[0][j][0] + b[0][j][0], a[0][j][1] + b[0][j][1]) for j in a[0]}
    return counts, add_evidence(a[1], b[1])


class TableSource:
    """Encoded blocks of a table as a source for the EM engine.

    ``mode`` says which rows a pass takes: ``"all"``, ``"train"`` (the rows
    the candidates of ``n_components="auto"`` are fitted on) or ``"valid"``
    (the rows the validation hash holds out).
    """

    def __init__(self, blocks, encoder, seed, hash_params=None, mode="all",
                 row_width=None):
        self.blocks = blocks
        self.encoder = encoder
        self.seed = seed
        self.hash_params = hash_params
        self.mode = mode
        self.row_width = row_width
        self.width = encoder.n_numeric_ + sum(c.size for c in encoder.categories_)

    device = torch.device("cpu")

    def resized(self, row_width):
        return TableSource(self.blocks, self.encoder, self.seed, self.hash_params,
                           self.mode, row_width)

    def map_reduce(self, func, *args):
        """``func(*args, source)`` summed over blocks, each block encoded."""
        return self.blocks.map_reduce(
            partial(_on_encoded_block, func), args, self.encoder, self.seed,
            self.hash_params, self.mode, self.row_width,
        )


def encoded_block(encoder, seed, block, index):
    """A block's rows encoded with its own dequantization draws."""
    rng = np.random.default_rng([seed, index])
    columns = encoder._columns(block, reset=False)
    labels = encoder._labels(block, len(columns))
    return encoder._encode(columns, labels, dequantize=rng)


def block_weights(encoder, hash_params, mode, block):
    """Each row's weight in a pass of ``mode`` (the validation split)."""
    if mode == "all":
        return np.ones(len(block))
    split = held_out if mode == "valid" else selected
    return split(encoder.transform(block), hash_params).astype(np.float64)


def _on_encoded_block(func, args, encoder, seed, hash_params, mode, width,
                      block, index):
    Z = encoded_block(encoder, seed, block, index)
    w = block_weights(encoder, hash_params, mode, block)
    keep = np.flatnonzero(w > 0)
    source = TensorSource(
        as_tensor(np.ascontiguousarray(Z[keep]), "cpu"),
        as_tensor(w[keep], "cpu"),
        row_width=width,
    )
    return func(*args, source)


def lazy(estimator, method, X):
    """``estimator.method(X)`` as a lazy Dask array, block by block.

    Each block is checked and answered on its worker as in memory; the
    lengths of the blocks are not computed (their chunk sizes are unknown
    until then).
    """
    import dask.array as da
    from sklearn.utils.validation import _check_feature_names, _check_n_features

    blocks = TableBlocks(X)
    if blocks.meta is not None:
        _check_feature_names(estimator, blocks.meta, reset=False)
        _check_n_features(estimator, blocks.meta, reset=False)
    else:
        _check_n_features(estimator, X, reset=False)
    if method == "predict_proba":
        shape, dtype = (np.nan, estimator.n_components_), np.float64
    else:
        shape = (np.nan,)
        dtype = np.int64 if method == "predict" else np.float64
    answer = getattr(estimator, method)
    parts = [
        da.from_delayed(dask.delayed(answer)(block), shape=shape, dtype=dtype)
        for block in blocks.blocks
    ]
    return da.concatenate(parts)


def block_sums(encoder, seed, hash_params, block, index):
    """A Dask block's share of the layout's sums, and of the split's weights."""
    Z = encoded_block(encoder, seed, block, index)
    empty = np.flatnonzero(encoder.missing_mask(block).all(axis=1))
    check_gap_counts(empty.size, (), (), "TabularMixture")
    sums = layout_sums(Z, np.ones(Z.shape[0]), encoder.n_numeric_)
    if hash_params is not None:
        encoded = encoder.transform(block)
        sums["valid_weight"] = float(held_out(encoded, hash_params).sum())
        sums["train_weight"] = float(selected(encoded, hash_params).sum())
    return sums


def check_dask_sums(sums, n_components):
    if sums["weight"] < 2:
        raise ValueError(
            f"TabularMixture needs at least 2 rows; the Dask table has "
            f"{int(sums['weight'])}."
        )
    if n_components != "auto" and n_components > sums["weight"]:
        raise ValueError(
            f"n_components={n_components} must be <= the number of rows "
            f"({int(sums['weight'])})."
        )


def validation_block(estimator, layout, params, reference, hash_params, block,
                      index):
    """A block's share of ``paired_sums`` over its held-out rows."""
    encoded = estimator.encoder_.transform(block)
    held = held_out(encoded, hash_params)
    S = as_tensor(layout.scoring_matrix(estimator.encoder_, block, encoded)[held],
                  "cpu")
    log_lik = estimator._log_likelihood(layout, params, S)
    ref = (np.zeros_like(log_lik) if reference is None
           else estimator._log_likelihood(layout, reference, S))
    return paired_sums(log_lik, ref, np.ones(log_lik.shape[0]))
