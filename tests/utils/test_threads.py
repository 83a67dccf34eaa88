"""The thread policy: chunks shared among one-thread workers, settings restored."""

import threading
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from skgen import (
    GAN,
    VAE,
    DensityOutlierDetector,
    GaussianMixture,
    GenerativeImputer,
    TabularMixture,
)
from skgen.utils._threads import map_chunks, torch_work


@pytest.fixture(params=[1, 2, 3])
def user_threads(request):
    """A user's explicit torch setting, put back after the test."""
    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before)


def _new_thread_count():
    """The torch thread count a thread started now begins with."""
    seen = []
    thread = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    return seen[0]


def _state():
    pools = sorted((p["internal_api"], p["num_threads"]) for p in threadpool_info())
    return (torch.get_num_threads(), torch.get_num_interop_threads(),
            _new_thread_count(), pools)


def test_map_chunks_keeps_order_and_runs_each_item_at_one_torch_thread(user_threads):
    seen = []

    def func(item):
        seen.append((threading.get_ident(), torch.get_num_threads()))
        return item * item

    assert map_chunks(func, range(40)) == [i * i for i in range(40)]
    assert {threads for _, threads in seen} == {1}
    idents = {ident for ident, _ in seen}
    # The user's count bounds the workers: one thread means this thread alone.
    if user_threads == 1:
        assert idents == {threading.get_ident()}
    assert len(idents) <= user_threads
    assert torch.get_num_threads() == user_threads
    assert _new_thread_count() == user_threads


def test_map_chunks_raises_what_an_item_raises_and_restores(user_threads):
    def func(item):
        if item == 7:
            raise ValueError("item seven")
        return item

    with pytest.raises(ValueError, match="item seven"):
        map_chunks(func, range(20))
    assert torch.get_num_threads() == user_threads
    assert _new_thread_count() == user_threads


def test_torch_work_fixes_the_workers_on_entry_and_restores():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        @torch_work
        def work():
            # The caller runs at one thread; its chunks still get two workers.
            inner = torch.get_num_threads()
            idents = map_chunks(lambda _: threading.get_ident(), range(64))
            return inner, len(set(idents))

        inner, _ = work()
        assert inner == 1
        assert torch.get_num_threads() == 2
        assert _new_thread_count() == 2
    finally:
        torch.set_num_threads(before)


def _table(rng, n=300):
    return pd.DataFrame({
        "x": rng.normal(size=n),
        "y": rng.normal(size=n),
        "c": pd.Categorical(rng.choice(["a", "b", "c"], n)),
    })


def _calls(rng):
    """Each estimator's fit and inference, at small sizes."""
    X = rng.normal(size=(400, 3))
    X_gaps = np.where(rng.random(X.shape) < 0.2, np.nan, X)
    X_gaps[np.isnan(X_gaps).all(1), 0] = 0.0
    table = _table(rng)
    fast = {"max_epochs": 3}
    gm = GaussianMixture(3, random_state=0)
    yield "GaussianMixture", lambda: (gm.fit(X), gm.score_samples(X), gm.predict(X),
                                      gm.sample(50, random_state=0),
                                      gm.partial_fit(X), gm.fit(X_gaps),
                                      gm.impute(X_gaps))
    tm = TabularMixture(random_state=0)
    yield "TabularMixture", lambda: (tm.fit(table), tm.score_samples(table),
                                     tm.sample(50, random_state=0))
    vae = VAE(2, random_state=0, **fast)
    yield "VAE", lambda: (vae.fit(X), vae.score_samples(X), vae.sample(5))
    gan = GAN(max_steps=60, random_state=0)
    yield "GAN", lambda: (gan.fit(X), gan.score_samples(X), gan.sample(5))
    yield "DensityOutlierDetector", lambda: DensityOutlierDetector().fit(X).predict(X)
    yield "GenerativeImputer", lambda: GenerativeImputer(
        random_state=0).fit_transform(X_gaps)


@pytest.mark.parametrize("blas_limit", [None, 1])
def test_every_estimator_leaves_the_users_thread_settings_as_they_were(
    user_threads, blas_limit
):
    rng = np.random.default_rng(0)
    with threadpool_limits(blas_limit), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, call in _calls(rng):
            before = _state()
            call()
            assert _state() == before, name


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_gaussian_mixture_gives_the_same_bits_at_any_thread_count(covariance_type):
    # Chunks are computed at one torch thread and summed in order, whatever
    # the number of workers: torch's own intra-op threads would split the
    # reductions differently.
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(size=(20_000, 4)), rng.normal(3, 1, (20_000, 4))])
    before = torch.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            gm = GaussianMixture(4, covariance_type=covariance_type, max_iter=5,
                                 tol=0, random_state=0).fit(X)
            results.append((gm.means_, gm.covariances_, gm.score_samples(X)))
    finally:
        torch.set_num_threads(before)
    for one, two in zip(*results, strict=True):
        np.testing.assert_array_equal(one, two)


def test_small_work_runs_the_blas_and_openmp_pools_at_one_thread_then_restores():
    from skgen.utils._threads import few_threads_for

    def pools():
        return sorted((p["filepath"], p["num_threads"]) for p in threadpool_info())

    before = pools()
    with few_threads_for(1000):
        assert {threads for _, threads in pools()} == {1}
    assert pools() == before
    with few_threads_for(10**8):
        assert pools() == before
    with threadpool_limits(1), few_threads_for(1000):
        pass
    assert pools() == before
