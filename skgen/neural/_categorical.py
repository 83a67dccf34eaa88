"""Categorical outputs of the neural models: one-hot blocks of table columns.

A table encoded by :class:`~skgen.preprocessing.TableEncoder` ends with one
one-hot block per categorical column.  A network models such a block with a
vector of logits: the VAE's decoder gives each block a categorical
likelihood, the GAN's generator a relaxed one-hot output.  These helpers
work on all blocks at once, given their sizes.

torch's own ``gumbel_softmax`` draws from the global random state; skgen
draws every random number from a private generator, so the relaxation is
written here.
"""

import torch

__all__ = [
    "block_log_softmax",
    "categorical_log_prob",
    "gumbel_softmax_blocks",
    "sample_blocks",
]


def _blocks(tensor, block_sizes):
    return torch.split(tensor, list(block_sizes), dim=-1)


def block_log_softmax(logits, block_sizes):
    """Log-probabilities of each block's levels: a log-softmax per block.

    Parameters
    ----------
    logits : tensor of shape (..., sum(block_sizes))
    block_sizes : sequence of int

    Returns
    -------
    log_proba : tensor shaped like ``logits``
    """
    return torch.cat(
        [torch.log_softmax(block, dim=-1) for block in _blocks(logits, block_sizes)],
        dim=-1,
    )


def categorical_log_prob(logits, onehot, block_sizes):
    """``sum over blocks of log p(observed level)``, per row.

    A block of zeros (a missing or unseen category) adds nothing: the
    probability of the other blocks is then their marginal.

    Parameters
    ----------
    logits : tensor of shape (..., n, sum(block_sizes))
    onehot : tensor of shape (n, sum(block_sizes))
    block_sizes : sequence of int

    Returns
    -------
    log_prob : tensor of shape (..., n)
    """
    return (block_log_softmax(logits, block_sizes) * onehot).sum(-1)


def gumbel_softmax_blocks(logits, block_sizes, tau, generator):
    """Relaxed one-hot draws of each block (Gumbel-softmax), differentiable.

    ``softmax((logits + g) / tau)`` per block with ``g`` standard Gumbel
    noise drawn from ``generator``: as ``tau`` falls the draws tend to
    one-hot samples of the blocks' categorical distributions.
    """
    u = torch.rand(
        logits.shape, generator=generator, device=logits.device, dtype=logits.dtype
    )
    tiny = torch.finfo(logits.dtype).tiny
    exponential = -torch.log(u.clamp(min=tiny))
    gumbel = -torch.log(exponential.clamp(min=tiny))
    noisy = (logits + gumbel) / tau
    return torch.cat(
        [torch.softmax(block, dim=-1) for block in _blocks(noisy, block_sizes)],
        dim=-1,
    )


def sample_blocks(logits, block_sizes, generator):
    """Exact one-hot draws of each block's categorical distribution."""
    parts = []
    for block in _blocks(logits, block_sizes):
        levels = torch.multinomial(
            torch.softmax(block.reshape(-1, block.shape[-1]), dim=-1),
            1,
            generator=generator,
        )
        onehot = torch.zeros_like(block.reshape(-1, block.shape[-1]))
        onehot.scatter_(1, levels, 1.0)
        parts.append(onehot.reshape(block.shape))
    return torch.cat(parts, dim=-1)
