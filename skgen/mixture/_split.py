"""The row-hash split of TabularMixture's held-out choice of ``n_components``.

A row's side of the split is a function of its values alone, so the same
rows are held out in memory and on Dask, whatever the blocks.
"""

import numpy as np

__all__ = ["held_out", "paired_sums", "row_hash", "selected", "split_weights"]


def row_hash(encoded, hash_params):
    """A number in [0, 1) for each row, from its values alone.

    Equal rows get equal hashes, so copies of a row and a weighted row fall
    on the same side of every split, and a split depends neither on the
    rows' order nor on the block a row is in.  ``encoded`` are rows as
    ``transform`` gives them (missing scores are NaN).
    """
    direction, offset = hash_params[:2]
    projected = np.round(np.nan_to_num(encoded, nan=0.5), 9) @ direction
    return np.modf(np.abs(np.sin(projected * 12.9898 + offset) * 43758.5453))[0]


def held_out(encoded, hash_params):
    """Rows held out for validation: a hash below ``validation_fraction``."""
    return row_hash(encoded, hash_params) < hash_params[2]


def selected(encoded, hash_params):
    """Rows the candidates of ``n_components='auto'`` are fitted on.

    The rows not held out, or a share of them (hash above the held-out
    fraction, below it plus that share) when they outnumber the
    ``_SELECTION_ROWS`` of ``_tabular``: choosing the number of components
    needs no more.
    """
    u = row_hash(encoded, hash_params)
    _, _, fraction, share = hash_params
    return (u >= fraction) & (u < fraction + share * (1.0 - fraction))


def split_weights(encoded, weights, hash_params):
    """The training and held-out weight of each row, in memory.

    A row whose copies weigh 2 or more in all (a repeated row, or a row of
    weight 2 or more) is shared between the sides, as a random split of its
    copies would share it: the held-out fraction of its weight is held out,
    the rest trains.  Every other row goes whole to the side of its hash.
    """
    _, _, fraction, share = hash_params
    u = row_hash(encoded, hash_params)
    train = np.where(selected(encoded, hash_params), weights, 0.0)
    valid = np.where(u < fraction, weights, 0.0)
    # copies are found by their values: their hashes may differ in the last
    # bits, as a matrix product rounds rows by their place in the batch
    _, distinct = np.unique(np.nan_to_num(encoded, nan=0.5), axis=0,
                            return_inverse=True)
    distinct = distinct.reshape(-1)
    repeated = np.bincount(distinct, weights)[distinct] >= 2
    train = np.where(repeated, weights * (1.0 - fraction) * share, train)
    valid = np.where(repeated, weights * fraction, valid)
    return train, valid


def paired_sums(log_lik, reference, weights):
    """Held-out sums that compare a candidate with a reference fit."""
    difference = log_lik - reference
    return {
        "weight": float(weights.sum()),
        "new": float(weights @ log_lik),
        "ref": float(weights @ reference),
        "squares": float(weights @ difference**2),
    }
