"""TabularMixture.partial_fit: stepwise EM over batches of a table."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skgen import TabularMixture


def _table(n, seed=0, gaps=0.1):
    rng = np.random.default_rng(seed)
    c = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    centre = np.select([c == "a", c == "b"], [0.0, 4.0], -3.0)
    spread = np.select([c == "a", c == "b"], [1.0, 0.5], 2.0)
    x = rng.normal(centre, spread)
    y = 2.0 * rng.normal(size=n) + np.where(c == "b", 3.0, 0.0)
    X = pd.DataFrame({"c": pd.Categorical(c), "x": x, "y": y})
    X.loc[rng.random(n) < gaps, "x"] = np.nan
    return X


def _stream(model, X, batch):
    for start in range(0, len(X), batch):
        model.partial_fit(X.iloc[start : start + batch])
    return model


def test_a_stream_of_batches_reaches_the_fit_on_all_rows():
    X, test = _table(6000), _table(2000, seed=1)
    params = dict(n_components=3, numeric_transform="standard", random_state=0)
    full = TabularMixture(**params).fit(X)
    first_only = TabularMixture(**params).fit(X.iloc[:100])
    one = TabularMixture(**{**params, "n_components": 1}).fit(X)
    stream = _stream(TabularMixture(**params), X, 100)
    assert stream.n_iter_ == 60 and not stream.converged_
    assert len(stream.lower_bounds_) == 60
    # one pass approaches the fit on all rows, far closer than the gaps
    # between the fits on all rows, on the first batch, with one component
    assert full.score(test) - one.score(test) > 1.0
    assert full.score(test) - first_only.score(test) > 0.04
    assert stream.score(test) == pytest.approx(full.score(test), abs=0.01)


def test_a_fitted_mixture_is_a_fixed_point_of_its_own_data():
    # EM's solution is a fixed point of the E- and M-steps, so stepwise EM
    # that blends the statistics of the same rows stays there.
    X = _table(3000)
    fitted = TabularMixture(3, tol=1e-10, max_iter=1000, random_state=0).fit(X)
    before = (fitted.weights_.copy(), fitted.means_.copy(), fitted.variances_.copy(),
              [p.copy() for p in fitted.category_probas_])
    for _ in range(3):
        fitted.partial_fit(X)
    assert fitted.n_iter_ == 3
    assert_allclose(fitted.weights_, before[0], atol=1e-4)
    assert_allclose(fitted.means_, before[1], atol=1e-4)
    assert_allclose(fitted.variances_, before[2], rtol=1e-3)
    for after, then in zip(fitted.category_probas_, before[3], strict=True):
        assert_allclose(after, then, atol=1e-4)
    # fit forgets the stream: the next batch is the first step again
    fitted.fit(X).partial_fit(X)
    assert fitted.n_iter_ == 1


def test_weights_in_a_batch_equal_repeated_rows():
    X = _table(400, gaps=0.0)
    w = np.random.default_rng(0).integers(0, 3, size=len(X))
    repeated = X.loc[X.index.repeat(w)].reset_index(drop=True)
    params = dict(n_components=2, numeric_transform="standard", random_state=0)
    weighted = TabularMixture(**params).partial_fit(X, sample_weight=w)
    copies = TabularMixture(**params).partial_fit(repeated)
    weighted.partial_fit(X.iloc[:100])
    copies.partial_fit(X.iloc[:100])
    assert_allclose(weighted.weights_, copies.weights_, rtol=1e-8)
    assert_allclose(weighted.means_, copies.means_, rtol=1e-8, atol=1e-10)


def test_same_random_state_same_bits_and_gaps_are_sampled():
    X = _table(2000)
    one = _stream(TabularMixture(2, random_state=3), X, 400)
    two = _stream(TabularMixture(2, random_state=3), X, 400)
    assert_array_equal(one.means_, two.means_)
    assert_array_equal(one.lower_bounds_, two.lower_bounds_)
    drawn = one.sample(4000, random_state=0)
    # the gap model comes from the first batch: about its 10% share
    assert drawn["x"].isna().mean() == pytest.approx(
        X.iloc[:400]["x"].isna().mean(), abs=0.03)
    assert drawn["c"].notna().all()


def test_automatic_components_are_chosen_on_the_first_batch():
    X = _table(3000)
    first = X.iloc[:1000]
    stream = TabularMixture(random_state=0).partial_fit(first)
    chosen = TabularMixture(random_state=0).fit(first)
    assert stream.n_components_ == chosen.n_components_ > 1
    assert_array_equal(stream.means_, chosen.means_)
    assert (stream.n_iter_, stream.converged_) == (1, False)
    stream.partial_fit(X.iloc[1000:2000])
    assert stream.n_iter_ == 2 and len(stream.lower_bounds_) == 2
    assert stream.n_components_ == chosen.n_components_


def test_bad_batches_are_clear_errors():
    X = _table(1000)
    with pytest.raises(ValueError, match="at least 3"):
        TabularMixture(3).partial_fit(X.iloc[:2])
    model = TabularMixture(2, random_state=0).partial_fit(X.iloc[:500])
    new_level = X.iloc[500:600].copy()
    new_level["c"] = pd.Categorical(["d"] * 100)
    with pytest.raises(ValueError, match="'c'.*first batch"):
        model.partial_fit(new_level)
    with pytest.raises(ValueError):
        model.partial_fit(X.iloc[500:600][["x", "c"]])
    empty = X.iloc[500:510].copy()
    empty.loc[:, :] = np.nan
    with pytest.raises(ValueError, match="no observed entry"):
        model.partial_fit(empty)
    assert model.n_iter_ == 1  # the refused batches left the model as it was
    da = pytest.importorskip("dask.dataframe")
    with pytest.raises(TypeError, match="one at a time"):
        model.partial_fit(da.from_pandas(X, npartitions=2))
