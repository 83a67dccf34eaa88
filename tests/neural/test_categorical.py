"""Categorical blocks of the neural models: probabilities and draws."""

import numpy as np
import torch
from scipy.special import log_softmax

from skgen.neural._categorical import (
    block_log_softmax,
    categorical_log_prob,
    gumbel_softmax_blocks,
    sample_blocks,
)

SIZES = (3, 2, 4)


def _logits(n=5, seed=0):
    rng = np.random.default_rng(seed)
    return torch.as_tensor(rng.normal(size=(n, sum(SIZES))))


def test_block_log_softmax_normalises_each_block_as_scipy():
    logits = _logits()
    out = block_log_softmax(logits, SIZES).numpy()
    start = 0
    for size in SIZES:
        block = logits.numpy()[:, start : start + size]
        np.testing.assert_allclose(out[:, start : start + size],
                                   log_softmax(block, axis=1), rtol=1e-12)
        start += size


def test_log_prob_sums_observed_levels_and_skips_empty_blocks():
    logits = _logits(2)
    onehot = torch.zeros(2, sum(SIZES), dtype=torch.float64)
    onehot[0, [1, 3, 8]] = 1.0  # one level in each block
    onehot[1, [0, 6]] = 1.0  # the second block missing
    log_p = categorical_log_prob(logits, onehot, SIZES).numpy()
    ref = block_log_softmax(logits, SIZES).numpy()
    np.testing.assert_allclose(log_p, [ref[0, [1, 3, 8]].sum(), ref[1, [0, 6]].sum()])


def test_exact_draws_follow_the_probabilities_and_the_generator():
    logits = _logits(1).expand(20000, -1)
    draws = sample_blocks(logits, SIZES, torch.Generator().manual_seed(0))
    assert torch.all(draws.sum(1) == len(SIZES))
    expected = block_log_softmax(logits[:1], SIZES).exp().numpy()[0]
    np.testing.assert_allclose(draws.mean(0).numpy(), expected, atol=0.015)
    again = sample_blocks(logits, SIZES, torch.Generator().manual_seed(0))
    assert torch.equal(draws, again)


def test_gumbel_softmax_tends_to_the_categorical_and_leaves_global_state():
    state = torch.get_rng_state()
    logits = _logits(1).expand(20000, -1).clone().requires_grad_(True)
    relaxed = gumbel_softmax_blocks(logits, SIZES, 0.1,
                                    torch.Generator().manual_seed(1))
    assert torch.equal(state, torch.get_rng_state())
    start = 0
    for size in SIZES:
        block = relaxed[:, start : start + size]
        np.testing.assert_allclose(block.sum(1).detach().numpy(), 1.0, rtol=1e-12)
        start += size
    expected = block_log_softmax(logits[:1].detach(), SIZES).exp().numpy()[0]
    # at a low temperature the argmax of each block is an exact draw
    hard = sample_blocks(torch.log(relaxed.detach()), SIZES, None) * 0
    start = 0
    for size in SIZES:
        winners = relaxed[:, start : start + size].argmax(1)
        hard[torch.arange(len(hard)), start + winners] = 1.0
        start += size
    np.testing.assert_allclose(hard.mean(0).numpy(), expected, atol=0.015)
    relaxed[:, 0].sum().backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
