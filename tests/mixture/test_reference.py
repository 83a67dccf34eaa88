"""The mixtures reproduce the numbers recorded before the redesign.

``reference/mixtures.npz`` was written by ``reference/make_reference.py``
with the code of commit 27cf342, before any code moved: fitted parameters, scores,
responsibilities and seeded samples of ``GaussianMixture`` (four covariance
types, complete and with gaps) and ``TabularMixture`` (complete and with
gaps).  Moving code must change none of them beyond rounding; the chunked
E-step's order of summation may move the last bits, hence 1e-8.
"""

import pathlib
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
import torch

from skgen import GaussianMixture, TabularMixture

REFERENCE = np.load(pathlib.Path(__file__).parent / "reference" / "mixtures.npz")
RTOL = 1e-8
# Seeded samples come from numpy's and torch's generators: they are compared
# only under the library versions that recorded them (the floors CI also
# tests draw differently); the fitted numbers are compared everywhere.
SAME_GENERATORS = list(REFERENCE["versions"]) == [
    np.__version__, torch.__version__, sklearn.__version__
]


def _close(actual, name):
    expected = REFERENCE[name]
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=RTOL, err_msg=name)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("data", ["complete", "gaps"])
def test_gaussian_mixture_keeps_its_numbers(covariance_type, data):
    X = REFERENCE["X"] if data == "complete" else REFERENCE["X_gaps"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    key = f"gm_{covariance_type}_{data}"
    assert gm.n_iter_ == REFERENCE[f"{key}_n_iter"]
    _close(gm.weights_, f"{key}_weights")
    _close(gm.means_, f"{key}_means")
    _close(gm.covariances_, f"{key}_covariances")
    _close(gm.lower_bound_, f"{key}_lower_bound")
    _close(gm.score_samples(REFERENCE["X_test"]), f"{key}_scores")
    _close(gm.predict_proba(REFERENCE["X_test"]), f"{key}_proba")
    if SAME_GENERATORS:
        _close(gm.sample(20, random_state=0)[0], f"{key}_sample")


def _table(y):
    return pd.DataFrame({
        "c": pd.Categorical(REFERENCE["table_c"]),
        "x": REFERENCE["table_x"],
        "y": REFERENCE[f"table_{y}"],
        "k": REFERENCE["table_k"],
    })


@pytest.mark.parametrize("data", ["complete", "gaps"])
def test_tabular_mixture_keeps_its_numbers(data):
    table = _table("y" if data == "complete" else "y_gaps")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Since the model draws gaps where the table had some, the recorded
        # samples (complete rows) are those of sample_gaps=False; the gaps
        # are drawn after the rows, so the rows themselves do not change.
        tm = TabularMixture(random_state=0, sample_gaps=False).fit(table)
    key = f"tm_{data}"
    test = _table("y").iloc[:100]
    assert tm.n_components_ == REFERENCE[f"{key}_n_components"]
    _close(tm.weights_, f"{key}_weights")
    _close(tm.means_, f"{key}_means")
    _close(tm.variances_, f"{key}_variances")
    _close(tm.lower_bound_, f"{key}_lower_bound")
    _close(tm.score_samples(test), f"{key}_scores")
    _close(tm.predict_proba(test), f"{key}_proba")
    if SAME_GENERATORS:
        sample = tm.sample(50, random_state=0)
        _close(sample[["x", "y", "k"]].to_numpy(float), f"{key}_sample_numeric")
        np.testing.assert_array_equal(
            sample["c"].to_numpy(dtype=str), REFERENCE[f"{key}_sample_c"]
        )
