"""Write ``mixtures.npz``: fitted numbers the mixtures must keep through refactors.

Run from the repository root, on a commit whose numbers are the reference::

    python tests/mixture/reference/make_reference.py

(with that commit's skgen first on ``PYTHONPATH`` when it is not the
checkout's own).
The inputs are stored beside the outputs, so the test that reads the file
does not depend on numpy's random streams staying the same.
"""

import pathlib
import warnings

import numpy as np
import pandas as pd
import sklearn
import torch

from skgen import GaussianMixture, TabularMixture

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
HERE = pathlib.Path(__file__).parent


def gaussian_data():
    rng = np.random.default_rng(0)
    means = rng.normal(scale=3.0, size=(3, 4))
    labels = rng.integers(3, size=600)
    A = rng.normal(size=(3, 4, 4))
    noise = np.einsum("nij,nj->ni", A[labels], rng.normal(size=(600, 4)))
    X = means[labels] + 0.5 * noise
    X_test = X[:100] + rng.normal(scale=0.3, size=(100, 4))
    gaps = X.copy()
    gaps[rng.random(gaps.shape) < 0.15] = np.nan
    gaps[rng.random(600) < 0.5, 0] = np.nan  # some rows keep one value only
    gaps[np.isnan(gaps).all(1), 1] = 0.5
    return X, gaps, X_test


def table_data():
    rng = np.random.default_rng(1)
    n = 800
    c = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    x = rng.normal(size=n) + (c == "b") * 3.0
    y = 0.5 * x + rng.normal(scale=0.5, size=n)
    k = rng.integers(0, 5, size=n)
    y_gaps = y.copy()
    y_gaps[rng.random(n) < 0.2] = np.nan
    return {"c": c, "x": x, "y": y, "y_gaps": y_gaps, "k": k}


def frame(columns, y="y"):
    return pd.DataFrame({
        "c": pd.Categorical(columns["c"]),
        "x": columns["x"],
        "y": columns[y],
        "k": columns["k"],
    })


def library_versions():
    """The versions whose random generators the seeded samples come from."""
    return np.array([np.__version__, torch.__version__, sklearn.__version__])


def main():
    out = {"versions": library_versions()}
    X, gaps, X_test = gaussian_data()
    out.update(X=X, X_gaps=gaps, X_test=X_test)
    for ct in COVARIANCE_TYPES:
        for name, data in (("complete", X), ("gaps", gaps)):
            gm = GaussianMixture(3, covariance_type=ct, random_state=0).fit(data)
            key = f"gm_{ct}_{name}"
            out[f"{key}_weights"] = gm.weights_
            out[f"{key}_means"] = gm.means_
            out[f"{key}_covariances"] = gm.covariances_
            out[f"{key}_lower_bound"] = np.array(gm.lower_bound_)
            out[f"{key}_n_iter"] = np.array(gm.n_iter_)
            out[f"{key}_scores"] = gm.score_samples(X_test)
            out[f"{key}_proba"] = gm.predict_proba(X_test)
            out[f"{key}_sample"] = gm.sample(20, random_state=0)[0]
    columns = table_data()
    for key, value in columns.items():
        out[f"table_{key}"] = value
    for name, y in (("complete", "y"), ("gaps", "y_gaps")):
        tm = TabularMixture(random_state=0).fit(frame(columns, y))
        test = frame(columns).iloc[:100]
        key = f"tm_{name}"
        out[f"{key}_n_components"] = np.array(tm.n_components_)
        out[f"{key}_weights"] = tm.weights_
        out[f"{key}_means"] = tm.means_
        out[f"{key}_variances"] = tm.variances_
        out[f"{key}_lower_bound"] = np.array(tm.lower_bound_)
        out[f"{key}_scores"] = tm.score_samples(test)
        out[f"{key}_proba"] = tm.predict_proba(test)
        sample = tm.sample(50, random_state=0)
        sample = sample[0] if isinstance(sample, tuple) else sample
        out[f"{key}_sample_numeric"] = sample[["x", "y", "k"]].to_numpy(float)
        out[f"{key}_sample_c"] = sample["c"].to_numpy(dtype=str)
    np.savez_compressed(HERE / "mixtures.npz", **out)


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        main()
