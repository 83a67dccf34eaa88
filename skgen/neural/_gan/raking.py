"""Raking of the GAN's samples: each category at its share in the data.

A GAN draws the levels of a rare category less often than the data hold
them (a generator that drops a little mass of a rare level loses little
against the critic). ``GAN.fit`` draws a pool of rows and finds one factor
per level of each categorical column by iterative proportional fitting
(raking, Deming and Stephan, 1940): weighted by the product of its levels'
factors, the pool has every column's shares of the training rows.
``GAN.sample`` then keeps a drawn row with a chance proportional to its
weight (rejection sampling), so that the samples have those shares too,
while within a combination of levels the rows keep the generator's law.
"""

import numpy as np

# Passes of iterative proportional fitting over the columns.
_N_ITERATIONS = 50
# Largest factor by which a level's share is raised or lowered: a level the
# generator almost never draws would otherwise make sampling reject almost
# every draw.
_MAX_FACTOR = 4.0


def block_levels(Z, start, block_sizes):
    """The level of each one-hot block of rows Z (its largest entry)."""
    levels = []
    for size in block_sizes:
        levels.append(np.argmax(Z[:, start : start + size], axis=1))
        start += size
    return levels


def block_shares(Z, start, block_sizes):
    """Each block's level shares among the rows where it is observed."""
    shares = []
    for size in block_sizes:
        block = Z[:, start : start + size]
        counts = block.sum(axis=0)
        shares.append(counts / max(counts.sum(), 1.0))
        start += size
    return shares


def raking_weights(levels, factors):
    """The product of each row's levels' factors."""
    weights = np.ones(len(levels[0]) if levels else 0)
    for level, factor in zip(levels, factors, strict=True):
        weights = weights * factor[level]
    return weights


def raking_factors(levels, targets):
    """Factors per level whose weights give ``levels`` the ``targets`` shares.

    A level the pool never draws keeps a factor of 1 (no weight can raise a
    share of nothing); factors are bounded by ``_MAX_FACTOR`` either way.
    """
    factors = [np.ones(len(target)) for target in targets]
    for _ in range(_N_ITERATIONS):
        for j, (level, target) in enumerate(zip(levels, targets, strict=True)):
            weights = raking_weights(levels, factors)
            share = np.bincount(level, weights=weights, minlength=len(target))
            share = share / share.sum()
            ratio = np.divide(target, share, out=np.ones_like(target),
                              where=share > 0)
            factors[j] = np.clip(factors[j] * ratio, 1 / _MAX_FACTOR, _MAX_FACTOR)
    return factors
