"""The fit driver that GaussianMixture and TabularMixture share (BaseMixture)."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from skgen import GaussianMixture, TabularMixture
from skgen.mixture._base import BaseMixture


class _Toy(BaseMixture):
    """EM on a number: the bound of ``p`` is ``-(p - top)**2``, and each
    M-step halves the distance to ``top``; ``top`` depends on the start,
    so that starts end at different bounds."""

    def __init__(self, max_iter=100, tol=1e-9, verbose=0, verbose_interval=1):
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.verbose_interval = verbose_interval


def _steps(tops):
    def e_step(params):
        start, p = params
        return params, -(p - tops[start]) ** 2 - abs(tops[start])

    def m_step(state):
        start, p = state
        return start, p + (tops[start] - p) / 2

    return e_step, m_step


def test_the_start_with_the_largest_final_bound_wins():
    tops = {0: 3.0, 1: 0.5, 2: -2.0}
    run = _Toy()._em_from_starts(*_steps(tops), [(s, 0.0) for s in tops])
    params, bounds, n_iter, converged = run
    assert params[0] == 1 and converged
    # the winner's bounds rise to its own final bound, -|top|
    assert bounds[-1] == pytest.approx(-0.5, abs=1e-4)
    assert all(b2 >= b1 for b1, b2 in zip(bounds, bounds[1:], strict=False))
    assert n_iter == len(bounds)


def test_ties_keep_the_first_start_and_starts_are_drawn_lazily():
    drawn = []

    def starts():
        for s in (0, 1):
            drawn.append(s)
            yield (s, 0.0)

    toy = _Toy()
    e_step, m_step = _steps({0: 1.0, 1: -1.0})
    # equal final bounds (-1): the first start is kept
    assert toy._em_from_starts(e_step, m_step, starts())[0][0] == 0
    assert drawn == [0, 1]


def test_max_iter_zero_returns_the_last_start_unchanged():
    toy = _Toy(max_iter=0)
    run = toy._em_from_starts(*_steps({0: 1.0, 1: 2.0}), [(0, 0.5), (1, 0.25)])
    assert run == ((1, 0.25), [], 0, False)
    toy._store_em_run(run)
    assert toy.lower_bound_ == -np.inf and toy.n_iter_ == 0


def test_a_run_that_does_not_converge_warns_once_stored():
    toy = _Toy(max_iter=2, tol=0.0)
    run = toy._em_from_starts(*_steps({0: 4.0}), [(0, 0.0)])
    assert not run[3] and run[2] == 2
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        toy._store_em_run(run)
    assert toy.lower_bounds_ == run[1] and toy.lower_bound_ == run[1][-1]


def test_verbose_counts_starts_and_iterations(capsys):
    toy = _Toy(verbose=2, verbose_interval=2, max_iter=6, tol=0.0)
    toy._em_from_starts(*_steps({0: 1.0, 1: 2.0}), [(0, 0.0), (1, 0.0)])
    out = capsys.readouterr().out
    assert out.count("Initialization did not converge") == 2
    assert re.findall(r"Iteration (\d+)", out) == ["2", "4", "6"] * 2


def _table(n=600, seed=0):
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], n)
    x = rng.normal(np.select([group == "a", group == "b"], [-4.0, 0.0], 5.0), 1.0)
    return pd.DataFrame({"x": x, "y": x + rng.normal(0, 0.5, n), "g": group})


def test_tabular_mixture_runs_n_init_starts_and_keeps_the_best(capsys):
    df = _table()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one = TabularMixture(6, random_state=0, max_iter=30).fit(df)
        many = TabularMixture(6, n_init=4, random_state=0, max_iter=30,
                              verbose=1).fit(df)
    out = capsys.readouterr().out
    assert [int(i) for i in re.findall(r"Initialization (\d+)\n", out)] == [0, 1, 2, 3]
    # the first of the four starts is the single run's start (same draws)
    assert many.lower_bound_ >= one.lower_bound_ - 1e-12
    assert many.lower_bounds_[-1] == many.lower_bound_


@pytest.mark.parametrize("model", [
    GaussianMixture(3, max_iter=1, tol=0.0, random_state=0),
    TabularMixture(3, max_iter=1, tol=0.0, random_state=0),
])
def test_both_mixtures_warn_alike_when_em_stops_early(model):
    X = _table()[["x", "y"]].to_numpy()
    with pytest.warns(ConvergenceWarning, match="Best performing initialization"):
        model.fit(X)
    assert model.n_iter_ == 1 and not model.converged_
    assert len(model.lower_bounds_) == 1
