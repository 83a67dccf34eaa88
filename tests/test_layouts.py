"""Every public method accepts every layout that ``check_array`` accepts.

Negative strides, Fortran order, non-contiguous slices, read-only memmaps,
float16, integer and boolean dtypes, pandas DataFrames and lists must give
the same results as the C-contiguous float64 copy of the same values.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from skgen import GAN, VAE, DensityOutlierDetector, GaussianMixture, TabularMixture

pd = pytest.importorskip("pandas")

N_FEATURES = 3


def _training_data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(200, N_FEATURES)) * [1.0, 2.0, 0.5] + [0.0, 3.0, -1.0]


def _estimators():
    small = dict(random_state=0)
    return {
        "GaussianMixture": GaussianMixture(3, **small),
        "DensityOutlierDetector": DensityOutlierDetector(),
        "TabularMixture": TabularMixture(**small),
        "VAE": VAE(max_epochs=3, n_importance_samples=8, **small),
        "GAN": GAN(
            generator_hidden_layer_sizes=(16,),
            discriminator_hidden_layer_sizes=(16,),
            max_steps=20,
            **small,
        ),
    }


# Every public method that takes X, per estimator.
METHODS = {
    "GaussianMixture": ["score_samples", "score", "predict", "predict_proba", "bic"],
    "DensityOutlierDetector": [
        "score_samples", "decision_function", "predict",
    ],
    "TabularMixture": ["score_samples", "score", "predict", "predict_proba", "bic"],
    "VAE": [
        "score_samples", "score", "transform", "decision_function", "predict",
    ],
    "GAN": ["score_samples", "decision_function", "predict"],
}


@pytest.fixture(scope="module")
def fitted():
    X = _training_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {name: est.fit(X) for name, est in _estimators().items()}


@pytest.fixture(scope="module")
def memmap_file(tmp_path_factory):
    return tmp_path_factory.mktemp("layouts") / "X.dat"


def _layout(values, kind, memmap_path):
    """``values`` (a C-contiguous float64 array) in the layout ``kind``."""
    if kind == "negative_strides":
        return np.ascontiguousarray(values[::-1])[::-1]
    if kind == "fortran":
        return np.asfortranarray(values)
    if kind == "column_slice":
        wide = np.repeat(values, 2, axis=1)  # every other column: a view
        return wide[:, ::2]
    if kind == "read_only_memmap":
        writable = np.memmap(memmap_path, dtype=values.dtype, mode="w+",
                             shape=values.shape)
        writable[:] = values
        writable.flush()
        del writable
        return np.memmap(memmap_path, dtype=values.dtype, mode="r",
                         shape=values.shape)
    if kind == "float16":
        return values.astype(np.float16)
    if kind == "int":
        return np.round(values).astype(np.int64)
    if kind == "bool":
        return values > 0
    if kind == "dataframe":
        return pd.DataFrame(values)
    if kind == "list":
        return values.tolist()
    raise ValueError(kind)


LAYOUTS = [
    "negative_strides", "fortran", "column_slice", "read_only_memmap",
    "float16", "int", "bool", "dataframe", "list",
]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    name=st.sampled_from(sorted(METHODS)),
    kind=st.sampled_from(LAYOUTS),
    seed=st.integers(0, 2**16),
    n_rows=st.integers(1, 12),
)
def test_every_layout_gives_the_results_of_the_c_float64_copy(
    fitted, memmap_file, name, kind, seed, n_rows
):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n_rows, N_FEATURES)) * 2.0
    X = _layout(values, kind, memmap_file)
    # The same values, as check_array would see them, in the plain layout.
    reference = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    if kind != "float16":
        assert np.array_equal(reference, np.asarray(X, dtype=np.float64))
    estimator = fitted[name]
    for method in METHODS[name]:
        got = getattr(estimator, method)(X)
        expected = getattr(estimator, method)(reference)
        assert np.all(np.isfinite(np.asarray(got, dtype=np.float64)))
        assert_allclose(got, expected, rtol=1e-12, atol=0, err_msg=method)


@pytest.mark.parametrize("kind", ["negative_strides", "fortran", "int", "list"])
def test_mixture_fits_any_layout_like_its_c_float64_copy(kind, memmap_file):
    values = np.round(_training_data() * 4)  # integer-valued: "int" is exact
    X = _layout(values, kind, memmap_file)
    reference = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    a = GaussianMixture(3, random_state=0).fit(X)
    b = GaussianMixture(3, random_state=0).fit(reference)
    assert_allclose(a.means_, b.means_, rtol=1e-12)
    assert_allclose(a.lower_bounds_, b.lower_bounds_, rtol=1e-12)


def test_dataframe_feature_names_are_checked(fitted):
    X = pd.DataFrame(_training_data(), columns=["a", "b", "c"])
    gm = GaussianMixture(2, random_state=0).fit(X)
    assert list(gm.feature_names_in_) == ["a", "b", "c"]
    assert_allclose(gm.score_samples(X), gm.score_samples(X.to_numpy()))
    with pytest.raises(ValueError, match="feature names"):
        gm.score_samples(X[["b", "a", "c"]])
